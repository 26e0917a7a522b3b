package io.rebundle.codec.exec;

import io.rebundle.codec.Errors;
import io.rebundle.codec.LinkNotPossibleException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.commit.StagedShard;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.io.SupportsHardLinks;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.plan.PlannedTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Makes one output data file out of a source data file that {@link FileReuse} found reusable: a
 * whole-file copy or a hard link at an attempt location in the staging directory. The counterpart
 * of {@link ShardExecutor} for reused files; engine-neutral and stateless.
 *
 * <p>No byte passes through a CRC check on the way, unlike streamed tensors. With {@link
 * FileReuse.Policy#verifyCopies()} every tensor of the file is read from the source and checked,
 * with the streaming path's messages, on a second thread while the copy runs (linked files are
 * checked before the link). Without it the file's length is still checked against the plan, so a
 * source that changed since it was planned is caught.
 *
 * <p>Copies run in ranges, each reported to the progress sink: {@link #COPY_CHUNK} bytes per kernel
 * copy where both ends are local files (no byte enters the JVM), else through a heap buffer.
 */
public final class WholeFileExecutor {
  /** Bytes per kernel copy call of a whole-file copy, and so per progress report. */
  public static final long COPY_CHUNK = 64L << 20;

  /** Bytes per read and write of a whole-file copy that cannot stay in the kernel. */
  static final int STREAM_CHUNK = 4 << 20;

  private WholeFileExecutor() {}

  /**
   * Copies or links ({@code policy.mode()}: {@link FileReuse.Mode#COPY} or {@link
   * FileReuse.Mode#LINK}) {@code file} of the checkpoint at {@code sourcePrefix} to {@code
   * outputLocation}, which must not exist. Returns the output shard's entries. On failure nothing
   * is left at {@code outputLocation}.
   */
  public static StagedShard run(
      FileIO io,
      String sourcePrefix,
      FileReuse.ReusedFile file,
      String outputLocation,
      FileReuse.Policy policy,
      byte[] buffer,
      ProgressSink progress) {
    FileReuse.Mode mode = policy.mode();
    if (mode != FileReuse.Mode.COPY && mode != FileReuse.Mode.LINK) {
      throw new IllegalArgumentException("Invalid mode for a reused file: " + mode);
    }
    String source = file.sourceFile(sourcePrefix);
    if (mode == FileReuse.Mode.LINK && !(io instanceof SupportsHardLinks)) {
      throw notLinkable(io, source);
    }
    // Copies clean up after themselves; what is removed here is a finished link or copy of the
    // wrong size.
    long bytes;
    if (mode == FileReuse.Mode.LINK) {
      if (policy.verifyCopies()) {
        verify(io, sourcePrefix, file, buffer);
      }
      ((SupportsHardLinks) io).link(source, outputLocation);
      bytes = io.newInputFile(outputLocation).length();
      progress.bytes(bytes);
    } else if (policy.verifyCopies()) {
      bytes = copyVerified(io, sourcePrefix, file, source, outputLocation, buffer, progress);
    } else {
      bytes = copy(io, source, outputLocation, progress);
    }
    if (bytes != file.bytes()) {
      try {
        io.delete(outputLocation);
      } catch (RuntimeException ignored) {
        // The mismatch matters more than a leftover staging file, which the committer's abort
        // removes.
      }
      throw Errors.reusedFileChanged(source, bytes, file.bytes());
    }
    progress.tensors(file.tensors().size());
    return new StagedShard(file.targetShard(), outputLocation, file.entries(), file.bytes());
  }

  /**
   * The copy and the CRC check of the same file overlapped instead of serialised: a second thread
   * ({@link FollowingChecks}) reads every tensor of the source for its checksum while this one
   * copies, following the copy range by range, so both read the source once between them (the
   * second from the page cache the first filled, even on a source bigger than the cache). A failed
   * check stops the copy or deletes the finished one, so nothing unchecked leaves this method. Wall
   * time is about the longer of the two, not their sum.
   */
  static long copyVerified(
      FileIO io,
      String sourcePrefix,
      FileReuse.ReusedFile file,
      String source,
      String target,
      byte[] buffer,
      ProgressSink progress) {
    List<PlannedTensor.Copy> byOffset = new ArrayList<>(file.tensors());
    byOffset.sort(Comparator.comparingLong(t -> t.sourceEntry().offset()));
    try (CheckpointReader reader = CheckpointReader.openPrefix(io, sourcePrefix);
        FollowingChecks checks = new FollowingChecks(target)) {
      reader.willRead(byOffset.stream().map(PlannedTensor.Copy::sourceEntry).toList());
      int[] next = {0};
      // Before each range is copied, the checks of the tensors that start in it are queued: the
      // checker reads what the kernel is copying, at most FollowingChecks.MAX_LAG behind.
      long bytes =
          copy(
              io,
              source,
              target,
              progress,
              end -> {
                while (next[0] < byOffset.size()
                    && byOffset.get(next[0]).sourceEntry().offset() < end) {
                  submitCheck(reader, checks, byOffset.get(next[0]++));
                }
              });
      try {
        // Tensors past the file's end (it shrank since planning) are checked too, and fail.
        while (next[0] < byOffset.size()) {
          submitCheck(reader, checks, byOffset.get(next[0]++));
        }
        checks.finish();
      } catch (RuntimeException | Error e) {
        try {
          io.delete(target);
        } catch (RuntimeException ignored) {
          // The check's failure matters more than a leftover staging file, which abort removes.
        }
        throw e;
      }
      return bytes;
    }
  }

  /** Queues the CRC check of {@code t}'s source bytes behind the copy. */
  private static void submitCheck(
      CheckpointReader reader, FollowingChecks checks, PlannedTensor.Copy t) {
    CheckpointReader.DeferredCheck check = reader.deferredCheck(t.sourceName(), t.sourceEntry());
    checks.submit(check.size(), check::run);
  }

  /**
   * Copies {@code source} to {@code target} (which must not exist) in ranges, reporting each: in
   * the kernel, {@link #COPY_CHUNK} bytes per call, where both ends are local files; else through a
   * {@link #STREAM_CHUNK} heap buffer. Returns the bytes copied; on failure the target is
   * discarded.
   */
  static long copy(FileIO io, String source, String target, ProgressSink progress) {
    return copy(io, source, target, progress, end -> {});
  }

  /**
   * {@link #copy(FileIO, String, String, ProgressSink)}, telling {@code beforeRange} the end offset
   * of each range before it is copied (it may throw to stop the copy).
   */
  private static long copy(
      FileIO io,
      String source,
      String target,
      ProgressSink progress,
      java.util.function.LongConsumer beforeRange) {
    try (RangeReader in = io.newInputFile(source).open()) {
      long length = in.length();
      PositionOutputStream out = io.newOutputFile(target).create();
      boolean done = false;
      try {
        if (in.canTransferTo(out)) {
          for (long at = 0; at < length; ) {
            long n = Math.min(COPY_CHUNK, length - at);
            beforeRange.accept(at + n);
            if (!in.transferTo(at, n, out)) {
              throw new IllegalStateException(
                  "Invalid storage: " + source + " refused a kernel copy it offered");
            }
            at += n;
            progress.bytes(n);
          }
        } else {
          byte[] buffer = new byte[(int) Math.min(STREAM_CHUNK, Math.max(1, length))];
          for (long at = 0; at < length; ) {
            int n = (int) Math.min(buffer.length, length - at);
            beforeRange.accept(at + n);
            in.readFully(at, buffer, 0, n);
            out.write(buffer, 0, n);
            at += n;
            progress.bytes(n);
          }
        }
        out.close();
        done = true;
        return length;
      } finally {
        if (!done) {
          // Discarded, not closed: an object-store upload is aborted, so no partial object is
          // ever published under the target's name (a direct commit writes final names).
          io.discard(out, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot copy " + source + " to " + target + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads every tensor of {@code file} from the source and checks its CRC32C, as streaming does.
   */
  public static void verify(
      FileIO io, String sourcePrefix, FileReuse.ReusedFile file, byte[] buffer) {
    try (CheckpointReader reader = CheckpointReader.openPrefix(io, sourcePrefix)) {
      reader.willRead(file.tensors().stream().map(PlannedTensor.Copy::sourceEntry).toList());
      // A direct buffer that stays in the core's cache between the read and the CRC; the caller's
      // heap buffer would add a copy through a temporary direct one.
      java.nio.ByteBuffer direct =
          java.nio.ByteBuffer.allocateDirect(
              Math.max(4096, Math.min(FollowingChecks.BUFFER, buffer.length)));
      for (PlannedTensor.Copy t : file.tensors()) {
        reader.verifyData(t.sourceName(), t.sourceEntry(), direct);
      }
    }
  }

  /** The error for a hard link asked of storage that has none. */
  public static LinkNotPossibleException notLinkable(FileIO io, String location) {
    return Errors.notLinkable(io, location);
  }
}
