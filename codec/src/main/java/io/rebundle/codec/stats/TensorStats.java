package io.rebundle.codec.stats;

/**
 * Value statistics of a tensor, or of a contiguous part of one: the counts TensorFlow's
 * DebugNumericSummary reports (NaN, +Inf, -Inf, zero, negative, positive) and moments over the
 * finite values. Moments are kept as count, mean and the sum of squared deviations (M2), so two
 * parts merge exactly for counts and stably for moments (Chan et al.'s pairwise update). When no
 * value is finite, {@link #min()}, {@link #max()} and {@link #mean()} are NaN and the accessors
 * that return boxed values return null.
 */
public record TensorStats(
    long elements,
    long nanCount,
    long posInfCount,
    long negInfCount,
    long zeroCount,
    long negativeCount,
    long positiveCount,
    long finiteCount,
    double min,
    double max,
    double mean,
    double m2,
    double sumSquares)
    implements java.io.Serializable {

  public static final TensorStats EMPTY =
      new TensorStats(0, 0, 0, 0, 0, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, 0, 0);

  public TensorStats {
    if (elements < 0
        || finiteCount < 0
        || finiteCount > elements
        || nanCount + posInfCount + negInfCount + finiteCount != elements
        || zeroCount + negativeCount + positiveCount != finiteCount) {
      throw new IllegalArgumentException(
          "Invalid tensor statistics: counts do not add up: "
              + elements
              + " elements, "
              + finiteCount
              + " finite, "
              + nanCount
              + " NaN, "
              + posInfCount
              + " +Inf, "
              + negInfCount
              + " -Inf");
    }
  }

  /** Merges the statistics of two disjoint parts (order does not matter). */
  public TensorStats merge(TensorStats o) {
    if (o.finiteCount == 0 || finiteCount == 0) {
      TensorStats values = finiteCount == 0 ? o : this;
      return new TensorStats(
          elements + o.elements,
          nanCount + o.nanCount,
          posInfCount + o.posInfCount,
          negInfCount + o.negInfCount,
          zeroCount + o.zeroCount,
          negativeCount + o.negativeCount,
          positiveCount + o.positiveCount,
          finiteCount + o.finiteCount,
          values.min,
          values.max,
          values.mean,
          values.m2,
          values.sumSquares);
    }
    long n = finiteCount + o.finiteCount;
    double delta = o.mean - mean;
    double newMean = mean + delta * ((double) o.finiteCount / n);
    double newM2 = m2 + o.m2 + delta * delta * ((double) finiteCount * o.finiteCount / n);
    return new TensorStats(
        elements + o.elements,
        nanCount + o.nanCount,
        posInfCount + o.posInfCount,
        negInfCount + o.negInfCount,
        zeroCount + o.zeroCount,
        negativeCount + o.negativeCount,
        positiveCount + o.positiveCount,
        n,
        Math.min(min, o.min),
        Math.max(max, o.max),
        newMean,
        newM2,
        sumSquares + o.sumSquares);
  }

  public boolean hasFinite() {
    return finiteCount > 0;
  }

  /** Smallest finite value, or null if none. */
  public Double minOrNull() {
    return hasFinite() ? min : null;
  }

  public Double maxOrNull() {
    return hasFinite() ? max : null;
  }

  public Double meanOrNull() {
    return hasFinite() ? mean : null;
  }

  /**
   * Population standard deviation of the finite values (DebugNumericSummary's variance, rooted).
   */
  public Double stdOrNull() {
    return hasFinite() ? Math.sqrt(Math.max(0, m2) / finiteCount) : null;
  }

  /** Euclidean norm of the finite values. */
  public Double l2NormOrNull() {
    return hasFinite() ? Math.sqrt(sumSquares) : null;
  }

  /** Largest absolute finite value. */
  public Double absMaxOrNull() {
    return hasFinite() ? Math.max(Math.abs(min), Math.abs(max)) : null;
  }

  /** Whether every element is zero (and there is at least one). */
  public boolean allZero() {
    return elements > 0 && zeroCount == elements;
  }
}
