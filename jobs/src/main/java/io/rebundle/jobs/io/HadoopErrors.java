package io.rebundle.jobs.io;

import io.rebundle.codec.io.Location;
import io.rebundle.codec.io.StorageFileNotFoundException;
import io.rebundle.codec.io.StorageSetupException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import org.apache.hadoop.fs.UnsupportedFileSystemException;

/**
 * Turns what Hadoop file systems throw into Rebundle's storage errors, in one place: a missing file
 * ({@link StorageFileNotFoundException}), storage that is not set up ({@link
 * StorageSetupException}: no connector for the scheme, no credentials; one line with the fix),
 * anything else ({@link UncheckedIOException} "Cannot VERB LOCATION: reason"). Exit code 4 for all
 * but the first.
 */
public final class HadoopErrors {
  /** The Hadoop line the connectors must match (jobs/pom.xml hadoop.version). */
  static final String HADOOP_VERSION = "3.5.0";

  static final String AWS_SDK_VERSION = "2.57.8";

  private static final java.util.regex.Pattern ADDRESS =
      java.util.regex.Pattern.compile("[\\w.\\]-]+:\\d{1,5}\\b");

  private HadoopErrors() {}

  /**
   * The error for {@code e}, thrown while trying to {@code verb} (stat, open, read...) {@code
   * location}.
   */
  public static RuntimeException translate(String verb, String location, Throwable e) {
    if (e instanceof FileNotFoundException f) {
      return new StorageFileNotFoundException(location, f);
    }
    StorageSetupException setup = setupProblem(location, e);
    if (setup != null) {
      return setup;
    }
    if (e instanceof UncheckedIOException u) {
      return u;
    }
    String unreachable = unreachable(e);
    String message =
        "Cannot "
            + verb
            + " "
            + location
            + ": "
            + (unreachable != null
                ? "the storage service cannot be reached (" + unreachable + ")"
                : firstLine(e));
    return new UncheckedIOException(
        message, e instanceof IOException io ? io : new IOException(e.toString(), e));
  }

