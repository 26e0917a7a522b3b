package io.rebundle.jobs.util;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Properties;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

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
    String v = versionBeside("org.apache.spark.SparkBuildInfo", "spark-version-info.properties");
    if (v != null) {
      return v;
    }
    try {
      return org.apache.spark.package$.MODULE$.SPARK_VERSION();
    } catch (LinkageError e) {
      return builtSparkVersion + " (built against; not on the class path)";
    }
  }

  /** The Hadoop version on the class path, or the one built against if Hadoop is absent. */
  public String hadoopVersion() {
    String v =
        versionBeside("org.apache.hadoop.util.VersionInfo", "common-version-info.properties");
    if (v != null) {
      return v;
    }
    try {
      return org.apache.hadoop.util.VersionInfo.getVersion();
    } catch (LinkageError e) {
      return builtHadoopVersion + " (built against; not on the class path)";
    }
  }

  /**
   * The {@code version} in the properties file {@code resource} of the jar (or class directory)
   * that holds {@code className}, or null if any of that is missing. This is the file Spark's and
   * Hadoop's own version classes read; reading it directly leaves those classes unloaded, since
   * initialising them starts their logging (some 600 classes of Hadoop, Spark and log4j for {@code
   * --version}).
   */
  static String versionBeside(String className, String resource) {
    try {
      Class<?> c = Class.forName(className, false, BuildInfo.class.getClassLoader());
      CodeSource source = c.getProtectionDomain().getCodeSource();
      if (source == null || source.getLocation() == null) {
        return null;
      }
      Path where = Path.of(source.getLocation().toURI());
      Properties p = new Properties();
      if (Files.isDirectory(where)) {
        Path file = where.resolve(resource);
        if (!Files.isRegularFile(file)) {
          return null;
        }
        try (InputStream in = Files.newInputStream(file)) {
          p.load(in);
        }
      } else {
        try (ZipFile jar = new ZipFile(where.toFile())) {
          ZipEntry e = jar.getEntry(resource);
          if (e == null) {
            return null;
          }
          try (InputStream in = jar.getInputStream(e)) {
            p.load(in);
          }
        }
      }
      String v = p.getProperty("version", "").strip();
      return v.isEmpty() ? null : v;
    } catch (ClassNotFoundException | LinkageError | IOException | URISyntaxException e) {
      return null;
    } catch (RuntimeException e) {
      // A location that is not a local path (a remote class loader): ask the classes themselves.
      return null;
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
