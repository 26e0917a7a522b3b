package io.rebundle.jobs.io;

import io.rebundle.codec.io.CoalescingRangeReader;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.Location;
import io.rebundle.codec.io.OutputFile;
import io.rebundle.codec.io.StorageFileNotFoundException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.MultipartUploader;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.util.functional.FutureIO;

/**
 * {@link FileIO} over any Hadoop FileSystem on the classpath: {@code hdfs://}, {@code gs://},
 * {@code s3a://}, {@code file://}. Serializable: the Hadoop {@link Configuration} travels with it
 * to executors. Reads are ranged and coalesced ({@link HadoopInputFile}); errors are translated in
 * one place ({@link HadoopErrors}).
 */
public final class HadoopFileIO implements FileIO {
  private static final long serialVersionUID = 1L;

  /** Hadoop setting for the size of one coalesced read, in bytes (default 8 MiB). */
  public static final String READ_WINDOW_KEY = "rebundle.read.window";

  /** Schemes whose rename is one atomic metadata operation. */
  private static final Set<String> ATOMIC_RENAME = Set.of("hdfs", "viewfs", "file", "o3fs", "ofs");

  /** Buffer of whole-file copies. */
  private static final int COPY_BUFFER = 4 << 20;

  private transient Configuration conf;

  public HadoopFileIO(Configuration conf) {
    this.conf = conf;
  }

  public Configuration conf() {
    return conf;
  }

  private void writeObject(ObjectOutputStream out) throws IOException {
    out.defaultWriteObject();
    conf.write(out);
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    conf = new Configuration(false);
    conf.readFields(in);
  }

  int readWindow() {
    long w = conf.getLongBytes(READ_WINDOW_KEY, CoalescingRangeReader.DEFAULT_WINDOW);
    if (w < 64 << 10 || w > 1 << 30) {
      throw new IllegalArgumentException(
          "Invalid " + READ_WINDOW_KEY + ": " + w + " (expected 64k..1g)");
    }
    return (int) w;
  }

  /**
   * The file system of {@code p}; a missing connector or login becomes one clear storage error.
   * Local files go to the raw local file system: Hadoop's checksummed one would add a {@code .crc}
   * file beside every output, which TensorFlow and other tools do not expect.
   */
  FileSystem fs(Path p, String location) {
    try {
      FileSystem fs = p.getFileSystem(conf);
      return fs instanceof org.apache.hadoop.fs.LocalFileSystem local
          ? local.getRawFileSystem()
          : fs;
    } catch (IOException | RuntimeException | LinkageError e) {
      throw HadoopErrors.initFailure(location, e, conf);
    }
  }

  private FileSystem fs(String location) {
    return fs(new Path(location), location);
  }

  @Override
  public InputFile newInputFile(String location) {
    return new HadoopInputFile(this, location);
  }

  @Override
  public OutputFile newOutputFile(String location) {
    return new HadoopOutputFile(this, location);
  }

  @Override
  public boolean exists(String location) {
    try {
      return fs(location).exists(new Path(location));
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("stat", location, e);
    }
  }

  @Override
  public boolean isDirectory(String location) {
    try {
      return fs(location).getFileStatus(new Path(location)).isDirectory();
    } catch (FileNotFoundException e) {
      return false;
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("stat", location, e);
    }
  }

  @Override
  public List<String> list(String directory) {
    Path p = new Path(directory);
    List<String> names = new ArrayList<>();
    try {
      FileSystem fs = fs(directory);
      for (FileStatus s : fs.listStatus(p)) {
        names.add(s.getPath().getName());
      }
    } catch (FileNotFoundException e) {
      return names;
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("list", directory, e);
    }
    // listStatus of a file lists the file itself: a file is not a directory with entries.
    if (names.size() == 1 && !isDirectory(directory)) {
      return new ArrayList<>();
    }
    names.sort(null);
    return names;
  }

  @Override
  public void rename(String source, String target) {
    Path s = new Path(source);
    Path t = new Path(target);
    try {
      FileSystem fs = fs(source);
      if (fs.exists(t)) {
        throw new UncheckedIOException(
            "Cannot rename " + source + " to " + target + ": target exists",
            new FileAlreadyExistsException(target));
      }
      if (!fs.rename(s, t)) {
        throw new UncheckedIOException(
            "Cannot rename " + source + " to " + target + ": the file system refused",
            new IOException("rename failed"));
      }
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("rename " + source + " to", target, e);
    }
  }

