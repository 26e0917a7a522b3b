package io.rebundle.codec.synth;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.StreamSource;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The deterministic pseudo-random contents of a synthetic tensor. A tensor's stored bytes are a
 * stream of little-endian 64-bit words, word {@code i} being SplitMix64 of {@code seed + (i + 1) *
 * GAMMA}, masked so every element is a plausible value of its dtype: floats are small weights of
 * either sign (magnitude in [2^-7, 2^-5), never NaN or infinite), bools are 0 or 1, 4- and 2-bit
 * integers stay in range, other integers are raw bits. Any byte of the stream can be computed
 * directly, so a slice of a partitioned tensor is simply a window of the full tensor's stream and
 * the output does not depend on buffer sizes. Stateless and thread-safe; {@link #source} gives a
 * stateful {@link StreamSource} for one window.
 */
public final class SyntheticData {
  /** SplitMix64's increment (the golden ratio in 64 bits). */
  private static final long GAMMA = 0x9E3779B97F4A7C15L;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final long seed;
  private final long mask;
  private final long bits;

  private SyntheticData(long seed, long mask, long bits) {
    this.seed = seed;
    this.mask = mask;
    this.bits = bits;
  }

  /**
   * The data of one tensor of {@code dtype} (fixed-size types only) whose stream starts at {@code
   * seed}.
   */
  public static SyntheticData of(DType dtype, long seed) {
    if (!dtype.isFixedSize()) {
      throw new IllegalArgumentException(
          "Invalid dtype for synthetic data: " + dtype.displayName());
    }
    return switch (dtype) {
      // sign, lowest exponent bit and mantissa random; exponent 2^-7 or 2^-6 (IEEE-754 layouts).
      case FLOAT, COMPLEX64 -> new SyntheticData(seed, 0x80FFFFFF80FFFFFFL, 0x3C0000003C000000L);
      case DOUBLE, COMPLEX128 -> new SyntheticData(seed, 0x801FFFFFFFFFFFFFL, 0x3F80000000000000L);
      case BFLOAT16 -> new SyntheticData(seed, 0x80FF80FF80FF80FFL, 0x3C003C003C003C00L);
      case HALF -> new SyntheticData(seed, 0x87FF87FF87FF87FFL, 0x2000200020002000L);
      case BOOL, INT2, UINT2 -> new SyntheticData(seed, 0x0101010101010101L, 0);
      case INT4, UINT4 -> new SyntheticData(seed, 0x0707070707070707L, 0);
      case FLOAT4_E2M1FN -> new SyntheticData(seed, 0x0F0F0F0F0F0F0F0FL, 0);
      default -> new SyntheticData(seed, -1L, 0);
    };
  }

  /** SplitMix64's output function (Steele, Lea, Flood 2014). */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** A seed for the stream named {@code name} under the checkpoint seed {@code seed}. */
  public static long streamSeed(long seed, String name) {
    long h = 0xcbf29ce484222325L; // FNV-1a, then mixed
    for (int i = 0; i < name.length(); i++) {
      h = (h ^ name.charAt(i)) * 0x100000001b3L;
    }
    return mix(seed ^ mix(h));
  }

  private long word(long index) {
    return (mix(seed + (index + 1) * GAMMA) & mask) | bits;
  }

  /** Writes stream bytes {@code [position, position + length)} into {@code buffer[offset..]}. */
  public void fill(long position, byte[] buffer, int offset, int length) {
    int i = offset;
    int end = offset + length;
    long word = position >>> 3;
    int skip = (int) (position & 7);
    if (skip != 0 && i < end) {
      long w = word(word++);
      for (int b = skip; b < 8 && i < end; b++) {
        buffer[i++] = (byte) (w >>> (8 * b));
      }
    }
    // The hot loop: one word per 8 bytes, the state advanced by addition as SplitMix64 does.
    long state = seed + (word + 1) * GAMMA;
    long m = mask;
    long o = bits;
    for (; i + 8 <= end; i += 8, state += GAMMA) {
      LONGS.set(buffer, i, (mix(state) & m) | o);
    }
    if (i < end) {
      long w = (mix(state) & m) | o;
      for (int b = 0; i < end; b++) {
        buffer[i++] = (byte) (w >>> (8 * b));
      }
    }
  }

  /**
   * A source for stream bytes from {@code start} on, as {@link
   * io.rebundle.codec.bundle.ShardWriter} pulls them.
   */
  public StreamSource source(long start) {
    long[] position = {start};
    return (buffer, offset, length) -> {
      fill(position[0], buffer, offset, length);
      position[0] += length;
    };
  }
}
