package io.rebundle.codec.bundle;

import io.rebundle.codec.MalformedBytesException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Index keys of slice entries (tensorbundle-format.md §5.2): TensorFlow's OrderedCode encoding of
 * (0, tensor name, rank, start/length per dimension). Slice keys start with byte 0x00, so they sort
 * right after the header entry and before every tensor name.
 */
public final class SliceKeys {
  private SliceKeys() {}

  /** A decoded slice key. */
  public record Decoded(String name, TensorSlice slice) {}

  public static boolean isSliceKey(byte[] key) {
    return key.length > 0 && key[0] == 0;
  }

  public static byte[] encode(String name, TensorSlice slice) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeNumIncreasing(out, 0);
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      if (b == 0) {
        out.write(0);
        out.write(0xFF);
      } else if (b == (byte) 0xFF) {
        out.write(0xFF);
        out.write(0);
      } else {
        out.write(b);
      }
    }
    out.write(0);
    out.write(1);
    writeNumIncreasing(out, slice.rank());
    for (TensorSlice.Extent x : slice.extents()) {
      writeSignedNumIncreasing(out, x.start());
      writeSignedNumIncreasing(out, x.length());
    }
    return out.toByteArray();
  }

  static void writeNumIncreasing(ByteArrayOutputStream out, long value) {
    int len = 0;
    for (long v = value; v != 0; v >>>= 8) {
      len++;
    }
    out.write(len);
    for (int i = len - 1; i >= 0; i--) {
      out.write((int) (value >>> (8 * i)));
    }
  }

  // Header bytes for n-byte encodings, n = 1..10 (ordered_code.cc kLengthToHeaderBits).
  private static final int[][] HEADER = {
    {0, 0},
    {0x80, 0},
    {0xC0, 0},
    {0xE0, 0},
    {0xF0, 0},
    {0xF8, 0},
    {0xFC, 0},
    {0xFE, 0},
    {0xFF, 0},
    {0xFF, 0x80},
    {0xFF, 0xC0}
  };

  static void writeSignedNumIncreasing(ByteArrayOutputStream out, long v) {
    long x = v < 0 ? ~v : v;
    if (x < 64) {
      out.write((int) ((0x80 ^ v) & 0xFF));
      return;
    }
    int n = 2;
    while (n < 10 && Long.compareUnsigned(x, 1L << (7 * n - 1)) >= 0) {
      n++;
    }
    // v sign-extended to 80 bits, last n bytes big-endian.
    byte[] buf = new byte[10];
    long fill = v < 0 ? -1L : 0L;
    for (int i = 0; i < 2; i++) {
      buf[i] = (byte) fill;
    }
    for (int i = 0; i < 8; i++) {
      buf[2 + i] = (byte) (v >>> (8 * (7 - i)));
    }
    int from = 10 - n;
    buf[from] ^= (byte) HEADER[n][0];
    buf[from + 1] ^= (byte) HEADER[n][1];
    out.write(buf, from, n);
  }

  /** Decodes a slice key; throws {@link MalformedBytesException} if it is not one. */
  public static Decoded decode(byte[] key) {
    int[] pos = {0};
    if (readNumIncreasing(key, pos) != 0) {
      throw new MalformedBytesException("does not start with 0", pos[0]);
    }
    ByteArrayOutputStream name = new ByteArrayOutputStream();
    while (true) {
      if (pos[0] + 1 >= key.length + 1 || pos[0] >= key.length) {
        throw new MalformedBytesException("unterminated name", pos[0]);
      }
      int b = key[pos[0]++] & 0xFF;
      if (b == 0) {
        need(key, pos[0], 1);
        int c = key[pos[0]++] & 0xFF;
        if (c == 1) {
          break;
        } else if (c == 0xFF) {
          name.write(0);
        } else {
          throw new MalformedBytesException("bad escape 00 " + Integer.toHexString(c), pos[0]);
        }
      } else if (b == 0xFF) {
        need(key, pos[0], 1);
        int c = key[pos[0]++] & 0xFF;
        if (c != 0) {
          throw new MalformedBytesException("bad escape ff " + Integer.toHexString(c), pos[0]);
        }
        name.write(0xFF);
      } else {
        name.write(b);
      }
    }
    long rank = readNumIncreasing(key, pos);
    if (rank <= 0 || rank > TensorShape.MAX_RANK) {
      throw new MalformedBytesException("rank " + rank, pos[0]);
    }
    List<TensorSlice.Extent> extents = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      long start = readSignedNumIncreasing(key, pos);
      long length = readSignedNumIncreasing(key, pos);
      if (length == -1 ? start != 0 : (start < 0 || length < 0)) {
        throw new MalformedBytesException(
            "invalid extent in dimension " + i + ": start " + start + ", length " + length, pos[0]);
      }
      extents.add(length == -1 ? TensorSlice.Extent.FULL : new TensorSlice.Extent(start, length));
    }
    if (pos[0] != key.length) {
      throw new MalformedBytesException("" + (key.length - pos[0]) + " trailing bytes", pos[0]);
    }
    return new Decoded(name.toString(StandardCharsets.UTF_8), new TensorSlice(extents));
  }

  private static void need(byte[] key, int pos, int n) {
    if (pos + n > key.length) {
      throw new MalformedBytesException("truncated at byte " + pos, pos);
    }
  }

  static long readNumIncreasing(byte[] key, int[] pos) {
    need(key, pos[0], 1);
    int len = key[pos[0]++] & 0xFF;
    if (len > 8) {
      throw new MalformedBytesException("number of " + len + " bytes", pos[0]);
    }
    need(key, pos[0], len);
    long v = 0;
    for (int i = 0; i < len; i++) {
      v = (v << 8) | (key[pos[0]++] & 0xFF);
    }
    return v;
  }

  static long readSignedNumIncreasing(byte[] key, int[] pos) {
    need(key, pos[0], 1);
    int first = key[pos[0]] & 0xFF;
    // Sign bit set: non-negative. Count leading bits equal to the sign bit (across two bytes).
    boolean negative = (first & 0x80) == 0;
    int x = negative ? (~first & 0xFF) : first;
    int n;
    if (x < 0x80) {
      throw new IllegalStateException("unreachable");
    }
    if ((x & 0xC0) == 0x80) {
      n = 1;
    } else if ((x & 0xE0) == 0xC0) {
      n = 2;
    } else if ((x & 0xF0) == 0xE0) {
      n = 3;
    } else if ((x & 0xF8) == 0xF0) {
      n = 4;
    } else if ((x & 0xFC) == 0xF8) {
      n = 5;
    } else if ((x & 0xFE) == 0xFC) {
      n = 6;
    } else if (x == 0xFE) {
      n = 7;
    } else {
      need(key, pos[0], 2);
      int second = key[pos[0] + 1] & 0xFF;
      int y = negative ? (~second & 0xFF) : second;
      if ((y & 0x80) == 0) {
        n = 8;
      } else if ((y & 0xC0) == 0x80) {
        n = 9;
      } else if ((y & 0xE0) == 0xC0) {
        n = 10;
      } else {
        throw new MalformedBytesException("signed number too long", pos[0]);
      }
    }
    need(key, pos[0], n);
    byte[] buf = new byte[10];
    System.arraycopy(key, pos[0], buf, 10 - n, n);
    pos[0] += n;
    int from = 10 - n;
    if (n == 1) {
      return (byte) (buf[9] ^ 0x80);
    }
    buf[from] ^= (byte) HEADER[n][0];
    buf[from + 1] ^= (byte) HEADER[n][1];
    long fill = negative ? -1L : 0L;
    for (int i = 0; i < from; i++) {
      buf[i] = (byte) fill;
    }
    long v = 0;
    for (int i = 2; i < 10; i++) {
      v = (v << 8) | (buf[i] & 0xFF);
    }
    return v;
  }
}