  /**
   * HDFS-like stores replace in one rename ({@code Options.Rename.OVERWRITE} through {@link
   * org.apache.hadoop.fs.FileContext}); object stores delete then copy, which no API makes atomic.
   */
  @Override
  public void replace(String source, String target) {
    if (!renameIsAtomic(target)) {
      FileIO.super.replace(source, target);
      return;
    }
    try {
      Path t = new Path(target);
      org.apache.hadoop.fs.FileContext fc =
          org.apache.hadoop.fs.FileContext.getFileContext(fs(target).getUri(), conf);
      fc.rename(new Path(source), t, org.apache.hadoop.fs.Options.Rename.OVERWRITE);
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("rename " + source + " over", target, e);
    }
  }

  @Override
  public boolean delete(String location) {
    try {
      return fs(location).delete(new Path(location), false);
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("delete", location, e);
    }
  }

  @Override
  public void mkdirs(String directory) {
    try {
      fs(directory).mkdirs(new Path(directory));
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("create directory", directory, e);
    }
  }

  /** HDFS (and local, Ozone, viewfs) rename atomically; object stores copy then delete. */
  @Override
  public boolean renameIsAtomic(String location) {
    String scheme = Location.scheme(location);
    if (scheme.isEmpty()) {
      scheme = Location.scheme(FileSystem.getDefaultUri(conf).toString());
    }
    return ATOMIC_RENAME.contains(scheme);
  }

  @Override
  public boolean readsAreRequests(String location) {
    return !Location.scheme(location).equals("file");
  }

  /**
   * Hadoop's multipart-upload API ({@code FileSystem.createMultipartUploader}): on S3A it lists and
   * aborts the uploads under the path. File systems without pending uploads have nothing to abort:
   * 0.
   */
  @Override
  public int abortPendingUploads(String directory) {
    Path p = new Path(directory);
    FileSystem fs = fs(directory);
    try (MultipartUploader uploader = fs.createMultipartUploader(p).build()) {
      Integer n = FutureIO.awaitFuture(uploader.abortUploadsUnderPath(p));
      return n == null || n < 0 ? 0 : n;
    } catch (UnsupportedOperationException e) {
      return 0;
    } catch (IOException | RuntimeException e) {
      if (e.getCause() instanceof UnsupportedOperationException) {
        return 0;
      }
      throw HadoopErrors.translate("abort uploads under", directory, e);
    }
  }

  /**
   * Hadoop's FileSystem API has no server-side copy: HDFS, GCS and S3A all stream the bytes through
   * the calling JVM here (S3A's CopyObject is reachable only through {@code rename}, which would
   * move the source; HDFS's {@code concat} consumes its sources). So this is one sequential
   * whole-file read (read-ahead on) and one write with a large buffer, run in a Spark task per file
   * so the copies run in parallel on the executors. A failed copy aborts its upload, so no partial
   * object appears.
   */
  @Override
  public long copy(String source, String target) {
    Path s = new Path(source);
    Path t = new Path(target);
    FileSystem srcFs = fs(source);
    FileSystem dstFs = fs(target);
    FSDataOutputStream out = null;
    boolean done = false;
    try (FSDataInputStream in =
        FutureIO.awaitFuture(
            srcFs
                .openFile(s)
                .opt("fs.option.openfile.read.policy", "whole-file, sequential")
                .build())) {
      out = dstFs.create(t, false, COPY_BUFFER);
      org.apache.hadoop.io.IOUtils.copyBytes(in, out, COPY_BUFFER, false);
      out.close();
      done = true;
      return dstFs.getFileStatus(t).getLen();
    } catch (FileNotFoundException e) {
      throw new StorageFileNotFoundException(source, e);
    } catch (FileAlreadyExistsException e) {
      throw new UncheckedIOException(
          "Cannot copy " + source + " to " + target + ": target exists", e);
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("copy " + source + " to", target, e);
    } finally {
      if (out != null && !done) {
        discard(new HadoopOutputStream(out), target);
      }
    }
  }
}
