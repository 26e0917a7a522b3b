package io.rebundle.codec;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.StorageFileNotFoundException;

/**
 * Every user-facing error of the codec, built in one place so that each situation has one wording
 * (docs/errors.md lists them with their exit codes). The grammar:
 *
 * <ul>
 *   <li>{@code Cannot <verb> <object>[ in <file>][ at offset <n>]: <reason>} for failures;
 *   <li>{@code Checksum mismatch for <object> in <file> (<where>): stored <x>, computed <y>} for
 *       every checksum, whatever it covers;
 *   <li>{@code Invalid <thing>: <value>} for caller mistakes.
 * </ul>
 *
 * Corruption carries its file, key and offset as fields ({@link CorruptCheckpointException}).
 * Sections: bytes of a checkpoint (corrupt, exit 3), refusals (unsupported, exit 3), absence (not
 * found, exit 4), and the migration block.
 */
public final class Errors {
  private Errors() {}

  // ---------------------------------------------------------------------------------------------
  // Bytes of a checkpoint contradict the format (CorruptCheckpointException, exit 3).
  // ---------------------------------------------------------------------------------------------

  /** One wording for every checksum: blocks, tensors, string lengths. */
  public static CorruptCheckpointException checksumMismatch(
      String object, String file, String key, long offset, String where, int stored, int computed) {
    return new CorruptCheckpointException(
        String.format(
            "Checksum mismatch for %s in %s (%s): stored %08x, computed %08x",
            object, file, where, stored, computed),
        file,
        key,
        offset,
        null);
  }

  /** Bytes {@code [offset, offset + size)} of {@code object} lie past the end of {@code file}. */
  public static CorruptCheckpointException pastEnd(
      String object, String file, String key, long offset, long size, long fileLength) {
    long end = offset + size < 0 ? Long.MAX_VALUE : offset + size;
    return new CorruptCheckpointException(
        String.format(
            "Cannot read %s in %s: bytes [%d, %d) lie past the end of the file (%d bytes)",
            object, file, offset, end, fileLength),
        file,
        key,
        offset,
        null);
  }

  /** The file ends before a structure of the format that must be there. */
  public static CorruptCheckpointException unexpectedEnd(
      String object, String file, long fileLength, long needed) {
    return new CorruptCheckpointException(
        String.format(
            "Cannot read %s %s: unexpected end of file: %d bytes, need at least %d",
            object, file, fileLength, needed),
        file,
        null,
        fileLength,
        null);
  }

  public static CorruptCheckpointException badMagic(
      String file, long offset, long expected, long found) {
    return new CorruptCheckpointException(
        String.format(
            "Cannot read table %s at offset %d: not an sstable (bad magic number): expected %016x, found %016x",
            file, offset, expected, found),
        file,
        null,
        offset,
        null);
  }

  /** A block of the index (data, index, metaindex) is malformed. */
  public static CorruptCheckpointException malformedBlock(
      String file, String what, long blockOffset, String reason) {
    return new CorruptCheckpointException(
        String.format(
            "Cannot read %s block in %s at offset %d: %s", what, file, blockOffset, reason),
        file,
        null,
        blockOffset,
        null);
  }

  /** The value stored under {@code key} is not a valid entry (or header, or object graph). */
  public static CorruptCheckpointException malformedEntry(
      String file, String key, Long offset, String reason) {
    return new CorruptCheckpointException(
        String.format(
            "Cannot read entry %s in %s%s: %s",
            key.isEmpty() ? "(header)" : key,
            file,
            offset == null ? "" : " at offset " + offset,
            reason),
        file,
        key,
        offset,
        null);
  }

  /** An index key starting with 0x00 that is not TensorFlow's ordered code for a slice. */
  public static CorruptCheckpointException malformedSliceKey(
      String file, String key, Long blockOffset, MalformedBytesException cause) {
    return new CorruptCheckpointException(
        String.format(
            "Cannot read slice key %s in %s%s: %s",
            key,
            file,
            blockOffset == null ? "" : " (data block at offset " + blockOffset + ")",
            cause.reason()),
        file,
        key,
        blockOffset,
        cause);
  }

