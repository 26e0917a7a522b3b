package io.rebundle.jobs.io;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.io.ByteRange;
import io.rebundle.codec.io.RangeReader;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileRange;

/**
 * Positioned reads of one Hadoop file: {@link FSDataInputStream#readFully(long, byte[], int, int)}
 * for single ranges, {@link FSDataInputStream#readVectored} for batches (S3A and GCS fetch them in
 * parallel ranged requests; other file systems read them in turn).
 */
final class HadoopRangeReader implements RangeReader {
  /** A vectored batch that has not completed after this long has lost its server. */
  private static final long VECTORED_TIMEOUT_MINUTES = 10;

  private final String location;
  private final FSDataInputStream in;
  private final long length;

  HadoopRangeReader(String location, FSDataInputStream in, long length) {
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
    } catch (EOFException e) {
      throw io.rebundle.codec.Errors.pastEnd("bytes", location, null, position, len, length);
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("read", location + " at offset " + position, e);
    }
  }

  @Override
  public void readRanges(List<ByteRange> ranges, ByteBuffer[] dsts) {
    if (ranges.size() == 1) {
      RangeReader.super.readRanges(ranges, dsts);
      return;
    }
    List<FileRange> fileRanges = new ArrayList<>(ranges.size());
    for (ByteRange r : ranges) {
      RangeReader.checkRange(location, r.offset(), r.length(), length);
      fileRanges.add(FileRange.createFileRange(r.offset(), Math.toIntExact(r.length())));
    }
    try {
      in.readVectored(fileRanges, ByteBuffer::allocate);
      for (int i = 0; i < dsts.length; i++) {
        ByteBuffer data =
            fileRanges.get(i).getData().get(VECTORED_TIMEOUT_MINUTES, TimeUnit.MINUTES);
        if (data.remaining() != dsts[i].remaining()) {
          throw new CorruptCheckpointException(
              String.format(
                  "Cannot read %s: %d bytes at offset %d came back as %d",
                  location, ranges.get(i).length(), ranges.get(i).offset(), data.remaining()));
        }
        dsts[i].put(data);
      }
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof EOFException) {
        throw new CorruptCheckpointException(
            "Cannot read "
                + location
                + ": file ended inside a range of "
                + ranges.size()
                + " ranged reads");
      }
      throw HadoopErrors.translate("read", location, cause);
    } catch (TimeoutException e) {
      throw HadoopErrors.translate("read", location, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw HadoopErrors.translate("read", location, e);
    } catch (IOException | RuntimeException e) {
      if (e instanceof CorruptCheckpointException c) {
        throw c;
      }
      throw HadoopErrors.translate("read", location, e);
    }
  }

  @Override
  public void close() {
    try {
      in.close();
    } catch (IOException | RuntimeException e) {
      throw HadoopErrors.translate("close", location, e);
    }
  }
}
