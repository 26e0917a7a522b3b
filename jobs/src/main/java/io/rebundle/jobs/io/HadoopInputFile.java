package io.rebundle.jobs.io;

import io.rebundle.codec.io.CoalescingRangeReader;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.RangeReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.util.functional.FutureIO;

/**
 * A file of {@link HadoopFileIO} to read. {@link #open()} costs one metadata request (the status,
 * handed to {@code openFile} so the store does not ask again) and returns a {@link
 * CoalescingRangeReader}: ranged reads, coalesced.
 */
final class HadoopInputFile implements InputFile {
  /** Hadoop's standard openFile option for the read policy (fs.option.openfile.read.policy). */
  private static final String READ_POLICY = "fs.option.openfile.read.policy";

  private final HadoopFileIO io;
  private final String location;
  private final Path path;

  HadoopInputFile(HadoopFileIO io, String location) {
    this.io = io;
    this.location = location;
    this.path = new Path(location);
  }

  @Override
  public String location() {
    return location;
  }

  @Override
  public long length() {
    try {
      return io.fs(path, location).getFileStatus(path).getLen();
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("stat", location, e);
    }
  }

  @Override
  public boolean exists() {
    try {
      return io.fs(path, location).getFileStatus(path).isFile();
    } catch (FileNotFoundException e) {
      return false;
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("stat", location, e);
    }
  }

  @Override
  public RangeReader open() {
    try {
      FileSystem fs = io.fs(path, location);
      FileStatus status = fs.getFileStatus(path);
      // "random": every read is a ranged request of what was asked; CoalescingRangeReader makes
      // the asks large. The status spares the store a second HEAD.
      FSDataInputStream in =
          FutureIO.awaitFuture(
              fs.openFile(path).withFileStatus(status).opt(READ_POLICY, "random").build());
      return new CoalescingRangeReader(
          new HadoopRangeReader(location, in, status.getLen()),
          io.readWindow(),
          CoalescingRangeReader.DEFAULT_MAX_GAP);
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("open", location, e);
    }
  }
}
