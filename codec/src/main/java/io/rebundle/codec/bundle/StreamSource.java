package io.rebundle.codec.bundle;

/**
 * Produces a tensor's stored bytes in order, a chunk at a time, for {@link ShardWriter#append}: the
 * writer asks for exactly the bytes it still needs, so a source never sees a request past the end
 * of its tensor. Sources may be stateful; one source serves one tensor.
 */
@FunctionalInterface
public interface StreamSource {
  /**
   * Writes the next {@code length} bytes of the tensor into {@code buffer[offset..offset+length)}.
   */
  void fill(byte[] buffer, int offset, int length);
}