  /**
   * The error for a file system that could not be created for {@code location} ({@code
   * FileSystem.get}, which initializes the connector and touches no object). A missing file there
   * is one the connector's settings name (a key file), never the checkpoint; a connector that fails
   * without a message is named with the setting known to cause it.
   */
  public static RuntimeException initFailure(
      String location, Throwable e, org.apache.hadoop.conf.Configuration conf) {
    StorageSetupException setup = setupProblem(location, e);
    if (setup != null) {
      return setup;
    }
    String scheme = Location.scheme(location);
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof FileNotFoundException) {
        return new StorageSetupException(
            location,
            "the connector cannot read a file its settings name (" + firstLine(t) + ")",
            credentialsFix(scheme),
            e);
      }
    }
    if (scheme.equals("gs")
        && "UNAUTHENTICATED".equalsIgnoreCase(conf.getTrimmed("fs.gs.auth.type", ""))) {
      return new StorageSetupException(
          location,
          "hadoop-gcp "
              + HADOOP_VERSION
              + " fails to start with fs.gs.auth.type=UNAUTHENTICATED ("
              + firstLine(e)
              + ")",
          "leave fs.gs.auth.type unset (application default credentials) or name a key file",
          e);
    }
    return translate("access", location, e);
  }

  /**
   * A {@link StorageSetupException} if {@code e} says the storage is not usable as configured; else
   * null.
   */
  static StorageSetupException setupProblem(String location, Throwable e) {
    String scheme = Location.scheme(location);
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String text = String.valueOf(t.getMessage());
      if (t instanceof StorageSetupException s) {
        return s;
      }
      if (t instanceof UnsupportedFileSystemException
          || text.contains("No FileSystem for scheme")) {
        return new StorageSetupException(
            location,
            "no file system for scheme \"" + scheme + "\" is on the classpath",
            connectorFix(scheme),
            e);
      }
      if (t instanceof ClassNotFoundException || t instanceof NoClassDefFoundError) {
        return new StorageSetupException(
            location,
            "the connector for scheme \""
                + scheme
                + "\" is not on the classpath ("
                + firstLine(t)
                + ")",
            connectorFix(scheme),
            e);
      }
      String lower = text.toLowerCase(Locale.ROOT);
      if (t instanceof java.nio.file.AccessDeniedException
          || lower.contains("no aws credentials")
          || lower.contains("unable to load credentials")
          || lower.contains("application default credentials")
          || lower.contains("default credentials were not found")
          || lower.contains("error reading credential")
          || lower.contains("computeenginecredentials")
          || lower.contains("cannot find the metadata server")
          || lower.contains("invalidaccesskeyid")
          || lower.contains("signaturedoesnotmatch")
          || t.getClass().getSimpleName().contains("Credential")) {
        return new StorageSetupException(
            location,
            "access denied or no credentials (" + firstLine(t) + ")",
            credentialsFix(scheme),
            e);
      }
    }
    return null;
  }

  /**
   * The connection failure under {@code e} (refused, timed out, unknown host, no route), as the
   * socket layer words it; null if {@code e} is no such failure. The clients' own wrappers ("Unable
   * to execute HTTP request: ... (SDK Attempt Count: 2)") add nothing a user needs.
   */
  static String unreachable(Throwable e) {
    // S3A rewraps as a ConnectException with the whole text; under it the HTTP client's names the
    // address ("Connect to host:port ... failed: Connection refused"), the socket's only the cause.
    Throwable deepest = null;
    Throwable withAddress = null;
    int depth = 0;
    for (Throwable t = e; t != null && depth++ < 32; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.net.ConnectException
          || t instanceof java.net.NoRouteToHostException
          || t instanceof java.net.UnknownHostException
          || t instanceof java.net.SocketTimeoutException) {
        deepest = t;
        if (ADDRESS.matcher(firstLine(t)).find()) {
          withAddress = t;
        }
      }
    }
    if (deepest == null) {
      return null;
    }
    if (withAddress != null) {
      deepest = withAddress;
    }
    String line = firstLine(deepest);
    return deepest instanceof java.net.UnknownHostException ? "unknown host " + line : line;
  }

  static String connectorFix(String scheme) {
    return switch (scheme) {
      case "gs" ->
          "./submit.sh ships the GCS connector on its embedded classpath; under spark-submit use the "
              + "cluster's connector (Dataproc has one) or add --packages org.apache.hadoop:hadoop-gcp:"
              + HADOOP_VERSION;
      case "s3a" ->
          "./submit.sh ships the S3A connector on its embedded classpath; under spark-submit use the "
              + "cluster's connector (EMR has one) or add --packages org.apache.hadoop:hadoop-aws:"
              + HADOOP_VERSION
              + ",software.amazon.awssdk:s3:"
              + AWS_SDK_VERSION
              + ",software.amazon.awssdk:s3-transfer-manager:"
              + AWS_SDK_VERSION
              + ",software.amazon.awssdk:sts:"
              + AWS_SDK_VERSION
              + ",software.amazon.awssdk:apache-client:"
              + AWS_SDK_VERSION
              + " --exclude-packages software.amazon.awssdk:bundle,software.amazon.awssdk:apache5-client";
      case "s3", "s3n" ->
          "Hadoop reads S3 through the s3a:// scheme: write s3a://" + "BUCKET/PATH instead";
      default ->
          "put the Hadoop connector for \""
              + scheme
              + "\" on the classpath, or set "
              + "--conf spark.hadoop.fs."
              + scheme
              + ".impl=CLASS";
    };
  }

  static String credentialsFix(String scheme) {
    return switch (scheme) {
      case "gs" ->
          "set GOOGLE_APPLICATION_CREDENTIALS (or --conf "
              + "spark.hadoop.fs.gs.auth.service.account.json.keyfile=FILE with "
              + "spark.hadoop.fs.gs.auth.type=SERVICE_ACCOUNT_JSON_KEYFILE) to a service-account key file, or run "
              + "'gcloud auth application-default login', or run on a machine with a service account";
      case "s3a" ->
          "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), use an instance role, or pass "
              + "--conf spark.hadoop.fs.s3a.access.key=... --conf spark.hadoop.fs.s3a.secret.key=...";
      default ->
          "check the credentials configured for \""
              + scheme
              + "\" (core-site.xml, HADOOP_CONF_DIR or "
              + "--conf spark.hadoop.KEY=VALUE)";
    };
  }

  /**
   * The first line of a throwable's message, or its class name; Hadoop messages can run to pages.
   */
  static String firstLine(Throwable t) {
    String m = t.getMessage();
    if (m == null || m.isBlank()) {
      return t.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    String line = (nl < 0 ? m : m.substring(0, nl)).trim();
    return line.length() > 300 ? line.substring(0, 300) + "..." : line;
  }
}
