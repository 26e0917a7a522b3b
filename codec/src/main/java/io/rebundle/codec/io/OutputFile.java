package io.rebundle.codec.io;

/** A file to write. */
public interface OutputFile {
  String location();

  /** Creates the file, failing if it already exists. The caller owns and closes the stream. */
  PositionOutputStream create();

  /** Creates the file, replacing any existing one. */
  PositionOutputStream createOrOverwrite();
}
