package io.rebundle.codec.bundle;

import io.rebundle.codec.MalformedBytesException;
import io.rebundle.codec.util.Crc32c;
import java.util.zip.CRC32C;

/**
 * The CRC32C an entry stores, computed incrementally over a tensor's stored bytes as they stream by
 * (tensorbundle-format.md §4.3-4.5). Fixed-size types checksum the bytes themselves. Strings
 * checksum each varint length as a fixed-width integer, then the stored length checksum, then the
 * string bytes. Variants checksum each element's length as fixed64, its bytes, then its own
 * checksum. Feed the bytes in any chunking; not thread-safe.
 */
public abstract sealed class TensorChecksum {
  protected final CRC32C crc = new CRC32C();

  /** A checksum for a tensor of {@code numElements} elements of {@code dtype}, of unknown size. */
  public static TensorChecksum of(DType dtype, long numElements, boolean bigEndian) {
    return of(dtype, numElements, bigEndian, Long.MAX_VALUE);
  }

  /**
   * A checksum for a tensor of {@code numElements} elements of {@code dtype} stored in {@code size}
   * bytes. Element lengths of strings and variants are checked against the bytes left as they go
   * by: a length that cannot fit raises a {@link MalformedBytesException} before it is used.
   */
  public static TensorChecksum of(DType dtype, long numElements, boolean bigEndian, long size) {
    return switch (dtype) {
      case STRING -> new Strings(numElements, bigEndian, size);
      case VARIANT -> new Variants(numElements, size);
      default -> new Raw();
    };
  }

  /**
   * After all bytes were fed: why their structure contradicts the entry (string lengths that do not
   * add up to the size, a wrong length checksum, an element cut short), or null if none.
   */
  public String problem() {
    return null;
  }

  public abstract void update(byte[] bytes, int offset, int length);

  /** Feeds the remaining bytes of {@code bytes} (its position is left unchanged). */
  public void update(java.nio.ByteBuffer bytes) {
    java.nio.ByteBuffer view = bytes.duplicate();
    if (this instanceof Raw) {
      crc.update(view);
      return;
    }
    byte[] chunk = new byte[Math.min(view.remaining(), 1 << 16)];
    while (view.hasRemaining()) {
      int n = Math.min(chunk.length, view.remaining());
      view.get(chunk, 0, n);
      update(chunk, 0, n);
    }
  }

  /** The unmasked CRC of everything fed so far. */
  public int value() {
    return (int) crc.getValue();
  }

  /** Fixed-size types: the CRC of the bytes. */
  static final class Raw extends TensorChecksum {
    @Override
    public void update(byte[] bytes, int offset, int length) {
      crc.update(bytes, offset, length);
    }
  }

  /** DT_STRING: a state machine over lengths, length checksum, then string bytes. */
  static final class Strings extends TensorChecksum {
    private final boolean bigEndian;
    private final long size;
    private final byte[] scratch = new byte[8];
    private final CRC32C lengthsCrc = new CRC32C();
    private long lengthsLeft;
    private long value;
    private int shift;
    private int checksumBytesLeft = 4;
    private int storedLengthsCrc;
    private long fed;
    private long lengthsEnd = -1;

    /** Sum of the lengths, saturated at Long.MAX_VALUE. */
    private long total;

    private boolean badVarint;

    Strings(long numElements, boolean bigEndian, long size) {
      this.lengthsLeft = numElements;
      this.bigEndian = bigEndian;
      this.size = size;
      if (numElements == 0) {
        lengthsEnd = 0;
      }
    }

