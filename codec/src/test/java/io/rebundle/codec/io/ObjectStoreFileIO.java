package io.rebundle.codec.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.UUID;

/**
 * A local directory that behaves as an object store does where the commit protocol can tell: a
 * written file appears whole when its stream closes (an upload; until then it is invisible, in a
 * hidden {@code .upload-*} file no listing shows), an aborted stream leaves nothing, a rename is
 * not atomic ({@link #renameIsAtomic} false) and a replace is a delete then a rename. For tests of
 * the object-store paths without a server; the S3 suite proves the same against a real S3 API.
 */
public final class ObjectStoreFileIO extends ForwardingFileIO {
  private static final long serialVersionUID = 1L;
  private static final String UPLOAD = ".upload-";

  public ObjectStoreFileIO() {
    super(new LocalFileIO());
  }

  @Override
  public boolean renameIsAtomic(String location) {
    return false;
  }

  @Override
  public boolean readsAreRequests(String location) {
    return true;
  }

  @Override
  public void replace(String source, String target) {
    delete(target);
    rename(source, target);
  }

  @Override
  public List<String> list(String directory) {
    return delegate().list(directory).stream().filter(n -> !n.startsWith(UPLOAD)).toList();
  }

  /** Uploads under {@code directory} started and neither completed nor aborted. */
  public List<String> pendingUploads(String directory) {
    return delegate().list(directory).stream().filter(n -> n.startsWith(UPLOAD)).toList();
  }

  @Override
  public int abortPendingUploads(String location) {
    Path p = Path.of(location);
    Path dir = Files.isDirectory(p) ? p : p.toAbsolutePath().getParent();
    String only = Files.isDirectory(p) ? "" : p.getFileName().toString();
    int n = 0;
    for (String name : pendingUploads(dir.toString())) {
      if (only.isEmpty() || name.endsWith("-" + only)) {
        delete(dir.resolve(name).toString());
        n++;
      }
    }
    return n;
  }

  @Override
  public OutputFile newOutputFile(String location) {
    return new OutputFile() {
      @Override
      public String location() {
        return location;
      }

      @Override
      public PositionOutputStream create() {
        if (exists(location)) {
          throw new UncheckedIOException(
              "Cannot create " + location + ": it already exists",
              new java.nio.file.FileAlreadyExistsException(location));
        }
        return upload(location);
      }

      @Override
      public PositionOutputStream createOrOverwrite() {
        return upload(location);
      }
    };
  }

  private PositionOutputStream upload(String location) {
    Path target = Path.of(location);
    Path parent = target.toAbsolutePath().getParent();
    Path temp = parent.resolve(UPLOAD + UUID.randomUUID() + "-" + target.getFileName());
    PositionOutputStream out = delegate().newOutputFile(temp.toString()).create();
    return new PositionOutputStream() {
      private boolean done;

      @Override
      public long position() {
        return out.position();
      }

      @Override
      public void write(int b) throws IOException {
        out.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        if (done) {
          return;
        }
        done = true;
        out.close();
        Files.move(
            temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }

      @Override
      public boolean abort() {
        if (!done) {
          done = true;
          try {
            out.close();
          } catch (IOException ignored) {
            // Deleting the upload is what matters.
          }
        }
        try {
          Files.deleteIfExists(temp);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        return true;
      }
    };
  }
}
