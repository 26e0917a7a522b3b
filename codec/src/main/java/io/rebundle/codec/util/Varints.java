package io.rebundle.codec.util;

import io.rebundle.codec.MalformedBytesException;
import java.io.ByteArrayOutputStream;

/** Unsigned LEB128 varints and little-endian fixed-width integers, as LevelDB and protobuf use. */
public final class Varints {
  private Varints() {}

  public static void putVarint64(ByteArrayOutputStream out, long value) {
    long v = value;
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  public static int varintLength(long value) {
    int n = 1;
    long v = value;
    while ((v & ~0x7FL) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  /** Writes a varint at {@code pos}; returns the position after it. */
  public static int putVarint64(byte[] dst, int pos, long value) {
    long v = value;
    int p = pos;
    while ((v & ~0x7FL) != 0) {
      dst[p++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    dst[p++] = (byte) v;
    return p;
  }

  public static void putFixed32(ByteArrayOutputStream out, int value) {
    out.write(value);
    out.write(value >>> 8);
    out.write(value >>> 16);
    out.write(value >>> 24);
  }

  public static void putFixed32(byte[] dst, int pos, int value) {
    dst[pos] = (byte) value;
    dst[pos + 1] = (byte) (value >>> 8);
    dst[pos + 2] = (byte) (value >>> 16);
    dst[pos + 3] = (byte) (value >>> 24);
  }

  public static void putFixed64(byte[] dst, int pos, long value) {
    for (int i = 0; i < 8; i++) {
      dst[pos + i] = (byte) (value >>> (8 * i));
    }
  }

  public static int getFixed32(byte[] src, int pos) {
    return (src[pos] & 0xFF)
        | (src[pos + 1] & 0xFF) << 8
        | (src[pos + 2] & 0xFF) << 16
        | (src[pos + 3] & 0xFF) << 24;
  }

  public static long getFixed64(byte[] src, int pos) {
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (src[pos + i] & 0xFF);
    }
    return v;
  }

  /**
   * A cursor over a byte range for decoding varints with bounds checks. Malformed varints raise a
   * {@link MalformedBytesException}, which the caller's boundary turns into a corruption with file
   * context.
   */
  public static final class Cursor {
    private final byte[] bytes;
    private final int limit;
    private int pos;

    public Cursor(byte[] bytes, int pos, int limit) {
      this.bytes = bytes;
      this.pos = pos;
      this.limit = limit;
    }

    public int position() {
      return pos;
    }

    public void skip(int n) {
      if (n < 0 || n > limit - pos) {
        throw new MalformedBytesException(
            "skip of " + n + " bytes runs past the end at byte " + pos, pos);
      }
      pos += n;
    }

    public int remaining() {
      return limit - pos;
    }

    /** Next varint (at most 64 bits), or throws {@link MalformedBytesException} when malformed. */
    public long varint64() {
      long result = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= limit) {
          throw new MalformedBytesException("varint runs past the end at byte " + pos, pos);
        }
        int b = bytes[pos++] & 0xFF;
        result |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return result;
        }
      }
      throw new MalformedBytesException("varint longer than 10 bytes at byte " + pos, pos);
    }

    /** Next varint that must fit in 32 bits unsigned and in a non-negative int. */
    public int varint32() {
      long v = varint64();
      if (v < 0 || v > Integer.MAX_VALUE) {
        throw new MalformedBytesException(
            "varint32 out of range: " + Long.toUnsignedString(v), pos);
      }
      return (int) v;
    }
  }
}
