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
