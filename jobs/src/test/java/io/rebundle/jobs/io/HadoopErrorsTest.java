package io.rebundle.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.io.StorageSetupException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.UnsupportedFileSystemException;
import org.junit.jupiter.api.Test;

class HadoopErrorsTest {
  @Test
  void missingGoogleCredentialsNameTheFix() {
    RuntimeException e =
        HadoopErrors.translate(
            "stat",
            "gs://b/ckpt.index",
            new IOException(
                "ComputeEngineCredentials cannot find the metadata server. This is likely because code is not running on GCE."));
    StorageSetupException s = assertInstanceOf(StorageSetupException.class, e);
    assertEquals("gs", s.scheme());
    assertTrue(
        s.getMessage()
            .startsWith("Cannot access gs://b/ckpt.index: access denied or no credentials ("),
        s.getMessage());
    assertTrue(s.getMessage().contains("set GOOGLE_APPLICATION_CREDENTIALS"), s.getMessage());
  }

  @Test
  void missingFileSystemNamesTheConnector() {
    RuntimeException e =
        HadoopErrors.translate(
            "access",
            "s3a://b/x",
            new UnsupportedFileSystemException("No FileSystem for scheme \"s3a\""));
    assertTrue(
        e.getMessage()
            .startsWith(
                "Cannot access s3a://b/x: no file system for scheme \"s3a\" is on the "
                    + "classpath; ./submit.sh ships the S3A connector"),
        e.getMessage());
    assertTrue(
        e.getMessage().contains("--exclude-packages software.amazon.awssdk:bundle"),
        e.getMessage());
    RuntimeException s3 =
        HadoopErrors.translate(
            "access",
            "s3://b/x",
            new UnsupportedFileSystemException("No FileSystem for scheme \"s3\""));
    assertTrue(
        s3.getMessage()
            .endsWith("Hadoop reads S3 through the s3a:// scheme: write s3a://BUCKET/PATH instead"),
        s3.getMessage());
  }

  @Test
  void anUnreachableServiceIsNamedWithoutTheClientsWrappers() {
    Exception sdk =
        new RuntimeException(
            "Unable to execute HTTP request: Connect to 127.0.0.1:9 [/127.0.0.1] failed: "
                + "Connection refused (SDK Attempt Count: 2)",
            new java.net.ConnectException(
                "Connect to 127.0.0.1:9 [/127.0.0.1] failed: Connection refused") {
              {
                initCause(new java.net.ConnectException("Connection refused"));
              }
            });
    RuntimeException e =
        HadoopErrors.translate(
            "create",
            "s3a://b/d/index",
            new java.net.ConnectException("getFileStatus on s3a://b/d/index: " + sdk) {
              {
                initCause(sdk);
              }
            });
    UncheckedIOException u = assertInstanceOf(UncheckedIOException.class, e);
    assertEquals(
        "Cannot create s3a://b/d/index: the storage service cannot be reached "
            + "(Connect to 127.0.0.1:9 [/127.0.0.1] failed: Connection refused)",
        u.getMessage());
    RuntimeException host =
        HadoopErrors.translate(
            "open", "gs://b/x", new IOException("x", new java.net.UnknownHostException("nohost")));
    assertEquals(
        "Cannot open gs://b/x: the storage service cannot be reached (unknown host nohost)",
        host.getMessage());
  }

  @Test
  void missingFilesAndOtherFailuresKeepTheirKinds() {
    assertInstanceOf(
        io.rebundle.codec.io.StorageFileNotFoundException.class,
        HadoopErrors.translate("stat", "hdfs://nn/x", new FileNotFoundException("x")));
    RuntimeException e =
        HadoopErrors.translate("read", "hdfs://nn/x", new IOException("connection reset\nat ..."));
    assertInstanceOf(UncheckedIOException.class, e);
    assertEquals("Cannot read hdfs://nn/x: connection reset", e.getMessage());
  }
}
