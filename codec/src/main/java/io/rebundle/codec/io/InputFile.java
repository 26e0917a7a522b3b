package io.rebundle.codec.io;

/** A file to read. Cheap to create; nothing is opened until {@link #open()}. */
public interface InputFile {
  String location();

  /** Length in bytes; throws {@link StorageFileNotFoundException} if absent. */
  long length();

  boolean exists();

  /** Opens the file for positioned reads. The caller owns and closes the reader. */
  RangeReader open();
}
