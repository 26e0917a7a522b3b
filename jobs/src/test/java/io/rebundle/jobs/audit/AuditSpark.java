package io.rebundle.jobs.audit;

import io.rebundle.jobs.SharedSpark;
import org.apache.spark.sql.SparkSession;

/** A SparkSession on the tests' shared Spark context, with the counting file system registered. */
public final class AuditSpark {
  private AuditSpark() {}

  public static SparkSession session() {
    var jsc = SharedSpark.context();
    jsc.hadoopConfiguration().set("fs.countfs.impl", CountingFileSystem.class.getName());
    jsc.hadoopConfiguration().setBoolean("fs.countfs.impl.disable.cache", true);
    return SparkSession.builder().config(jsc.getConf()).getOrCreate();
  }
}
