package io.rebundle.codec.plan;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.LinkNotPossibleException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.SupportsHardLinks;

/**
 * Makes one output data file out of a source data file that {@link FileReuse} found reusable: a
 * whole-file copy or a hard link at an attempt location in the committer's staging directory. The
 * counterpart of {@link ShardExecutor} for reused files; engine-neutral (Spark tasks and
 * single-process runs both call it) and stateless.
 *
 * <p>No byte passes through a CRC check on the way, unlike streamed tensors. With
 * {@link FileReuse.Policy#verifyCopies()} every tensor of the file is first read from the source and
 * checked, with the streaming path's messages (a read pass at disk speed; the copy that follows then
 * reads from the page cache). Without it the file's length is still checked against the plan, so a
 * source that changed since it was planned is caught.
 */
public final class WholeFileExecutor {
  private WholeFileExecutor() {}

  /**
   * Copies or links ({@code policy.mode()}: {@link FileReuse.Mode#COPY} or {@link FileReuse.Mode#LINK})
   * {@code file} of the checkpoint at {@code sourcePrefix} to {@code outputLocation}, which must not
   * exist. Returns the output shard's entries. On failure nothing is left at {@code outputLocation}.
   */
  public static ShardExecutor.Result run(FileIO io, String sourcePrefix, FileReuse.ReusedFile file,
      String outputLocation, FileReuse.Policy policy, byte[] buffer) {
    FileReuse.Mode mode = policy.mode();
    if (mode != FileReuse.Mode.COPY && mode != FileReuse.Mode.LINK) {
      throw new IllegalArgumentException("Invalid mode for a reused file: " + mode);
    }
    String source = file.sourceFile(sourcePrefix);
    if (mode == FileReuse.Mode.LINK && !(io instanceof SupportsHardLinks)) {
      throw notLinkable(io, source);
    }
    if (policy.verifyCopies()) {
      verify(io, sourcePrefix, file, buffer);
    }
    // Copies clean up after themselves; what is removed here is a finished link or copy of the wrong size.
    long bytes;
    if (mode == FileReuse.Mode.LINK) {
      ((SupportsHardLinks) io).link(source, outputLocation);
      bytes = io.newInputFile(outputLocation).length();
    } else {
      bytes = io.copy(source, outputLocation);
    }
    if (bytes != file.bytes()) {
      try {
        io.delete(outputLocation);
      } catch (RuntimeException ignored) {
        // The mismatch matters more than a leftover staging file, which the committer's abort removes.
      }
      throw new CorruptCheckpointException("Cannot reuse " + source + ": it holds " + bytes
          + " bytes, the plan expected " + file.bytes() + " (did it change during the migration?)");
    }
    return new ShardExecutor.Result(file.targetShard(), outputLocation, file.entries(), file.bytes());
  }

  /** Reads every tensor of {@code file} from the source and checks its CRC32C, as streaming does. */
  public static void verify(FileIO io, String sourcePrefix, FileReuse.ReusedFile file, byte[] buffer) {
    try (CheckpointReader reader = CheckpointReader.openPrefix(io, sourcePrefix)) {
      reader.willRead(file.tensors().stream().map(PlannedTensor::sourceEntry).toList());
      for (PlannedTensor t : file.tensors()) {
        reader.verifyData(t.sourceName(), t.sourceEntry(), buffer);
      }
    }
  }

  /** The error for a hard link asked of storage that has none. */
  public static LinkNotPossibleException notLinkable(FileIO io, String location) {
    return new LinkNotPossibleException("Cannot hard-link " + location + ": hard links need a local disk, and this "
        + "storage (" + io.getClass().getSimpleName() + ") has none; copy the files instead");
  }
}
