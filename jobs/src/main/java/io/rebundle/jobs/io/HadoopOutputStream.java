package io.rebundle.jobs.io;

import io.rebundle.codec.io.CountingOutputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.StreamCapabilities;

/**
 * A Hadoop output stream that counts its bytes and can be aborted: on S3A (and other stores whose
 * streams are {@code Abortable}) abort cancels the upload, so no partial object is ever published.
 */
final class HadoopOutputStream extends CountingOutputStream {
  private final FSDataOutputStream out;

  HadoopOutputStream(FSDataOutputStream out) {
    super(out);
    this.out = out;
  }

  @Override
  public boolean abort() {
    if (!out.hasCapability(StreamCapabilities.ABORTABLE_STREAM)) {
      return false;
    }
    out.abort();
    return true;
  }
}
