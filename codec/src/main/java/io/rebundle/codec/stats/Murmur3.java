package io.rebundle.codec.stats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Streaming MurmurHash3, x64 128-bit variant (Austin Appleby's public-domain algorithm), fed in any
 * chunking. Not cryptographic: two different inputs collide with probability about 2^-128 unless
 * built on purpose to collide. Not thread-safe.
 */
final class Murmur3 {
  private static final long C1 = 0x87c37b91114253d5L;
  private static final long C2 = 0x4cf5ad432745937fL;

  private long h1;
  private long h2;
  private long length;
  private final byte[] tail = new byte[16];
  private int tailLength;

  Murmur3(long seed) {
    h1 = seed;
    h2 = seed;
  }

  void update(byte[] bytes, int off, int len) {
    update(ByteBuffer.wrap(bytes, off, len));
  }

  /** Feeds the remaining bytes of {@code b}; its position is left unchanged. */
  void update(ByteBuffer b) {
    ByteBuffer v = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    length += v.remaining();
    if (tailLength > 0) {
      while (tailLength < 16 && v.hasRemaining()) {
        tail[tailLength++] = v.get();
      }
      if (tailLength < 16) {
        return;
      }
      ByteBuffer t = ByteBuffer.wrap(tail).order(ByteOrder.LITTLE_ENDIAN);
      block(t.getLong(0), t.getLong(8));
      tailLength = 0;
    }
    int pos = v.position();
    int end = v.limit();
    while (end - pos >= 16) {
      block(v.getLong(pos), v.getLong(pos + 8));
      pos += 16;
    }
    while (pos < end) {
      tail[tailLength++] = v.get(pos++);
    }
  }

  private void block(long k1, long k2) {
    k1 *= C1;
    k1 = Long.rotateLeft(k1, 31);
    k1 *= C2;
    h1 ^= k1;
    h1 = Long.rotateLeft(h1, 27);
    h1 += h2;
    h1 = h1 * 5 + 0x52dce729;
    k2 *= C2;
    k2 = Long.rotateLeft(k2, 33);
    k2 *= C1;
    h2 ^= k2;
    h2 = Long.rotateLeft(h2, 31);
    h2 += h1;
    h2 = h2 * 5 + 0x38495ab5;
  }

  /** The 128-bit hash as two longs (h1, h2); the hasher must not be fed afterwards. */
  long[] finish() {
    long k1 = 0;
    long k2 = 0;
    for (int i = tailLength - 1; i >= 8; i--) {
      k2 = (k2 << 8) | (tail[i] & 0xFF);
    }
    for (int i = Math.min(tailLength, 8) - 1; i >= 0; i--) {
      k1 = (k1 << 8) | (tail[i] & 0xFF);
    }
    if (tailLength > 8) {
      k2 *= C2;
      k2 = Long.rotateLeft(k2, 33);
      k2 *= C1;
      h2 ^= k2;
    }
    if (tailLength > 0) {
      k1 *= C1;
      k1 = Long.rotateLeft(k1, 31);
      k1 *= C2;
      h1 ^= k1;
    }
    h1 ^= length;
    h2 ^= length;
    h1 += h2;
    h2 += h1;
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 += h2;
    h2 += h1;
    return new long[] {h1, h2};
  }

  private static long fmix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }
}
