package io.rebundle.jobs.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The {@code --engine auto|local|spark} option, a picocli mixin shared by the commands that run
 * migrations ({@code convert}, {@code batch}; {@code diff} declares the option itself, with its own
 * size limit, and shares {@link #parse}): where the work runs.
 *
 * <ul>
 *   <li>{@code local}: on a thread pool of this JVM, with no Spark context (no Spark class is even
 *       loaded); one thread per core.
 *   <li>{@code spark}: as a Spark job, embedded {@code local[*]} unless a master is given.
 *   <li>{@code auto} (default): Spark when a master is given ({@code --master}, {@code --conf
 *       spark.master=...}, or spark-submit's {@code spark.master}); otherwise in this JVM when the
 *       bytes to move are at most {@code --local-max} ({@value #DEFAULT_LOCAL_MAX} by default), and
 *       embedded Spark above that.
 * </ul>
 *
 * A master always means Spark: {@code --engine local} with a master is a usage error.
 */
public final class EngineOption {
  /**
   * Default of {@code --local-max}. Measured through submit.sh on 2 cores (README, Performance):
   * the in-process engine was faster end to end at every size tried, 0.75 s against 3.9 s for the
   * 12-byte example, 1.15 s against 4.3 s for 1 GiB, and still ahead at 4 GiB, where both copy
   * phases are bound by the disk and Spark's ~3 s start-up is the difference. There is no crossover
   * on one machine; above 8 GiB start-up is under a tenth of the run, and such jobs stay on the
   * Spark path that has carried big checkpoints longest.
   */
  public static final String DEFAULT_LOCAL_MAX = "8g";

  /** Where the work runs. */
  public enum Engine {
    AUTO,
    LOCAL,
    SPARK;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  @Option(
      names = "--engine",
      paramLabel = "auto|local|spark",
      description = {
        "Where the work runs: local: threads of this JVM, no Spark; spark: a Spark job (embedded "
            + "local[*] unless --master); auto (default): spark when a master is given, else local when "
            + "the bytes to move are at most --local-max, else embedded Spark."
      })
  String engine;

  @Option(
      names = "--local-max",
      paramLabel = "BYTES",
      description =
          "With --engine auto: the largest job (bytes to move) run in this JVM (default "
              + DEFAULT_LOCAL_MAX
              + "; suffixes k, m, g, t).")
  String localMax;

  /** The engine asked for, checked: {@code auto} when none was given. */
  public Engine engine() {
    return parse(engine);
  }

  /**
   * {@code --engine}'s value, checked (null: {@code auto}); for commands whose size limit has a
   * name of its own ({@code diff --distributed-above}) and so declare {@code --engine} themselves.
   */
  public static Engine parse(String engine) {
    if (engine == null) {
      return Engine.AUTO;
    }
    return switch (engine.strip().toLowerCase(Locale.ROOT)) {
      case "auto" -> Engine.AUTO;
      case "local" -> Engine.LOCAL;
      case "spark" -> Engine.SPARK;
      default ->
          throw new UsageException(
              "Invalid --engine: " + engine + " (expected auto, local or spark)");
    };
  }

  /** {@code --local-max} in bytes. */
  public long localMaxBytes() {
    if (localMax != null && engine() != Engine.AUTO) {
      throw new UsageException("Invalid options: --local-max applies to --engine auto only");
    }
    return ConvertCommand.parseSize(localMax == null ? DEFAULT_LOCAL_MAX : localMax);
  }

  /**
   * The engine decided before any work: {@code SPARK} when a master is given (or a context is lent,
   * as tests do) or Spark was asked for, {@code LOCAL} when asked for, else {@code AUTO} (decide by
   * size once the bytes are known).
   */
  public Engine resolve(String master, Map<String, String> conf, boolean contextLent) {
    Engine asked = engine();
    localMaxBytes(); // checked up front, before any work
    boolean masterGiven = masterGiven(master, conf);
    if (asked == Engine.LOCAL && masterGiven) {
      throw new UsageException(
          "Invalid options: --engine local runs in this JVM; a Spark master ("
              + (master != null ? "--master " + master : "spark.master")
              + ") asks for Spark");
    }
    if (asked == Engine.AUTO && (masterGiven || contextLent)) {
      return Engine.SPARK;
    }
    return asked;
  }

  /** With {@code auto} resolved to size: whether a job moving {@code bytes} runs in this JVM. */
  public boolean fitsLocal(long bytes) {
    return bytes <= localMaxBytes();
  }

  /** {@code --master}, {@code --conf spark.master=...}, or spark-submit's system property. */
  public static boolean masterGiven(String master, Map<String, String> conf) {
    return master != null
        || conf.containsKey("spark.master")
        || System.getProperty("spark.master") != null;
  }
}