  public static CorruptCheckpointException keysOutOfOrder(
      String file, long blockOffset, String key, boolean duplicate) {
    return new CorruptCheckpointException(
        String.format(
            "Cannot read index %s: %s key %s in data block at offset %d (keys must strictly increase)",
            file, duplicate ? "duplicate" : "out-of-order", key, blockOffset),
        file,
        key,
        blockOffset,
        null);
  }

  /** An entry names a shard the header does not have. */
  public static CorruptCheckpointException shardOutOfRange(
      String indexFile, String key, int shard, int numShards) {
    return new CorruptCheckpointException(
        String.format(
            "Cannot read tensor %s: its entry in %s names shard %d, but the checkpoint has %d shard%s",
            key, indexFile, shard, numShards, numShards == 1 ? "" : "s"),
        indexFile,
        key,
        null,
        null);
  }

  /** A data file the index needs does not exist. */
  public static CorruptCheckpointException missingDataFile(
      String dataFile, String key, int shard, int numShards) {
    return new CorruptCheckpointException(
        String.format(
            "Cannot read tensor %s: data file %s (shard %d of %d) is missing",
            key, dataFile, shard, numShards),
        dataFile,
        key,
        null,
        null);
  }

  /**
   * Size stored in an entry does not fit its dtype and shape. Worded as TensorFlow's own reader
   * words it (tensor_bundle.cc), so that users searching for either message find both.
   */
  public static CorruptCheckpointException sizeMismatch(
      String indexFile, String key, long stored, String expected) {
    return new CorruptCheckpointException(
        String.format(
            "Invalid size in bundle entry: key %s in %s; stored size %d; expected size %s",
            key, indexFile, stored, expected),
        indexFile,
        key,
        null,
        null);
  }

  /** Element lengths of a string or variant tensor contradict the entry's size. */
  public static CorruptCheckpointException badElementLengths(
      String object, String dataFile, String key, long offset, String reason) {
    return new CorruptCheckpointException(
        String.format("Cannot read %s in %s at offset %d: %s", object, dataFile, offset, reason),
        dataFile,
        key,
        offset,
        null);
  }

  /** A sliced tensor whose slices do not add up. */
  public static CorruptCheckpointException badSlices(String indexFile, String key, String reason) {
    return new CorruptCheckpointException(
        String.format("Cannot read sliced tensor %s in %s: %s", key, indexFile, reason),
        indexFile,
        key,
        null,
        null);
  }

  public static CorruptCheckpointException malformedObjectGraph(
      String source, String reason, Throwable cause) {
    return new CorruptCheckpointException(
        "Cannot read the object graph of " + source + ": " + reason, source, null, null, cause);
  }

  public static CorruptCheckpointException malformedStateFile(String stateFile, String reason) {
    return new CorruptCheckpointException(
        "Cannot read checkpoint state " + stateFile + ": " + reason, stateFile, null, null, null);
  }

  /** Any parser signal caught at a boundary that has no more specific situation. */
  public static CorruptCheckpointException malformed(
      String object, String file, String key, Long offset, MalformedBytesException cause) {
    return new CorruptCheckpointException(
        String.format(
            "Cannot read %s in %s%s: %s",
            object, file, offset == null ? "" : " at offset " + offset, cause.reason()),
        file,
        key,
        offset,
        cause);
  }

  // ---------------------------------------------------------------------------------------------
  // Well-formed input that Rebundle refuses (UnsupportedCheckpointException, exit 3).
  // ---------------------------------------------------------------------------------------------

  public static UnsupportedCheckpointException unknownDtype(int code) {
    if (code > 100 && code < 200) {
      return new UnsupportedCheckpointException(
          "Unsupported dtype: reference type code " + code + " never appears in valid bundles");
    }
    return new UnsupportedCheckpointException("Unsupported dtype: unknown DataType code " + code);
  }

  public static UnsupportedCheckpointException tooLargeForMemory(String key, long bytes) {
    return new UnsupportedCheckpointException(
        "Cannot load tensor " + key + " into memory: " + bytes + " bytes; stream it instead",
        null,
        key);
  }

  // ---------------------------------------------------------------------------------------------
  // Absence (CheckpointNotFoundException / StorageFileNotFoundException, exit 4).
  // ---------------------------------------------------------------------------------------------

  public static CheckpointNotFoundException keyNotFound(String key, String prefix) {
    return new CheckpointNotFoundException("Key " + key + " not found in checkpoint " + prefix);
  }

