package io.rebundle.jobs.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.io.HadoopFileIO;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

class ConvertJobTest {
  private static final String CWD = Path.of("").toAbsolutePath().toString();

  @Test
  void givesExecutorsAbsoluteLocalLocations() {
    LocalFileIO io = new LocalFileIO();

    assertEquals(CWD + "/out/ckpt", ConvertJob.forExecutors(io, "out/ckpt"));
    assertEquals(CWD + "/ckpt", ConvertJob.forExecutors(io, "ckpt"));
    assertEquals("/data/ckpt", ConvertJob.forExecutors(io, "/data/ckpt"));
    assertEquals("file:/data/ckpt", ConvertJob.forExecutors(io, "file:/data/ckpt"));
  }

  @Test
  void qualifiesRelativeHadoopLocationsAgainstTheDefaultFileSystem() {
    HadoopFileIO io = new HadoopFileIO(new Configuration());

    assertEquals("file:" + CWD + "/out/ckpt", ConvertJob.forExecutors(io, "out/ckpt"));
    assertEquals("hdfs://nn:8020/x/ckpt", ConvertJob.forExecutors(io, "hdfs://nn:8020/x/ckpt"));
  }
}
