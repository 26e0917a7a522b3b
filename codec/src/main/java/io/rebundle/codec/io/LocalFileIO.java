package io.rebundle.codec.io;

import io.rebundle.codec.LinkNotPossibleException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@link FileIO} on the local file system. Locations are plain paths or {@code file:} URIs. Whole
 * files are copied in the kernel and can be hard-linked ({@link SupportsHardLinks}).
 */
public final class LocalFileIO implements FileIO, SupportsHardLinks {
  private static final long serialVersionUID = 1L;

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
    // FileIO's contract: fail if the target exists. An ATOMIC_MOVE would silently replace it on
    // POSIX.
    if (Files.exists(path(target), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new UncheckedIOException(
          "Cannot rename " + source + " to " + target + ": target exists",
          new FileAlreadyExistsException(target));
    }
    try {
      Files.move(path(source), path(target), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot rename " + source + " to " + target + ": " + e.getMessage(), e);
    }
  }

  /** rename(2) replaces the target atomically on POSIX file systems. */
  @Override
  public void replace(String source, String target) {
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

  /** Local rename is rename(2): atomic on one file system. */
  @Override
  public boolean renameIsAtomic(String location) {
    return true;
  }

  /** A read is a system call, usually on the page cache: no need to coalesce. */
  @Override
  public boolean readsAreRequests(String location) {
    return false;
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
      throw new UncheckedIOException(
          "Cannot copy " + source + " to " + target + ": target exists", e);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot copy " + source + " to " + target + ": " + e.getMessage(), e);
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
      throw new UncheckedIOException(
          "Cannot link " + target + " to " + source + ": target exists", e);
    } catch (NoSuchFileException e) {
      throw new UncheckedIOException(
          "Cannot link " + target + " to " + source + ": " + e.getFile() + " does not exist", e);
    } catch (java.nio.file.FileSystemException e) {
      // Errno is not exposed: EXDEV (different file systems), EPERM (a file system without hard
      // links,
      // or protected_hardlinks), EMLINK (too many links) all arrive here. Name the likely cause.
      String reason =
          differentFileSystems(existing, to.toAbsolutePath().getParent())
              ? "they are on different file systems"
              : e.getReason() == null ? e.toString() : e.getReason();
      throw new LinkNotPossibleException(
          "Cannot hard-link "
              + source
              + " as "
              + target
              + ": "
              + reason
              + " (a hard link needs source and destination on one local file system; copy the files instead)",
          e);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot link " + target + " to " + source + ": " + e.getMessage(), e);
    }
  }

  private static boolean differentFileSystems(Path a, Path directory) {
    try {
      return directory != null && !Files.getFileStore(a).equals(Files.getFileStore(directory));
    } catch (IOException e) {
      return false;
    }
  }

  /** A {@link CountingOutputStream}; kept under its old name for existing callers. */
  public static final class CountingStream extends CountingOutputStream {
    public CountingStream(OutputStream delegate) {
      super(delegate);
    }
  }
}
