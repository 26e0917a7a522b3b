package io.rebundle.jobs.io;

import io.rebundle.codec.io.OutputFile;
import io.rebundle.codec.io.PositionOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;

/** A file of {@link HadoopFileIO} to write. */
final class HadoopOutputFile implements OutputFile {
  private final HadoopFileIO io;
  private final String location;
  private final Path path;

  HadoopOutputFile(HadoopFileIO io, String location) {
    this.io = io;
    this.location = location;
    this.path = new Path(location);
  }

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
      return new HadoopOutputStream(io.fs(path, location).create(path, overwrite));
    } catch (FileAlreadyExistsException e) {
      throw new UncheckedIOException("Cannot create " + location + ": it already exists", e);
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("create", location, e);
    }
  }
}
