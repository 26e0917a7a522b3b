package io.rebundle.codec.stats;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.TensorChecksum;
import io.rebundle.codec.bundle.TensorShape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * One streaming pass over a tensor's stored bytes computing, per byte read once: value statistics
 * ({@link TensorStats}), the CRC-32C the bundle entry stores, and a 128-bit content fingerprint.
 *
 * <p>A tensor of a fixed-size dtype may be read as several byte ranges, in any order and on
 * different machines, each starting at a multiple of {@link #CHUNK}: each range yields a {@link
 * Partial}, and {@link #combine} merges them into the tensor's {@link Result}. Counts merge
 * exactly, moments by Chan's pairwise update, CRCs by GF(2) combination, and the fingerprint is
 * mergeable by design: it hashes the dtype, the shape, the byte size and the list of per-chunk
 * MurmurHash3-128 digests of the bytes, so each range contributes the digests of its own chunks and
 * the result does not depend on how the tensor was split. Strings and variants have a CRC that is a
 * state machine over the whole tensor, so they are always read as one range, without statistics.
 *
 * <p>The fingerprint is equal when dtype, shape and bytes are equal; different content gives a
 * different fingerprint except with probability about 2^-128 (MurmurHash3 is not built to resist
 * inputs crafted to collide; it is a deduplication key, not a signature).
 */
public final class TensorDigest {
  /** Fingerprint chunk; byte ranges of one tensor must start at multiples of it. */
  public static final int CHUNK = 1 << 20;

  /**
   * Elements decoded per statistics block (the block's moments are merged into the running ones).
   */
  private static final int BLOCK = 2048;

  private TensorDigest() {}

  /** Whether statistics are defined for a dtype: every integer, boolean and real floating type. */
  public static boolean hasStats(DType dtype) {
    return ElementDecoder.of(dtype) != null;
  }

  /** Whether a tensor of this dtype may be read as several byte ranges. */
  public static boolean isSplittable(DType dtype) {
    return dtype.isFixedSize();
  }

  /** The part of a tensor one range contributes. Serializable: partials travel between tasks. */
  public record Partial(long start, long length, TensorStats stats, int crc, long[] chunkDigests)
      implements java.io.Serializable {}

  /**
   * A whole tensor: statistics (null for dtypes without, or when not asked for), the unmasked
   * CRC-32C of its stored bytes, and its fingerprint (16 bytes).
   */
  public record Result(TensorStats stats, int crc32c, byte[] fingerprint)
      implements java.io.Serializable {
    public String fingerprintHex() {
      return hex(fingerprint);
    }
  }

  /**
   * Starts accumulating bytes [{@code start}, {@code start + length}) of a tensor's stored bytes.
   * {@code stats} false skips the statistics (CRC and fingerprint only).
   */
  public static Accumulator accumulate(
      DType dtype, long elements, boolean bigEndian, long start, long length, boolean stats) {
    if (start < 0 || length < 0 || start % CHUNK != 0) {
      throw new IllegalArgumentException(
          "Invalid tensor range: "
              + length
              + " bytes at "
              + start
              + " (ranges start at multiples of "
              + CHUNK
              + ")");
    }
    if (!isSplittable(dtype) && start != 0) {
      throw new IllegalArgumentException(
          "Invalid tensor range: " + dtype.displayName() + " tensors are read whole");
    }
    return new Accumulator(dtype, elements, bigEndian, start, length, stats);
  }

  /**
   * Accumulates one range; feed it the range's bytes in order, in any chunking. Not thread-safe.
   */
  public static final class Accumulator {
    private final long start;
    private final long length;
    private final CRC32C rawCrc;
    private final TensorChecksum checksum;
    private final ElementDecoder decoder;
    private final ByteOrder order;
    private final double[] values;
    private final byte[] carry;
    private int carryLength;
    private long fed;
    private Murmur3 chunk = new Murmur3(0);
    private long chunkFed;
    private final List<long[]> digests = new ArrayList<>();
    // Statistics.
    private long nan;
    private long posInf;
    private long negInf;
    private long zero;
    private long negative;
    private long positive;
    private long finite;
    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;
    private double mean;
    private double m2;
    private double sumSquares;

    private Accumulator(
        DType dtype, long elements, boolean bigEndian, long start, long length, boolean stats) {
      this.start = start;
      this.length = length;
      this.order = bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
      if (dtype.isFixedSize()) {
        this.rawCrc = new CRC32C();
        this.checksum = null;
      } else {
        this.rawCrc = null;
        this.checksum = TensorChecksum.of(dtype, elements, bigEndian);
      }
      this.decoder = stats ? ElementDecoder.of(dtype) : null;
      this.values = decoder == null ? null : new double[BLOCK];
      this.carry = decoder == null ? null : new byte[decoder.width];
    }

    /** Feeds the remaining bytes of {@code b} (its position is left unchanged). */
    public void update(ByteBuffer b) {
      int n = b.remaining();
      if (n > length - fed) {
        throw new IllegalArgumentException(
            "Invalid tensor range: more than " + length + " bytes fed");
      }
      if (rawCrc != null) {
        rawCrc.update(b.duplicate());
      } else {
        checksum.update(b);
      }
      hashChunks(b);
      if (decoder != null) {
        stats(b.duplicate().order(order));
      }
      fed += n;
    }

    public void update(byte[] bytes, int off, int len) {
      update(ByteBuffer.wrap(bytes, off, len));
    }

    private void hashChunks(ByteBuffer b) {
      ByteBuffer v = b.duplicate();
      while (v.hasRemaining()) {
        int take = (int) Math.min(v.remaining(), CHUNK - chunkFed);
        ByteBuffer part = v.slice();
        part.limit(take);
        chunk.update(part);
        chunkFed += take;
        v.position(v.position() + take);
        if (chunkFed == CHUNK) {
          digests.add(chunk.finish());
          chunk = new Murmur3(0);
          chunkFed = 0;
        }
      }
    }

    private void stats(ByteBuffer v) {
      int w = decoder.width;
      if (carryLength > 0) {
        while (carryLength < w && v.hasRemaining()) {
          carry[carryLength++] = v.get();
        }
        if (carryLength < w) {
          return;
        }
        decoder.decode(ByteBuffer.wrap(carry).order(order), 0, 1, values);
        block(values, 1);
        carryLength = 0;
      }
      int pos = v.position();
      int whole = (v.limit() - pos) / w;
      while (whole > 0) {
        int n = Math.min(whole, BLOCK);
        decoder.decode(v, pos, n, values);
        block(values, n);
        pos += n * w;
        whole -= n;
      }
      while (pos < v.limit()) {
        carry[carryLength++] = v.get(pos++);
      }
    }

    /**
     * Counts a block and merges its moments (shifted by the running mean) into the running ones.
     */
    private void block(double[] x, int n) {
      double shift = finite > 0 ? mean : Double.NaN;
      if (finite == 0) {
        for (int i = 0; i < n; i++) {
          if (Double.isFinite(x[i])) {
            shift = x[i];
            break;
          }
        }
      }
      long cnt = 0;
      long z = 0;
      long neg = 0;
      long nNan = 0;
      long nPos = 0;
      long nNeg = 0;
      double lo = min;
      double hi = max;
      double s1 = 0;
      double s2 = 0;
      double sq = 0;
      for (int i = 0; i < n; i++) {
        double v = x[i];
        if (v - v != 0 || v != v) {
          // Not finite: NaN (v != v) or an infinity (inf - inf is NaN).
          if (v != v) {
            nNan++;
          } else if (v > 0) {
            nPos++;
          } else {
            nNeg++;
          }
          continue;
        }
        cnt++;
        if (v == 0) {
          z++;
        } else if (v < 0) {
          neg++;
        }
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        double d = v - shift;
        s1 += d;
        s2 += d * d;
        sq += v * v;
      }
      nan += nNan;
      posInf += nPos;
      negInf += nNeg;
      zero += z;
      negative += neg;
      positive += cnt - z - neg;
      min = lo;
      max = hi;
      sumSquares += sq;
      if (cnt == 0) {
        return;
      }
      double blockMean = shift + s1 / cnt;
      double blockM2 = Math.max(0, s2 - s1 * s1 / cnt);
      if (finite == 0) {
        mean = blockMean;
        m2 = blockM2;
        finite = cnt;
        return;
      }
      long total = finite + cnt;
      double delta = blockMean - mean;
      mean += delta * ((double) cnt / total);
      m2 += blockM2 + delta * delta * ((double) finite * cnt / total);
      finite = total;
    }

    /** Ends the range; all its bytes must have been fed. */
    public Partial finish() {
      if (fed != length) {
        throw new IllegalStateException(
            "Cannot finish tensor range: " + fed + " of " + length + " bytes fed");
      }
      if (chunkFed > 0 || digests.isEmpty() && length == 0) {
        digests.add(chunk.finish());
      }
      long[] flat = new long[digests.size() * 2];
      for (int i = 0; i < digests.size(); i++) {
        flat[2 * i] = digests.get(i)[0];
        flat[2 * i + 1] = digests.get(i)[1];
      }
      TensorStats s = null;
      if (decoder != null) {
        long elements = nan + posInf + negInf + finite;
        s =
            new TensorStats(
                elements,
                nan,
                posInf,
                negInf,
                zero,
                negative,
                positive,
                finite,
                finite > 0 ? min : Double.NaN,
                finite > 0 ? max : Double.NaN,
                finite > 0 ? mean : Double.NaN,
                m2,
                sumSquares);
      }
      int crc = rawCrc != null ? (int) rawCrc.getValue() : checksum.value();
      return new Partial(start, length, s, crc, flat);
    }
  }

  /**
   * Merges the partials of one tensor of {@code size} stored bytes; they must cover [0, size)
   * exactly, in any order.
   */
  public static Result combine(DType dtype, TensorShape shape, long size, List<Partial> partials) {
    List<Partial> sorted = new ArrayList<>(partials);
    sorted.sort(Comparator.comparingLong(Partial::start));
    long at = 0;
    int crc = 0;
    TensorStats stats = null;
    boolean withStats = !sorted.isEmpty() && sorted.get(0).stats() != null;
    List<long[]> digests = new ArrayList<>();
    for (Partial p : sorted) {
      if (p.start() != at) {
        throw new IllegalArgumentException(
            "Cannot combine tensor ranges: expected a range at "
                + at
                + ", found one at "
                + p.start());
      }
      crc = at == 0 ? p.crc() : Crc32cCombine.combine(crc, p.crc(), p.length());
      if (withStats) {
        stats = stats == null ? p.stats() : stats.merge(p.stats());
      }
      digests.add(p.chunkDigests());
      at += p.length();
    }
    if (at != size) {
      throw new IllegalArgumentException(
          "Cannot combine tensor ranges: they cover " + at + " of " + size + " bytes");
    }
    if (size == 0 && sorted.isEmpty()) {
      stats = hasStats(dtype) ? TensorStats.EMPTY : null;
      digests.add(new Murmur3(0).finish());
    }
    Murmur3 h = new Murmur3(0x5245_4255_4e44_4c45L);
    ByteBuffer head =
        ByteBuffer.allocate(16 + 8 * shape.dims().length).order(ByteOrder.LITTLE_ENDIAN);
    head.putInt(dtype.code()).putInt(shape.dims().length).putLong(size);
    for (long d : shape.dims()) {
      head.putLong(d);
    }
    head.flip();
    h.update(head);
    ByteBuffer d = ByteBuffer.allocate(16 * 64).order(ByteOrder.LITTLE_ENDIAN);
    for (long[] flat : digests) {
      for (int i = 0; i + 1 < flat.length; i += 2) {
        d.putLong(flat[i]).putLong(flat[i + 1]);
        if (!d.hasRemaining()) {
          d.flip();
          h.update(d);
          d.clear();
        }
      }
    }
    d.flip();
    h.update(d);
    long[] f = h.finish();
    byte[] out = ByteBuffer.allocate(16).putLong(f[0]).putLong(f[1]).array();
    return new Result(stats, crc, out);
  }

  /**
   * Reads a whole tensor from one buffer-at-a-time source: a convenience for single-range reads.
   */
  public static Result ofBytes(DType dtype, TensorShape shape, boolean bigEndian, byte[] bytes) {
    Accumulator a = accumulate(dtype, shape.numElements(), bigEndian, 0, bytes.length, true);
    a.update(bytes, 0, bytes.length);
    return combine(dtype, shape, bytes.length, List.of(a.finish()));
  }

  /**
   * A checkpoint's fingerprint from its tensors' keys and fingerprints (in key order): equal
   * exactly when the checkpoints hold the same keys with the same contents.
   */
  public static String checkpointFingerprint(List<String> keys, List<String> tensorFingerprints) {
    Murmur3 h = new Murmur3(0x434b5054L);
    for (int i = 0; i < keys.size(); i++) {
      byte[] k = keys.get(i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      ByteBuffer b = ByteBuffer.allocate(4 + k.length).order(ByteOrder.LITTLE_ENDIAN);
      b.putInt(k.length).put(k).flip();
      h.update(b);
      byte[] f =
          tensorFingerprints.get(i) == null
              ? new byte[0]
              : tensorFingerprints.get(i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      ByteBuffer fb = ByteBuffer.allocate(4 + f.length).order(ByteOrder.LITTLE_ENDIAN);
      fb.putInt(f.length).put(f).flip();
      h.update(fb);
    }
    long[] f = h.finish();
    return hex(ByteBuffer.allocate(16).putLong(f[0]).putLong(f[1]).array());
  }

  static String hex(byte[] bytes) {
    StringBuilder sb = new StringBuilder(bytes.length * 2);
    for (byte b : bytes) {
      sb.append(Character.forDigit((b >>> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
    }
    return sb.toString();
  }
}
