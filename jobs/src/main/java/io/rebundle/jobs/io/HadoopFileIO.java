package io.rebundle.jobs.io;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.StorageFileNotFoundException;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.OutputFile;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.io.RangeReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@link FileIO} over any Hadoop FileSystem on the classpath: {@code hdfs://}, {@code gs://},
 * {@code s3a://}, {@code file://}. Serializable: the Hadoop {@link Configuration} travels with it to
 * executors. Positioned reads use {@link FSDataInputStream#readFully(long, byte[], int, int)}.
 */
public final class HadoopFileIO implements FileIO {
  private static final long serialVersionUID = 1L;

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

  private FileSystem fs(Path p) {
    try {
      return p.getFileSystem(conf);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot access file system of " + p + ": " + e.getMessage(), e);
    }
  }

  @Override
  public InputFile newInputFile(String location) {
    Path p = new Path(location);
    return new InputFile() {
      @Override
      public String location() {
        return location;
      }

      @Override
      public long length() {
        try {
          return fs(p).getFileStatus(p).getLen();
        } catch (FileNotFoundException e) {
          throw new StorageFileNotFoundException(location, e);
        } catch (IOException e) {
          throw new UncheckedIOException("Cannot stat " + location + ": " + e.getMessage(), e);
        }
      }

      @Override
      public boolean exists() {
        try {
          return fs(p).getFileStatus(p).isFile();
        } catch (FileNotFoundException e) {
          return false;
        } catch (IOException e) {
          throw new UncheckedIOException("Cannot stat " + location + ": " + e.getMessage(), e);
        }
      }

      @Override
      public RangeReader open() {
        try {
          FileSystem fs = fs(p);
          long len = fs.getFileStatus(p).getLen();
          return new HadoopReader(location, fs.open(p), len);
        } catch (FileNotFoundException e) {
          throw new StorageFileNotFoundException(location, e);
        } catch (IOException e) {
          throw new UncheckedIOException("Cannot open " + location + ": " + e.getMessage(), e);
        }
      }
    };
  }

  private static final class HadoopReader implements RangeReader {
    private final String location;
    private final FSDataInputStream in;
    private final long length;

    HadoopReader(String location, FSDataInputStream in, long length) {
      this.location = location;
      this.in = in;
      this.length = length;
    }

    @Override
    public String location() {
      return location;
    }

    @Override
    public long length() {
      return length;
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int len) {
      RangeReader.checkRange(location, position, len, length);
      try {
        in.readFully(position, buffer, offset, len);
      } catch (java.io.EOFException e) {
        throw io.rebundle.codec.Errors.pastEnd("bytes", location, null, position, len, length);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read " + location + " at offset " + position + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      try {
        in.close();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot close " + location + ": " + e.getMessage(), e);
      }
    }
  }

  @Override
  public OutputFile newOutputFile(String location) {
    Path p = new Path(location);
    return new OutputFile() {
      @Override
      public String location() {
        return location;
      }

      @Override
      public PositionOutputStream create() {
        return open(false);
      }

      @Override
      public PositionOutputStream createOrOverwrite() {
        return open(true);
      }

      private PositionOutputStream open(boolean overwrite) {
        try {
          return new LocalFileIO.CountingStream(fs(p).create(p, overwrite));
        } catch (FileAlreadyExistsException e) {
          throw new UncheckedIOException("Cannot create " + location + ": it already exists", e);
        } catch (IOException e) {
          throw new UncheckedIOException("Cannot create " + location + ": " + e.getMessage(), e);
        }
      }
    };
  }

  @Override
  public boolean exists(String location) {
    Path p = new Path(location);
    try {
      return fs(p).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot stat " + location + ": " + e.getMessage(), e);
    }
  }

  @Override
  public boolean isDirectory(String location) {
    Path p = new Path(location);
    try {
      return fs(p).getFileStatus(p).isDirectory();
    } catch (FileNotFoundException e) {
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot stat " + location + ": " + e.getMessage(), e);
    }
  }

  @Override
  public List<String> list(String directory) {
    Path p = new Path(directory);
    List<String> names = new ArrayList<>();
    try {
      if (!fs(p).exists(p) || !fs(p).getFileStatus(p).isDirectory()) {
        return names;
      }
      for (FileStatus s : fs(p).listStatus(p)) {
        names.add(s.getPath().getName());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + directory + ": " + e.getMessage(), e);
    }
    names.sort(null);
    return names;
  }

  @Override
  public void rename(String source, String target) {
    Path s = new Path(source);
    Path t = new Path(target);
    try {
      FileSystem fs = fs(s);
      if (fs.exists(t)) {
        throw new UncheckedIOException("Cannot rename " + source + " to " + target + ": target exists",
            new IOException("exists"));
      }
      if (!fs.rename(s, t)) {
        throw new UncheckedIOException("Cannot rename " + source + " to " + target, new IOException("rename failed"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot rename " + source + " to " + target + ": " + e.getMessage(), e);
    }
  }

  @Override
  public boolean delete(String location) {
    Path p = new Path(location);
    try {
      return fs(p).delete(p, false);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + location + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void mkdirs(String directory) {
    Path p = new Path(directory);
    try {
      fs(p).mkdirs(p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create directory " + directory + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String join(String directory, String name) {
    if (directory.isEmpty()) {
      return name;
    }
    return directory.endsWith("/") ? directory + name : directory + "/" + name;
  }

  @Override
  public String parent(String location) {
    Path parent = new Path(location).getParent();
    if (parent == null) {
      return "";
    }
    // Keep the caller's syntax: a location without a scheme gets a parent without one.
    String p = parent.toString();
    return location.contains("://") || !p.contains("://") ? p : new Path(parent.toUri().getPath()).toString();
  }

  /**
   * Hadoop's FileSystem API has no server-side copy: HDFS, GCS and S3A all stream the bytes through
   * the calling JVM here (S3A's CopyObject is reachable only through {@code rename}, which would move
   * the source; HDFS's {@code concat} consumes its sources). So this is FileUtil.copy's generic path,
   * one sequential read and one write with a large buffer, run in a Spark task per file so the
   * copies run in parallel on the executors.
   */
  @Override
  public long copy(String source, String target) {
    Path s = new Path(source);
    Path t = new Path(target);
    FileSystem srcFs = fs(s);
    FileSystem dstFs = fs(t);
    boolean created = false;
    boolean done = false;
    try (FSDataInputStream in = srcFs.open(s)) {
      try (org.apache.hadoop.fs.FSDataOutputStream out = dstFs.create(t, false, COPY_BUFFER)) {
        created = true;
        org.apache.hadoop.io.IOUtils.copyBytes(in, out, COPY_BUFFER, false);
      }
      done = true;
      return dstFs.getFileStatus(t).getLen();
    } catch (FileNotFoundException e) {
      throw new StorageFileNotFoundException(source, e);
    } catch (FileAlreadyExistsException e) {
      throw new UncheckedIOException("Cannot copy " + source + " to " + target + ": target exists", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot copy " + source + " to " + target + ": " + e.getMessage(), e);
    } finally {
      if (created && !done) {
        try {
          dstFs.delete(t, false);
        } catch (IOException ignored) {
          // The failure being propagated matters more than a partial copy left in a staging directory.
        }
      }
    }
  }

  /** Buffer of whole-file copies. */
  private static final int COPY_BUFFER = 4 << 20;

  @Override
  public boolean isAbsolute(String location) {
    return new Path(location).isAbsolute() || location.contains("://");
  }
}
