package io.rebundle.codec.io;

/**
 * A {@link FileIO} whose storage can give one file a second name (a hard link): no bytes move, and
 * both names share one file until either is deleted. Only local disks can; HDFS and object stores
 * have no such operation.
 */
public interface SupportsHardLinks {
  /**
   * Makes {@code target} (which must not exist) a second name of the file {@code source}. Writing
   * to either name afterwards changes both; deleting either leaves the other intact. Throws {@link
   * io.rebundle.codec.LinkNotPossibleException} naming the file when this storage cannot link these
   * two locations (different file systems, a file system without hard links).
   */
  void link(String source, String target);
}
