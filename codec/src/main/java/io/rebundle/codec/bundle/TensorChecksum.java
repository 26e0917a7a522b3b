package io.rebundle.codec.bundle;

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

  /** A checksum for a tensor of {@code numElements} elements of {@code dtype}. */
  public static TensorChecksum of(DType dtype, long numElements, boolean bigEndian) {
    return switch (dtype) {
      case STRING -> new Strings(numElements, bigEndian);
      case VARIANT -> new Variants(numElements);
      default -> new Raw();
    };
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
    private final byte[] scratch = new byte[8];
    private long lengthsLeft;
    private long value;
    private int shift;
    private int checksumBytesLeft = 4;

    Strings(long numElements, boolean bigEndian) {
      this.lengthsLeft = numElements;
      this.bigEndian = bigEndian;
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
          StringTensors.updateLength(crc, scratch, value, bigEndian);
          lengthsLeft--;
          value = 0;
          shift = 0;
        }
      }
      if (i < end && checksumBytesLeft > 0) {
        int n = Math.min(checksumBytesLeft, end - i);
        crc.update(bytes, i, n);
        checksumBytesLeft -= n;
        i += n;
      }
      if (i < end) {
        crc.update(bytes, i, end - i);
      }
    }
  }

  /** DT_VARIANT: per element a varint64 length, the bytes, and a fixed32 checksum. */
  static final class Variants extends TensorChecksum {
    private final byte[] scratch = new byte[8];
    private long elementsLeft;
    private int state; // 0 = length varint, 1 = payload, 2 = checksum
    private long value;
    private int shift;
    private long payloadLeft;
    private int checksumLeft;

    Variants(long numElements) {
      this.elementsLeft = numElements;
    }

    @Override
    public void update(byte[] bytes, int offset, int length) {
      int i = offset;
      int end = offset + length;
      while (i < end) {
        if (elementsLeft == 0) {
          crc.update(bytes, i, end - i);
          return;
        }
        if (state == 0) {
          int b = bytes[i++] & 0xFF;
          value |= (long) (b & 0x7F) << shift;
          shift += 7;
          if ((b & 0x80) == 0 || shift >= 70) {
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
    }
  }
}