    @Override
    public void update(byte[] bytes, int offset, int length) {
      int i = offset;
      int end = offset + length;
      while (i < end && lengthsLeft > 0) {
        int b = bytes[i++] & 0xFF;
        value |= (long) (b & 0x7F) << shift;
        shift += 7;
        if ((b & 0x80) == 0 || shift >= 70) {
          badVarint |= (b & 0x80) != 0;
          long len = value;
          if (len < 0 || len > size) {
            throw new MalformedBytesException(
                "a string length of "
                    + Long.toUnsignedString(len)
                    + " bytes exceeds the entry size "
                    + size,
                fed + i - offset);
          }
          StringTensors.updateLength(crc, scratch, len, bigEndian);
          StringTensors.updateLength(lengthsCrc, scratch, len, bigEndian);
          total = total > Long.MAX_VALUE - len ? Long.MAX_VALUE : total + len;
          lengthsLeft--;
          value = 0;
          shift = 0;
          if (lengthsLeft == 0) {
            lengthsEnd = fed + i - offset;
          }
        }
      }
      while (i < end && checksumBytesLeft > 0) {
        int k = 4 - checksumBytesLeft;
        int b = bytes[i] & 0xFF;
        storedLengthsCrc |= b << (bigEndian ? 8 * (3 - k) : 8 * k);
        crc.update(bytes, i, 1);
        checksumBytesLeft--;
        i++;
      }
      if (i < end) {
        crc.update(bytes, i, end - i);
      }
      fed += length;
    }

    @Override
    public String problem() {
      if (fed == 0 && lengthsEnd == 0) {
        return null;
      }
      if (badVarint) {
        return "a string length is a varint longer than 10 bytes";
      }
      if (lengthsLeft > 0 || checksumBytesLeft > 0) {
        return "the entry of " + fed + " bytes ends inside the string lengths";
      }
      long payload = fed - lengthsEnd - 4;
      if (total != payload) {
        return "string lengths (" + total + " bytes) do not match the entry size " + fed;
      }
      int computed = (int) lengthsCrc.getValue();
      if (Crc32c.unmask(storedLengthsCrc) != computed) {
        return String.format(
            "checksum mismatch for the string lengths: stored %08x, computed %08x",
            Crc32c.unmask(storedLengthsCrc), computed);
      }
      return null;
    }
  }

  /** DT_VARIANT: per element a varint64 length, the bytes, and a fixed32 checksum. */
  static final class Variants extends TensorChecksum {
    private final byte[] scratch = new byte[8];
    private final long size;
    private long elementsLeft;
    private int state; // 0 = length varint, 1 = payload, 2 = checksum
    private long value;
    private int shift;
    private long payloadLeft;
    private int checksumLeft;
    private long fed;

    Variants(long numElements, long size) {
      this.elementsLeft = numElements;
      this.size = size;
    }

    @Override
    public String problem() {
      return elementsLeft > 0 && fed > 0
          ? "the entry of "
              + fed
              + " bytes ends inside element "
              + "data ("
              + elementsLeft
              + " elements left)"
          : null;
    }

    @Override
    public void update(byte[] bytes, int offset, int length) {
      int i = offset;
      int end = offset + length;
      while (i < end) {
        if (elementsLeft == 0) {
          crc.update(bytes, i, end - i);
          break;
        }
        if (state == 0) {
          int b = bytes[i++] & 0xFF;
          value |= (long) (b & 0x7F) << shift;
          shift += 7;
          if ((b & 0x80) == 0 || shift >= 70) {
            long consumed = fed + (i - offset);
            if (value < 0 || value > size - consumed) {
              throw new MalformedBytesException(
                  "a variant element length of "
                      + Long.toUnsignedString(value)
                      + " bytes exceeds the "
                      + (size - consumed)
                      + " bytes left in the entry",
                  consumed);
            }
            io.rebundle.codec.util.Varints.putFixed64(scratch, 0, value);
            crc.update(scratch, 0, 8);
            payloadLeft = value;
            value = 0;
            shift = 0;
            state = payloadLeft == 0 ? 2 : 1;
            checksumLeft = 4;
          }
        } else if (state == 1) {
          int n = (int) Math.min(payloadLeft, end - i);
          crc.update(bytes, i, n);
          payloadLeft -= n;
          i += n;
          if (payloadLeft == 0) {
            state = 2;
            checksumLeft = 4;
          }
        } else {
          int n = Math.min(checksumLeft, end - i);
          crc.update(bytes, i, n);
          checksumLeft -= n;
          i += n;
          if (checksumLeft == 0) {
            state = 0;
            elementsLeft--;
          }
        }
      }
      fed += length;
    }
  }
}
