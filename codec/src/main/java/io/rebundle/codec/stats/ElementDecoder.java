package io.rebundle.codec.stats;

import io.rebundle.codec.bundle.DType;
import java.nio.ByteBuffer;

/**
 * Widens stored elements to double, exactly for every type whose values a double holds exactly (all
 * floats up to float64, all integers up to 32 bits); 64-bit integers beyond 2^53 round to the
 * nearest double. One-byte float types (float8 variants, float4) go through a 256-entry table built
 * from their bit layouts; float16 through a 65536-entry table. Sub-byte integer types (int4, uint4,
 * int2, uint2) are stored one element per byte, sign- or zero-extended, and are read as such.
 */
abstract class ElementDecoder {
  final int width;

  ElementDecoder(int width) {
    this.width = width;
  }

  /**
   * Decodes {@code n} elements starting at absolute byte {@code pos} of {@code b} into {@code out}.
   */
  abstract void decode(ByteBuffer b, int pos, int n, double[] out);

  /**
   * The decoder of a dtype, or null if statistics are not defined for it (strings, complex, ...).
   */
  static ElementDecoder of(DType dtype) {
    return switch (dtype) {
      case FLOAT ->
          new ElementDecoder(4) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = b.getFloat(pos + 4 * i);
              }
            }
          };
      case DOUBLE ->
          new ElementDecoder(8) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = b.getDouble(pos + 8 * i);
              }
            }
          };
      case HALF ->
          new ElementDecoder(2) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              float[] t = HALF_TABLE;
              for (int i = 0; i < n; i++) {
                out[i] = t[b.getShort(pos + 2 * i) & 0xFFFF];
              }
            }
          };
      case BFLOAT16 ->
          new ElementDecoder(2) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = Float.intBitsToFloat((b.getShort(pos + 2 * i) & 0xFFFF) << 16);
              }
            }
          };
      case INT8, QINT8, INT4, INT2 ->
          new ElementDecoder(1) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = b.get(pos + i);
              }
            }
          };
      case UINT8, QUINT8, BOOL, UINT4, UINT2 ->
          new ElementDecoder(1) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = b.get(pos + i) & 0xFF;
              }
            }
          };
      case INT16, QINT16 ->
          new ElementDecoder(2) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = b.getShort(pos + 2 * i);
              }
            }
          };
      case UINT16, QUINT16 ->
          new ElementDecoder(2) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = b.getShort(pos + 2 * i) & 0xFFFF;
              }
            }
          };
      case INT32, QINT32 ->
          new ElementDecoder(4) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = b.getInt(pos + 4 * i);
              }
            }
          };
      case UINT32 ->
          new ElementDecoder(4) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = b.getInt(pos + 4 * i) & 0xFFFFFFFFL;
              }
            }
          };
      case INT64 ->
          new ElementDecoder(8) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = b.getLong(pos + 8 * i);
              }
            }
          };
      case UINT64 ->
          new ElementDecoder(8) {
            @Override
            void decode(ByteBuffer b, int pos, int n, double[] out) {
              for (int i = 0; i < n; i++) {
                out[i] = unsignedToDouble(b.getLong(pos + 8 * i));
              }
            }
          };
      case FLOAT8_E5M2 -> table(minifloatTable(5, 2, 15, true, false, false));
      case FLOAT8_E4M3FN -> table(minifloatTable(4, 3, 7, false, true, false));
      case FLOAT8_E4M3FNUZ -> table(minifloatTable(4, 3, 8, false, false, true));
      case FLOAT8_E4M3B11FNUZ -> table(minifloatTable(4, 3, 11, false, false, true));
      case FLOAT8_E5M2FNUZ -> table(minifloatTable(5, 2, 16, false, false, true));
      case FLOAT4_E2M1FN -> table(minifloatTable(2, 1, 1, false, false, false));
      default -> null;
    };
  }

  static double unsignedToDouble(long v) {
    if (v >= 0) {
      return v;
    }
    // Halve (keeping the lowest bit so rounding stays correct), convert, double.
    return ((v >>> 1) | (v & 1)) * 2.0;
  }

  private static ElementDecoder table(double[] t) {
    return new ElementDecoder(1) {
      @Override
      void decode(ByteBuffer b, int pos, int n, double[] out) {
        for (int i = 0; i < n; i++) {
          out[i] = t[b.get(pos + i) & 0xFF];
        }
      }
    };
  }

  static final float[] HALF_TABLE = new float[1 << 16];

  static {
    for (int h = 0; h < HALF_TABLE.length; h++) {
      HALF_TABLE[h] = (float) halfToDouble(h);
    }
  }

  /** IEEE binary16 to double, exactly. */
  static double halfToDouble(int h) {
    int sign = (h >>> 15) & 1;
    int exp = (h >>> 10) & 0x1F;
    int mant = h & 0x3FF;
    double v;
    if (exp == 0x1F) {
      v = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else if (exp == 0) {
      v = Math.scalb((double) mant, -24);
    } else {
      v = Math.scalb((double) (mant | 0x400), exp - 25);
    }
    return sign == 1 ? -v : v;
  }

  /**
   * The values of all 256 codes of a small float format with {@code e} exponent bits, {@code m}
   * mantissa bits and exponent bias {@code bias}. {@code ieee}: the top exponent encodes Inf/NaN
   * (float8_e5m2); {@code fn}: no infinities, only the all-ones code is NaN (float8_e4m3fn); {@code
   * uz}: no infinities and no negative zero, the code 0x80 is the only NaN (the *fnuz types). Codes
   * wider than the format (float4 in a byte) use the low bits.
   */
  static double[] minifloatTable(int e, int m, int bias, boolean ieee, boolean fn, boolean uz) {
    int bits = 1 + e + m;
    double[] t = new double[256];
    for (int code = 0; code < 256; code++) {
      int c = code & ((1 << bits) - 1);
      int sign = (c >>> (e + m)) & 1;
      int exp = (c >>> m) & ((1 << e) - 1);
      int mant = c & ((1 << m) - 1);
      int maxExp = (1 << e) - 1;
      double v;
      if (uz && c == 1 << (e + m)) {
        v = Double.NaN;
      } else if (ieee && exp == maxExp) {
        v = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
      } else if (fn && exp == maxExp && mant == (1 << m) - 1) {
        v = Double.NaN;
      } else if (exp == 0) {
        v = Math.scalb((double) mant, 1 - bias - m);
      } else {
        v = Math.scalb((double) (mant | (1 << m)), exp - bias - m);
      }
      t[code] = sign == 1 && !Double.isNaN(v) ? -v : v;
    }
    return t;
  }
}