  public static StorageFileNotFoundException fileNotFound(
      String location, java.io.IOException cause) {
    return new StorageFileNotFoundException(location, cause);
  }

  // ---------------------------------------------------------------------------------------------
  // migration
  // ---------------------------------------------------------------------------------------------

  /** The destination of a migration already holds a checkpoint and no overwrite was asked for. */
  public static DestinationExistsException destinationExists(String prefix) {
    return new DestinationExistsException(
        prefix,
        "Cannot write checkpoint "
            + prefix
            + ": it already exists (use --overwrite to replace it once the new one is complete)");
  }

  /** Another run that is still alive is writing the same destination. */
  public static DestinationExistsException destinationInUse(String prefix, String owner) {
    return new DestinationExistsException(
        prefix,
        "Cannot write checkpoint "
            + prefix
            + ": another run is writing it, staging in "
            + owner
            + " (wait for it to finish; a run that is gone is cleaned up automatically)");
  }

  /** An index entry's bytes lie (partly) past the end of its data file. */
  public static CorruptCheckpointException entryPastEnd(
      String dataFile, String key, long offset, long size, long fileLength) {
    return new CorruptCheckpointException(
        "Cannot plan tensor "
            + key
            + ": its "
            + size
            + " bytes at offset "
            + offset
            + " of "
            + dataFile
            + " lie past the end of the file ("
            + fileLength
            + " bytes; the file is truncated or the index is corrupt)",
        dataFile,
        key,
        offset,
        null);
  }

  /** An index entry has an impossible offset or size. */
  public static CorruptCheckpointException invalidEntryRange(
      String dataFile, String key, long offset, long size) {
    return new CorruptCheckpointException(
        "Cannot plan tensor "
            + key
            + ": offset "
            + offset
            + " and size "
            + size
            + " in "
            + dataFile
            + " are invalid (the index is corrupt)",
        dataFile,
        key,
        offset,
        null);
  }

  /** An index entry's dtype code is not one TensorFlow defines. */
  public static UnsupportedCheckpointException unknownDtype(
      String indexFile, String key, int code, long offset) {
    return new UnsupportedCheckpointException(
        "Cannot plan tensor "
            + key
            + " of "
            + indexFile
            + " (data offset "
            + offset
            + "): dtype code "
            + code
            + " is not a TensorFlow dtype");
  }

  /** The slices of a partitioned tensor do not tile the full tensor. */
  public static CorruptCheckpointException sliceMergeGap(String key, String reason) {
    return new CorruptCheckpointException(
        "Cannot merge slices of " + key + ": " + reason, null, key, null, null);
  }

  /** A reused source data file changed size between planning and copying. */
  public static CorruptCheckpointException reusedFileChanged(
      String file, long bytes, long expected) {
    return new CorruptCheckpointException(
        "Cannot reuse "
            + file
            + ": it holds "
            + bytes
            + " bytes, the plan expected "
            + expected
            + " (did it change during the migration?)",
        file,
        null,
        null,
        null);
  }

  /**
   * A safetensors source no longer holds a tensor as the plan saw it (its header changed between
   * planning and the task that reads it).
   */
  public static CorruptCheckpointException safetensorsChanged(
      String location, String key, String reason) {
    return new CorruptCheckpointException(
        "Cannot read tensor "
            + key
            + " in "
            + location
            + ": "
            + reason
            + " (did the file change during the conversion?)",
        location,
        key,
        null,
        null);
  }

  /**
   * A safetensors tensor whose output key would be empty: a TensorBundle keeps its header under the
   * empty key.
   */
  public static UnsupportedCheckpointException emptyImportKey(String location) {
    return new UnsupportedCheckpointException(
        "Cannot import the tensor named '' from "
            + location
            + ": a TensorFlow checkpoint keeps its header under the empty key (rename the tensor "
            + "with a mapping rule, or exclude it)",
        location,
        "");
  }

  /** A hard link was asked of storage that has none. */
  public static LinkNotPossibleException notLinkable(FileIO io, String location) {
    return new LinkNotPossibleException(
        "Cannot hard-link "
            + location
            + ": hard links need a local disk, and this "
            + "storage ("
            + io.getClass().getSimpleName()
            + ") has none; copy the files instead");
  }
}
