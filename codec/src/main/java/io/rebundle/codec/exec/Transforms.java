package io.rebundle.codec.exec;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.PlannedTensor;
import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Byte-changing transforms of one tensor, streamed in bounded memory: dtype casts between the
 * floating-point types (narrowing rounds to nearest, ties to even; NaN and infinities are kept),
 * transposes (an element gather through a small page cache) and reshapes (bytes unchanged).
 */
public final class Transforms {
  private Transforms() {}

  /** Writes the transformed tensor to {@code out}; the source CRC is verified along the way. */
  static void apply(
      CheckpointReader reader,
      String key,
      BundleEntry source,
      PlannedTensor.Transformed t,
      OutputStream out,
      byte[] buffer)
      throws IOException {
    apply(StoredBytes.of(reader), key, source, t, out, buffer);
  }

  /**
   * Writes the transformed tensor to {@code out}, reading the source through {@code reader} (which
   * checks the source checksum where its format has one).
   */
  public static void apply(
      StoredBytes reader,
      String key,
      BundleEntry source,
      PlannedTensor.Transformed t,
      OutputStream out,
      byte[] buffer)
      throws IOException {
    MappingRules.Transform tr = t.transform();
    if (tr.reshape() != null) {
      reader.copyRaw(key, source, out, buffer);
    } else if (tr.cast() != null) {
      cast(reader, key, source, tr.cast(), out, buffer);
    } else {
      reader.verifyData(key, source, buffer);
      transpose(reader, key, source, tr.transpose(), out, buffer);
    }
  }

