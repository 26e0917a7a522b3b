package io.rebundle.jobs.audit;

import java.io.IOException;
import java.net.URI;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PositionedReadable;
import org.apache.hadoop.fs.Seekable;

/**
 * The local file system under the scheme {@code countfs://}, counting the bytes read from data
 * files ({@code .data-}) and from everything else. Counters are static: Spark's local executors run
 * in the test's JVM.
 */
public final class CountingFileSystem extends FilterFileSystem {
  public static final AtomicLong DATA_BYTES = new AtomicLong();
  public static final AtomicLong OTHER_BYTES = new AtomicLong();

  public CountingFileSystem() {
    super(new org.apache.hadoop.fs.RawLocalFileSystem());
  }

  @Override
  public void initialize(URI name, Configuration conf) throws IOException {
    fs.initialize(URI.create("file:///"), conf);
    setConf(conf);
  }

  @Override
  public URI getUri() {
    return URI.create("countfs:///");
  }

  @Override
  public String getScheme() {
    return "countfs";
  }

  private static Path local(Path p) {
    return new Path("file", null, p.toUri().getPath());
  }

  private static Path counted(Path p) {
    return new Path("countfs", null, p.toUri().getPath());
  }

  @Override
  public Path makeQualified(Path path) {
    return counted(path.isAbsolute() ? path : new Path(getWorkingDirectory(), path));
  }

  @Override
  public Path getWorkingDirectory() {
    return counted(fs.getWorkingDirectory());
  }

  @Override
  protected void checkPath(Path path) {
    // any countfs path is ours
  }

  @Override
  public FileStatus getFileStatus(Path f) throws IOException {
    FileStatus s = fs.getFileStatus(local(f));
    s.setPath(counted(s.getPath()));
    return s;
  }

  @Override
  public boolean exists(Path f) throws IOException {
    return fs.exists(local(f));
  }

  @Override
  public FileStatus[] listStatus(Path f) throws IOException {
    FileStatus[] all = fs.listStatus(local(f));
    for (FileStatus s : all) {
      s.setPath(counted(s.getPath()));
    }
    return all;
  }

  @Override
  public org.apache.hadoop.fs.RemoteIterator<org.apache.hadoop.fs.LocatedFileStatus>
      listLocatedStatus(Path f) throws IOException {
    java.util.Iterator<FileStatus> it = java.util.Arrays.asList(listStatus(f)).iterator();
    return new org.apache.hadoop.fs.RemoteIterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public org.apache.hadoop.fs.LocatedFileStatus next() throws IOException {
        FileStatus s = it.next();
        org.apache.hadoop.fs.BlockLocation[] blocks =
            s.isFile()
                ? new org.apache.hadoop.fs.BlockLocation[] {
                  new org.apache.hadoop.fs.BlockLocation(
                      new String[] {"localhost:0"}, new String[] {"localhost"}, 0, s.getLen())
                }
                : null;
        return new org.apache.hadoop.fs.LocatedFileStatus(s, blocks);
      }
    };
  }

  @Override
  public FSDataInputStream open(Path f, int bufferSize) throws IOException {
    FSDataInputStream in = fs.open(local(f), bufferSize);
    AtomicLong counter = f.getName().contains(".data-") ? DATA_BYTES : OTHER_BYTES;
    return new FSDataInputStream(new Counting(in, counter));
  }

  /**
   * Hadoop's builder API ({@code openFile(path)...build()}, which the production readers use) goes
   * through here; a FilterFileSystem would hand it to the wrapped file system and skip the
   * counting.
   */
  @Override
  public org.apache.hadoop.fs.FutureDataInputStreamBuilder openFile(Path path) {
    // FilterFileSystem hands the builder to the wrapped file system; build it on this one instead.
    org.apache.hadoop.fs.FutureDataInputStreamBuilder builder =
        createDataInputStreamBuilder(this, path);
    return builder;
  }

  @Override
  protected java.util.concurrent.CompletableFuture<FSDataInputStream> openFileWithOptions(
      Path path, org.apache.hadoop.fs.impl.OpenFileParameters parameters) throws IOException {
    return java.util.concurrent.CompletableFuture.completedFuture(open(path, 4096));
  }

  private static final class Counting extends FSInputStream
      implements Seekable, PositionedReadable {
    private final FSDataInputStream in;
    private final AtomicLong counter;

    Counting(FSDataInputStream in, AtomicLong counter) {
      this.in = in;
      this.counter = counter;
    }

    @Override
    public void seek(long pos) throws IOException {
      in.seek(pos);
    }

    @Override
    public long getPos() throws IOException {
      return in.getPos();
    }

    @Override
    public boolean seekToNewSource(long targetPos) {
      return false;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        counter.incrementAndGet();
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        counter.addAndGet(n);
      }
      return n;
    }

    @Override
    public int read(long position, byte[] buffer, int offset, int length) throws IOException {
      int n = in.read(position, buffer, offset, length);
      if (n > 0) {
        counter.addAndGet(n);
      }
      return n;
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
      in.readFully(position, buffer, offset, length);
      counter.addAndGet(length);
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
