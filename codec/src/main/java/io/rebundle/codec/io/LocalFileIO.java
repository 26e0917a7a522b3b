package io.rebundle.codec.io;

import io.rebundle.codec.LinkNotPossibleException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@link FileIO} on the local file system. Locations are plain paths or {@code file:} URIs. Whole
 * files are copied in the kernel and can be hard-linked ({@link SupportsHardLinks}).
 */
public final class LocalFileIO implements FileIO, SupportsHardLinks {
  private static final long serialVersionUID = 1L;
  private static final int WRITE_BUFFER = 1 << 20;

  static Path path(String location) {
    if (location.startsWith("file://")) {
      return Path.of(location.substring("file://".length()));
    }
    if (location.startsWith("file:")) {
      return Path.of(location.substring("file:".length()));
    }
    return Path.of(location);
  }

  @Override
  public InputFile newInputFile(String location) {
    return new LocalInputFile(location);
  }

  @Override
  public OutputFile newOutputFile(String location) {
    return new LocalOutputFile(location);
  }

  @Override
  public boolean exists(String location) {
    return Files.exists(path(location));
  }

  @Override
  public boolean isDirectory(String location) {
    return Files.isDirectory(path(location));
  }

  @Override
  public List<String> list(String directory) {
    Path dir = path(directory);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(dir)) {
      List<String> names = new ArrayList<>();
      entries.forEach(p -> names.add(p.getFileName().toString()));
      names.sort(null);
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + directory + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void rename(String source, String target) {
    // FileIO's contract: fail if the target exists. An ATOMIC_MOVE would silently replace it on POSIX.
    if (Files.exists(path(target), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new UncheckedIOException("Cannot rename " + source + " to " + target + ": target exists",
          new FileAlreadyExistsException(target));
    }
    try {
      Files.move(path(source), path(target), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot rename " + source + " to " + target + ": " + e.getMessage(), e);
    }
  }

  @Override
  public boolean delete(String location) {
    try {
      return Files.deleteIfExists(path(location));
    } catch (DirectoryNotEmptyException e) {
      throw new UncheckedIOException("Cannot delete " + location + ": directory not empty", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + location + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void mkdirs(String directory) {
    try {
      Files.createDirectories(path(directory));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create directory " + directory + ": " + e, e);
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
    int slash = location.lastIndexOf('/');
    if (slash < 0) {
      return "";
    }
    return slash == 0 ? "/" : location.substring(0, slash);
  }

  @Override
  public boolean isAbsolute(String location) {
    return location.startsWith("/") || location.startsWith("file:");
  }

  /**
   * {@link Files#copy}: on Linux the JDK copies file to file inside the kernel (sendfile, or
   * copy_file_range in newer JDKs, which Btrfs and XFS can turn into a shared-extent clone), so no
   * byte crosses into this JVM.
   */
  @Override
  public long copy(String source, String target) {
    Path to = path(target);
    try {
      // The JDK removes a partial target itself when the copy fails.
      Files.copy(path(source), to);
      return Files.size(to);
    } catch (NoSuchFileException e) {
      throw new StorageFileNotFoundException(e.getFile(), e);
    } catch (FileAlreadyExistsException e) {
      throw new UncheckedIOException("Cannot copy " + source + " to " + target + ": target exists", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot copy " + source + " to " + target + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void link(String source, String target) {
    Path to = path(target);
    Path existing;
    try {
      // Link the file itself, not a symbolic link to it: a link to a relative symlink would point
      // somewhere else from the target's directory.
      existing = path(source).toRealPath();
    } catch (NoSuchFileException e) {
      throw new StorageFileNotFoundException(source, e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot resolve " + source + ": " + e.getMessage(), e);
    }
    try {
      Files.createLink(to, existing);
    } catch (FileAlreadyExistsException e) {
      throw new UncheckedIOException("Cannot link " + target + " to " + source + ": target exists", e);
    } catch (NoSuchFileException e) {
      throw new UncheckedIOException("Cannot link " + target + " to " + source + ": " + e.getFile()
          + " does not exist", e);
    } catch (java.nio.file.FileSystemException e) {
      // Errno is not exposed: EXDEV (different file systems), EPERM (a file system without hard links,
      // or protected_hardlinks), EMLINK (too many links) all arrive here. Name the likely cause.
      String reason = differentFileSystems(existing, to.toAbsolutePath().getParent())
          ? "they are on different file systems" : e.getReason() == null ? e.toString() : e.getReason();
      throw new LinkNotPossibleException("Cannot hard-link " + source + " as " + target + ": "
          + reason + " (a hard link needs source and destination on one local file system; copy the files instead)",
          e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot link " + target + " to " + source + ": " + e.getMessage(), e);
    }
  }

  private static boolean differentFileSystems(Path a, Path directory) {
    try {
      return directory != null && !Files.getFileStore(a).equals(Files.getFileStore(directory));
    } catch (IOException e) {
      return false;
    }
  }

  private record LocalInputFile(String location) implements InputFile {
    @Override
    public long length() {
      try {
        return Files.size(path(location));
      } catch (NoSuchFileException e) {
        throw new StorageFileNotFoundException(location, e);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot stat " + location + ": " + e.getMessage(), e);
      }
    }

    @Override
    public boolean exists() {
      return Files.isRegularFile(path(location));
    }

    @Override
    public RangeReader open() {
      try {
        FileChannel channel = FileChannel.open(path(location), StandardOpenOption.READ);
        return new ChannelReader(location, channel);
      } catch (NoSuchFileException e) {
        throw new StorageFileNotFoundException(location, e);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot open " + location + ": " + e.getMessage(), e);
      }
    }
  }

  /** Positioned reads through {@link FileChannel#read(ByteBuffer, long)}; thread-safe. */
  private static final class ChannelReader implements RangeReader {
    private final String location;
    private final FileChannel channel;
    private final long length;

    ChannelReader(String location, FileChannel channel) throws IOException {
      this.location = location;
      this.channel = channel;
      this.length = channel.size();
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
      ByteBuffer target = ByteBuffer.wrap(buffer, offset, len);
      long at = position;
      try {
        while (target.hasRemaining()) {
          int n = channel.read(target, at);
          if (n < 0) {
            throw new io.rebundle.codec.CorruptCheckpointException(String.format(
                "Cannot read %s: file ended at offset %d, expected %d more bytes",
                location, at, target.remaining()));
          }
          at += n;
        }
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot read " + location + " at offset " + position + ": " + e.getMessage(), e);
      }
    }

    @Override
    public boolean canTransferTo(PositionOutputStream out) {
      return out instanceof ChannelOutputStream;
    }

    @Override
    public boolean transferTo(long position, long count, PositionOutputStream out) {
      if (!(out instanceof ChannelOutputStream target)) {
        return false;
      }
      RangeReader.checkRange(location, position, count, length);
      try {
        target.transferFrom(channel, position, count);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot copy " + count + " bytes of " + location + " at offset " + position
            + " to " + target + ": " + e.getMessage(), e);
      }
      return true;
    }

    @Override
    public void readFully(long position, ByteBuffer dst) {
      int len = dst.remaining();
      RangeReader.checkRange(location, position, len, length);
      long at = position;
      try {
        while (dst.hasRemaining()) {
          int n = channel.read(dst, at);
          if (n < 0) {
            throw new io.rebundle.codec.CorruptCheckpointException(String.format(
                "Cannot read %s: file ended at offset %d, expected %d more bytes", location, at, dst.remaining()));
          }
          at += n;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read " + location + " at offset " + position + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot close " + location + ": " + e.getMessage(), e);
      }
    }
  }

  private record LocalOutputFile(String location) implements OutputFile {
    @Override
    public PositionOutputStream create() {
      return open(StandardOpenOption.CREATE_NEW);
    }

    @Override
    public PositionOutputStream createOrOverwrite() {
      return open(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    private PositionOutputStream open(StandardOpenOption... options) {
      Path path = path(location);
      try {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        List<StandardOpenOption> all = new ArrayList<>(List.of(options));
        all.add(StandardOpenOption.WRITE);
        return new ChannelOutputStream(FileChannel.open(path, all.toArray(new StandardOpenOption[0])), location);
      } catch (FileAlreadyExistsException e) {
        throw new UncheckedIOException("Cannot create " + location + ": it already exists", e);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot create " + location + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Writes a file through its channel: small writes are gathered in a direct buffer; a direct
   * {@link ByteBuffer} handed to {@link #write(ByteBuffer)} goes to the file without further copies.
   */
  private static final class ChannelOutputStream extends PositionOutputStream {
    private final FileChannel channel;
    private final String location;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(WRITE_BUFFER);
    private long position;

    ChannelOutputStream(FileChannel channel, String location) {
      this.channel = channel;
      this.location = location;
    }

    @Override
    public long position() {
      return position;
    }

    @Override
    public void write(int b) throws IOException {
      if (!buffer.hasRemaining()) {
        drain();
      }
      buffer.put((byte) b);
      position++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      int at = off;
      int left = len;
      while (left > 0) {
        if (!buffer.hasRemaining()) {
          drain();
        }
        int n = Math.min(left, buffer.remaining());
        buffer.put(b, at, n);
        at += n;
        left -= n;
      }
      position += len;
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
      int len = src.remaining();
      if (len < buffer.remaining()) {
        buffer.put(src);
      } else {
        drain();
        while (src.hasRemaining()) {
          channel.write(src);
        }
      }
      position += len;
    }

    /** Appends {@code count} bytes of {@code source} at {@code from}, copied by the kernel. */
    void transferFrom(FileChannel source, long from, long count) throws IOException {
      drain();
      long done = 0;
      while (done < count) {
        long n = source.transferTo(from + done, count - done, channel);
        if (n <= 0) {
          throw new IOException("transfer stopped after " + done + " of " + count + " bytes");
        }
        done += n;
      }
      position += count;
    }

    private void drain() throws IOException {
      buffer.flip();
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      buffer.clear();
    }

    @Override
    public void flush() throws IOException {
      drain();
    }

    @Override
    public void close() throws IOException {
      if (!channel.isOpen()) {
        return;
      }
      try {
        drain();
      } finally {
        channel.close();
      }
    }

    @Override
    public String toString() {
      return "ChannelOutputStream[" + location + "]";
    }
  }

  /** Counts bytes on their way to a delegate stream. */
  public static final class CountingStream extends PositionOutputStream {
    private final OutputStream delegate;
    private long position;

    public CountingStream(OutputStream delegate) {
      this.delegate = delegate;
    }

    @Override
    public long position() {
      return position;
    }

    @Override
    public void write(int b) throws IOException {
      delegate.write(b);
      position++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      delegate.write(b, off, len);
      position += len;
    }

    @Override
    public void flush() throws IOException {
      delegate.flush();
    }

    @Override
    public void close() throws IOException {
      delegate.close();
    }
  }
}
