package io.rebundle.codec.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** A file of {@link LocalFileIO} to write. */
record LocalOutputFile(String location) implements OutputFile {
  @Override
  public PositionOutputStream create() {
    return open(StandardOpenOption.CREATE_NEW);
  }

  @Override
  public PositionOutputStream createOrOverwrite() {
    return open(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
  }

  private PositionOutputStream open(StandardOpenOption... options) {
    Path path = LocalFileIO.path(location);
    try {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      List<StandardOpenOption> all = new ArrayList<>(List.of(options));
      all.add(StandardOpenOption.WRITE);
      return new ChannelOutputStream(
          FileChannel.open(path, all.toArray(new StandardOpenOption[0])), location);
    } catch (FileAlreadyExistsException e) {
      throw new UncheckedIOException("Cannot create " + location + ": it already exists", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create " + location + ": " + e.getMessage(), e);
    }
  }
}
