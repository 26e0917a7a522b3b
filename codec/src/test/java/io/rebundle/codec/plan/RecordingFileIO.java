package io.rebundle.codec.plan;

import io.rebundle.codec.io.ForwardingFileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.OutputFile;
import io.rebundle.codec.io.PositionOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@link LocalFileIO} that logs every change it makes ({@code create}, {@code close}, {@code
 * rename}, {@code delete}, {@code mkdirs}) with locations relative to {@code base}, and knows which
 * output streams are still open.
 */
public final class RecordingFileIO extends ForwardingFileIO {
  private static final long serialVersionUID = 1L;
  private final transient LocalFileIO local = new LocalFileIO();
  private final String base;
  public final List<String> log = new ArrayList<>();
  public final Set<String> openStreams = new LinkedHashSet<>();

  public RecordingFileIO(String base) {
    super(new LocalFileIO());
    this.base = base.endsWith("/") ? base : base + "/";
  }

  private String rel(String location) {
    return location.startsWith(base) ? location.substring(base.length()) : location;
  }

  @Override
  public OutputFile newOutputFile(String location) {
    OutputFile file = local.newOutputFile(location);
    return new OutputFile() {
      @Override
      public String location() {
        return location;
      }

      @Override
      public PositionOutputStream create() {
        return track(file.create());
      }

      @Override
      public PositionOutputStream createOrOverwrite() {
        return track(file.createOrOverwrite());
      }

      private PositionOutputStream track(PositionOutputStream out) {
        log.add("create " + rel(location));
        openStreams.add(rel(location));
        return new PositionOutputStream() {
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
          public void flush() throws IOException {
            out.flush();
          }

          @Override
          public void close() throws IOException {
            if (openStreams.remove(rel(location))) {
              log.add("close " + rel(location));
            }
            out.close();
          }
        };
      }
    };
  }

  @Override
  public void replace(String source, String target) {
    super.replace(source, target);
    log.add("replace " + rel(source) + " -> " + rel(target));
  }

  @Override
  public void rename(String source, String target) {
    local.rename(source, target);
    log.add("rename " + rel(source) + " -> " + rel(target));
  }

  @Override
  public boolean delete(String location) {
    boolean deleted = local.delete(location);
    if (deleted) {
      log.add("delete " + rel(location));
    }
    return deleted;
  }

  @Override
  public void mkdirs(String directory) {
    local.mkdirs(directory);
    log.add("mkdirs " + rel(directory));
  }
}
