package io.rebundle.codec.table;

import io.rebundle.codec.MalformedBytesException;
import io.rebundle.codec.util.Varints;

/**
 * Decoder for raw Snappy blocks (no framing), as LevelDB tables use for compressed blocks
 * (tensorbundle-format.md §2.9). TensorFlow never writes them, but real indexes contain them.
 */
public final class Snappy {
  private Snappy() {}

  /** Largest expansion Snappy allows: a 3-byte copy yields at most 64 bytes. */
  private static final int MAX_RATIO = 22;

  /**
   * Decompresses {@code input}; throws {@link MalformedBytesException} with a reason when the input
   * is not valid Snappy.
   */
  public static byte[] uncompress(byte[] input, int offset, int length) {
    int limit = offset + length;
    Varints.Cursor cursor = new Varints.Cursor(input, offset, limit);
    long expected = cursor.varint64();
    if (expected < 0
        || expected > (long) length * MAX_RATIO + 64
        || expected > Integer.MAX_VALUE - 8) {
      throw new MalformedBytesException("implausible uncompressed length " + expected, offset);
    }
    byte[] out = new byte[(int) expected];
    int op = 0;
    int ip = cursor.position();
    while (ip < limit) {
      int tag = input[ip++] & 0xFF;
      int len;
      int copyOffset;
      switch (tag & 3) {
        case 0 -> {
          len = tag >>> 2;
          if (len >= 60) {
            int extra = len - 59;
            if (ip + extra > limit) {
              throw new MalformedBytesException("literal length runs past the input", ip);
            }
            long v = 0;
            for (int i = 0; i < extra; i++) {
              v |= (long) (input[ip + i] & 0xFF) << (8 * i);
            }
            ip += extra;
            if (v > Integer.MAX_VALUE - 1) {
              throw new MalformedBytesException("literal too long", ip);
            }
            len = (int) v;
          }
          len += 1;
          if (len > limit - ip || len > out.length - op) {
            throw new MalformedBytesException("literal of " + len + " bytes overruns a buffer", ip);
          }
          System.arraycopy(input, ip, out, op, len);
          ip += len;
          op += len;
          continue;
        }
        case 1 -> {
          if (ip >= limit) {
            throw new MalformedBytesException("copy tag runs past the input", ip);
          }
          len = ((tag >>> 2) & 7) + 4;
          copyOffset = ((tag >>> 5) << 8) | (input[ip++] & 0xFF);
        }
        case 2 -> {
          if (ip + 2 > limit) {
            throw new MalformedBytesException("copy tag runs past the input", ip);
          }
          len = (tag >>> 2) + 1;
          copyOffset = (input[ip] & 0xFF) | (input[ip + 1] & 0xFF) << 8;
          ip += 2;
        }
        default -> {
          if (ip + 4 > limit) {
            throw new MalformedBytesException("copy tag runs past the input", ip);
          }
          len = (tag >>> 2) + 1;
          copyOffset = Varints.getFixed32(input, ip);
          ip += 4;
        }
      }
      if (copyOffset <= 0 || copyOffset > op || len > out.length - op) {
        throw new MalformedBytesException(
            "copy of "
                + len
                + " bytes from offset "
                + copyOffset
                + " is out of range at output byte "
                + op,
            ip);
      }
      for (int i = 0; i < len; i++) {
        out[op + i] = out[op - copyOffset + i];
      }
      op += len;
    }
    if (op != out.length) {
      throw new MalformedBytesException(
          "produced " + op + " bytes, header promised " + out.length, ip);
    }
    return out;
  }
}
