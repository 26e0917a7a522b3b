package io.rebundle.codec.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;

/** A file of {@link LocalFileIO} to read. */
record LocalInputFile(String location) implements InputFile {
  @Override
  public long length() {
    try {
      return Files.size(LocalFileIO.path(location));
    } catch (NoSuchFileException e) {
      throw new StorageFileNotFoundException(location, e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot stat " + location + ": " + e.getMessage(), e);
    }
  }

  @Override
  public boolean exists() {
    return Files.isRegularFile(LocalFileIO.path(location));
  }

  @Override
  public RangeReader open() {
    try {
      FileChannel channel = FileChannel.open(LocalFileIO.path(location), StandardOpenOption.READ);
      return new ChannelRangeReader(location, channel);
    } catch (NoSuchFileException e) {
      throw new StorageFileNotFoundException(location, e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot open " + location + ": " + e.getMessage(), e);
    }
  }
}
