package io.rebundle.jobs.cli;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Prints tensor values the way numpy does: nested brackets, space-separated elements, strings as
 * Python bytes literals, and {@code ...} once more than {@code maxElements} would be shown.
 */
final class ValueFormatter {
  private ValueFormatter() {}

  static String format(Tensor t, int maxElements) {
    return format(t.shape(), t, maxElements);
  }

  /**
   * Formats a tensor of {@code shape} from {@code head}, which holds (at least) its first {@code
   * min(n, maxElements)} elements in row-major order ({@code CheckpointReader.readHead}); only
   * those are looked at.
   */
  static String format(TensorShape shape, Tensor head, int maxElements) {
    Tensor t = head;
    long n = shape.numElements();
    StringBuilder sb = new StringBuilder();
    if (shape.isScalar()) {
      return element(t, 0);
    }
    long[] dims = shape.dims();
    int[] printed = {0};
    formatDim(t, dims, 0, 0, sb, maxElements, printed, n);
    return sb.toString();
  }

  private static long stride(long[] dims, int from) {
    long s = 1;
    for (int i = from; i < dims.length; i++) {
      s *= dims[i];
    }
    return s;
  }

  private static void formatDim(
      Tensor t,
      long[] dims,
      int d,
      long base,
      StringBuilder sb,
      int max,
      int[] printed,
      long total) {
    sb.append('[');
    long stride = stride(dims, d + 1);
    for (long i = 0; i < dims[d]; i++) {
      if (printed[0] >= max) {
        if (printed[0] == max) {
          sb.append(i > 0 ? " ..." : "...");
          printed[0]++;
        }
        break;
      }
      if (i > 0) {
        sb.append(d == dims.length - 1 ? " " : "\n" + " ".repeat(d + 1));
      }
      if (d == dims.length - 1) {
        sb.append(element(t, base + i));
        printed[0]++;
      } else {
        formatDim(t, dims, d + 1, base + i * stride, sb, max, printed, total);
      }
    }
    sb.append(']');
  }

  static String element(Tensor t, long index) {
    DType dtype = t.dtype();
    if (dtype == DType.STRING) {
      return bytesLiteral(t.strings().get((int) index));
    }
    ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    int at = (int) (index * dtype.elementSize());
    return switch (dtype) {
      case FLOAT -> floating(b.getFloat(at));
      case DOUBLE -> floating(b.getDouble(at));
      case HALF -> floating(halfToFloat(b.getShort(at)));
      case BFLOAT16 -> floating(Float.intBitsToFloat((b.getShort(at) & 0xFFFF) << 16));
      case FLOAT8_E5M2 -> floating(halfToFloat((short) ((b.get(at) & 0xFF) << 8)));
      case FLOAT8_E4M3FN -> floating(e4m3fnToFloat(b.get(at)));
      case INT8, QINT8, INT4 -> Byte.toString(b.get(at));
      case UINT8, QUINT8, UINT4 -> Integer.toString(b.get(at) & 0xFF);
      case INT16, QINT16 -> Short.toString(b.getShort(at));
      case UINT16, QUINT16 -> Integer.toString(b.getShort(at) & 0xFFFF);
      case INT32, QINT32 -> Integer.toString(b.getInt(at));
      case UINT32 -> Integer.toUnsignedString(b.getInt(at));
      case INT64 -> Long.toString(b.getLong(at));
      case UINT64 -> Long.toUnsignedString(b.getLong(at));
      case BOOL -> b.get(at) != 0 ? "True" : "False";
      case COMPLEX64 -> complex(b.getFloat(at), b.getFloat(at + 4));
      case COMPLEX128 -> complex(b.getDouble(at), b.getDouble(at + 8));
      default -> String.format("0x%02x", b.get(at) & 0xFF);
    };
  }

  private static String complex(double re, double im) {
    return "("
        + floating(re)
        + (im < 0 || (im == 0 && 1 / im < 0) ? "" : "+")
        + floating(im)
        + "j)";
  }

  /** numpy prints whole floats with a trailing dot: {@code 1.}, others shortest round-trip. */
  static String floating(double v) {
    if (Double.isNaN(v)) {
      return "nan";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e16) {
      return (v == 0 && 1 / v < 0 ? "-" : "") + (long) Math.abs(v) * (v < 0 ? -1 : 1) + ".";
    }
    return Double.toString(v);
  }

  private static String floating(float v) {
    if (v == Math.rint(v) || Float.isNaN(v) || Float.isInfinite(v)) {
      return floating((double) v);
    }
    return Float.toString(v);
  }

  static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits >>> 15) << 31;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant / 1024f * (float) Math.pow(2, -14);
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  static float e4m3fnToFloat(byte b) {
    int bits = b & 0xFF;
    boolean neg = (bits & 0x80) != 0;
    int exp = (bits >>> 3) & 0xF;
    int mant = bits & 0x7;
    if (exp == 0xF && mant == 0x7) {
      return Float.NaN;
    }
    float v =
        exp == 0
            ? mant / 8f * (float) Math.pow(2, -6)
            : (1 + mant / 8f) * (float) Math.pow(2, exp - 7);
    return neg ? -v : v;
  }

  static String bytesLiteral(byte[] s) {
    StringBuilder sb = new StringBuilder("b'");
    for (byte x : s) {
      int c = x & 0xFF;
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '\'' -> sb.append("\\'");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c >= 0x20 && c < 0x7F) {
            sb.append((char) c);
          } else {
            sb.append(String.format("\\x%02x", c));
          }
        }
      }
    }
    return sb.append('\'').toString();
  }
}