  private static void cast(
      StoredBytes reader, String key, BundleEntry source, DType to, OutputStream out, byte[] buffer)
      throws IOException {
    DType from = source.dtype();
    int inSize = from.elementSize();
    int outSize = to.elementSize();
    int chunk = (buffer.length / 2 / 8) * 8;
    byte[] converted = new byte[chunk / inSize * outSize + 16];
    // Read through a copying sink so the source CRC is checked by copyRaw itself.
    OutputStream sink =
        new OutputStream() {
          private final byte[] carry = new byte[16];
          private int carried;

          @Override
          public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            int pos = off;
            int end = off + len;
            while (pos < end) {
              if (carried > 0 || end - pos < inSize) {
                while (carried < inSize && pos < end) {
                  carry[carried++] = b[pos++];
                }
                if (carried == inSize) {
                  int n = convert(carry, 0, inSize, from, to, converted, 0);
                  out.write(converted, 0, n);
                  carried = 0;
                }
                continue;
              }
              int whole = Math.min((end - pos) / inSize * inSize, chunk);
              int n = convert(b, pos, whole, from, to, converted, 0);
              out.write(converted, 0, n);
              pos += whole;
            }
          }
        };
    byte[] readBuffer = new byte[chunk];
    reader.copyRaw(key, source, sink, readBuffer);
  }

  /**
   * Converts {@code len} bytes of {@code from} elements; returns the bytes written to {@code dst}.
   */
  static int convert(byte[] src, int off, int len, DType from, DType to, byte[] dst, int dstOff) {
    int inSize = from.elementSize();
    int outSize = to.elementSize();
    int o = dstOff;
    for (int i = off; i < off + len; i += inSize) {
      double dv = 0;
      float fv = 0;
      boolean isDouble = from == DType.DOUBLE;
      switch (from) {
        case FLOAT -> fv = Float.intBitsToFloat(getInt(src, i));
        case DOUBLE -> dv = Double.longBitsToDouble(getLong(src, i));
        case HALF -> fv = halfToFloat((short) getShort(src, i));
        case BFLOAT16 -> fv = Float.intBitsToFloat(getShort(src, i) << 16);
        default -> throw new IllegalArgumentException("Invalid cast source " + from);
      }
      switch (to) {
        case FLOAT -> putInt(dst, o, Float.floatToRawIntBits(isDouble ? (float) dv : fv));
        case DOUBLE -> putLong(dst, o, Double.doubleToRawLongBits(isDouble ? dv : (double) fv));
        case HALF -> putShort(dst, o, floatToHalf(isDouble ? (float) dv : fv));
        case BFLOAT16 -> putShort(dst, o, floatToBfloat16(isDouble ? (float) dv : fv));
        default -> throw new IllegalArgumentException("Invalid cast target " + to);
      }
      o += outSize;
    }
    return o - dstOff;
  }

  /** IEEE binary16 from binary32, rounding to nearest, ties to even; NaN stays (quiet) NaN. */
  public static short floatToHalf(float f) {
    int x = Float.floatToRawIntBits(f);
    int sign = (x >>> 16) & 0x8000;
    int exp = (x >>> 23) & 0xFF;
    int mant = x & 0x7FFFFF;
    if (exp == 0xFF) {
      return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1F) {
      return (short) (sign | 0x7C00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      int m = mant | 0x800000;
      int shift = 14 - e;
      int half = m >>> shift;
      int rem = m & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rem > halfway || (rem == halfway && (half & 1) != 0)) {
        half++;
      }
      return (short) (sign | half);
    }
    int out = sign | (e << 10) | (mant >>> 13);
    int rem = mant & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (out & 1) != 0)) {
      out++;
    }
    return (short) out;
  }

  /** bfloat16 from binary32, rounding to nearest, ties to even; NaN stays (quiet) NaN. */
  public static short floatToBfloat16(float f) {
    int x = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((x >>> 16) | 0x40);
    }
    return (short) ((x + 0x7FFF + ((x >>> 16) & 1)) >>> 16);
  }

  public static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  /**
   * Writes {@code source} transposed by {@code perm} (numpy semantics: output dimension k is input
   * dimension perm[k]) in output row-major order, gathering elements through a bounded page cache.
   */
  static void transpose(
      StoredBytes reader,
      String key,
      BundleEntry source,
      int[] perm,
      OutputStream out,
      byte[] buffer)
      throws IOException {
    TensorShape in = source.shape();
    int rank = in.rank();
    int elem = source.dtype().elementSize();
    long n = in.numElements();
    if (n == 0) {
      return;
    }
    long[] inStride = new long[rank];
    long s = elem;
    for (int d = rank - 1; d >= 0; d--) {
      inStride[d] = s;
      s *= in.dim(d);
    }
    long[] outDims = new long[rank];
    long[] step = new long[rank];
    for (int k = 0; k < rank; k++) {
      outDims[k] = in.dim(perm[k]);
      step[k] = inStride[perm[k]];
    }
    PageCache cache = new PageCache(reader, key, source, 1 << 20, 64);
    long[] index = new long[rank];
    long offset = 0;
    int filled = 0;
    for (long i = 0; i < n; i++) {
      cache.read(offset, buffer, filled, elem);
      filled += elem;
      if (filled + elem > buffer.length) {
        out.write(buffer, 0, filled);
        filled = 0;
      }
      for (int k = rank - 1; k >= 0; k--) {
        if (++index[k] < outDims[k]) {
          offset += step[k];
          break;
        }
        offset -= step[k] * (outDims[k] - 1);
        index[k] = 0;
      }
    }
    out.write(buffer, 0, filled);
  }

  /** Least-recently-used pages of one tensor's stored bytes. */
  private static final class PageCache {
    private final StoredBytes reader;
    private final String key;
    private final BundleEntry entry;
    private final int pageSize;
    private final Map<Long, byte[]> pages;

    PageCache(StoredBytes reader, String key, BundleEntry entry, int pageSize, int maxPages) {
      this.reader = reader;
      this.key = key;
      this.entry = entry;
      this.pageSize = pageSize;
      this.pages =
          new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
              return size() > maxPages;
            }
          };
    }

    void read(long offset, byte[] dst, int dstOff, int len) {
      long page = offset / pageSize;
      int within = (int) (offset % pageSize);
      byte[] p = pages.get(page);
      if (p == null) {
        long start = page * pageSize;
        int size = (int) Math.min(pageSize, entry.size() - start);
        p = new byte[size];
        reader.readRange(key, entry, start, p, 0, size);
        pages.put(page, p);
      }
      if (within + len <= p.length) {
        System.arraycopy(p, within, dst, dstOff, len);
      } else {
        int first = p.length - within;
        System.arraycopy(p, within, dst, dstOff, first);
        read(offset + first, dst, dstOff + first, len - first);
      }
    }
  }

  private static int getShort(byte[] b, int i) {
    return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8;
  }

  private static int getInt(byte[] b, int i) {
    return (b[i] & 0xFF)
        | (b[i + 1] & 0xFF) << 8
        | (b[i + 2] & 0xFF) << 16
        | (b[i + 3] & 0xFF) << 24;
  }

  private static long getLong(byte[] b, int i) {
    return (getInt(b, i) & 0xFFFFFFFFL) | ((long) getInt(b, i + 4) << 32);
  }

  private static void putShort(byte[] b, int i, short v) {
    b[i] = (byte) v;
    b[i + 1] = (byte) (v >>> 8);
  }

  private static void putInt(byte[] b, int i, int v) {
    b[i] = (byte) v;
    b[i + 1] = (byte) (v >>> 8);
    b[i + 2] = (byte) (v >>> 16);
    b[i + 3] = (byte) (v >>> 24);
  }

  private static void putLong(byte[] b, int i, long v) {
    putInt(b, i, (int) v);
    putInt(b, i + 4, (int) (v >>> 32));
  }
}
