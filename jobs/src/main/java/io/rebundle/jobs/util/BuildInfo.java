package io.rebundle.jobs.util;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What the build recorded about itself (the resource {@code io/rebundle/jobs/build.properties},
 * filled in by Maven): the version and git commit, plus the Spark and Hadoop versions in use at run
 * time (which, under spark-submit, are the cluster's, not the ones we built against). Immutable.
 */
public record BuildInfo(
    String version,
    String gitCommit,
    boolean dirty,
    String builtSparkVersion,
    String builtHadoopVersion) {

  private static final BuildInfo CURRENT = load();

  public static BuildInfo current() {
    return CURRENT;
  }

  /** e.g. {@code 0.1.0-SNAPSHOT (a1b2c3d)} or {@code 0.1.0-SNAPSHOT (a1b2c3d, modified)}. */
  public String toolVersion() {
    return version + " (" + gitCommit + (dirty ? ", modified" : "") + ")";
  }

  /** The Spark version on the class path, or the one built against if Spark is absent. */
  public String sparkVersion() {
    try {
      return org.apache.spark.package$.MODULE$.SPARK_VERSION();
    } catch (LinkageError e) {
      return builtSparkVersion + " (built against; not on the class path)";
    }
  }

  /** The Hadoop version on the class path, or the one built against if Hadoop is absent. */
  public String hadoopVersion() {
    try {
      return org.apache.hadoop.util.VersionInfo.getVersion();
    } catch (LinkageError e) {
      return builtHadoopVersion + " (built against; not on the class path)";
    }
  }

  /**
   * System property in which the launcher (submit.sh, bin/rebundle) names the command the user ran.
   */
  public static final String PROGRAM_NAME_PROPERTY = "rebundle.program.name";

  /**
   * The name to print in messages ("Try './submit.sh --help'", "run `rebundle verify ...`"): what
   * the user typed, as the launcher passed it, else {@code rebundle}.
   */
  public static String programName() {
    String n = System.getProperty(PROGRAM_NAME_PROPERTY, "").strip();
    return n.isEmpty() ? "rebundle" : n;
  }

  private static BuildInfo load() {
    Properties p = new Properties();
    try (InputStream in =
        BuildInfo.class.getResourceAsStream("/io/rebundle/jobs/build.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // An unreadable resource in our own jar: report "unknown" rather than fail a command over it.
    }
    return new BuildInfo(
        value(p, "version"),
        value(p, "git.commit"),
        "true".equals(p.getProperty("git.dirty")),
        value(p, "spark.version"),
        value(p, "hadoop.version"));
  }

  /** A property, or "unknown" when absent or left unfiltered (built without git, or by an IDE). */
  private static String value(Properties p, String key) {
    String v = p.getProperty(key, "").strip();
    return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
  }
}
