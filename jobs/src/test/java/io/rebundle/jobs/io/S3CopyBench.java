package io.rebundle.jobs.io;

import io.rebundle.jobs.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.statistics.IOStatisticsSupport;

/**
 * bench/run.sh's object-store row: uploads a local checkpoint to a loopback S3 server (s3proxy, in
 * this JVM), then times (1) {@code convert --to tf2} s3a→s3a through the command line, embedded
 * Spark included, with S3A's request and byte counts, and (2) the same objects copied
 * object-to-object by the AWS SDK's CopyObject on the same server. Prints one tab-separated line
 * per measurement: row, seconds, details. Needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set
 * (any values: they become the server's keys).
 */
public final class S3CopyBench {
  private S3CopyBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: S3CopyBench LOCAL_PREFIX");
      System.exit(2);
    }
    Path prefix = Path.of(args[0]).toAbsolutePath();
    String name = prefix.getFileName().toString();
    try (S3Server s3 = new S3Server()) {
      s3.upload(prefix.getParent(), "src");
      long bytes = 0;
      int objects = 0;
      for (String key : s3.keys("src/")) {
        if (key.startsWith("src/" + name + ".")) {
          bytes += s3.client().headObject(b -> b.bucket(s3.bucket()).key(key)).contentLength();
          objects++;
        }
      }
      FileSystem fs = new org.apache.hadoop.fs.Path(s3.url("")).getFileSystem(s3.hadoopConf());
      Map<String, Long> before =
          new TreeMap<>(IOStatisticsSupport.retrieveIOStatistics(fs).counters());
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      long t0 = System.nanoTime();
      int code =
          Main.run(
              new String[] {
                "convert",
                "--to",
                "tf2",
                "--no-state-file",
                s3.url("src/" + name),
                s3.url("dst/" + name),
                "--conf",
                "spark.hadoop.fs.s3a.endpoint=" + s3.endpoint(),
                "--conf",
                "spark.hadoop.fs.s3a.path.style.access=true"
              },
              new PrintWriter(out),
              new PrintWriter(err));
      double convert = (System.nanoTime() - t0) / 1e9;
      if (code != 0) {
        System.err.println(err);
        System.exit(code);
      }
      Map<String, Long> after = IOStatisticsSupport.retrieveIOStatistics(fs).counters();
      long gets =
          after.getOrDefault("action_http_get_request", 0L)
              - before.getOrDefault("action_http_get_request", 0L);
      long read =
          after.getOrDefault("stream_read_bytes", 0L)
              - before.getOrDefault("stream_read_bytes", 0L);
      long puts =
          after.getOrDefault("object_put_request", 0L)
              - before.getOrDefault("object_put_request", 0L)
              + after.getOrDefault("object_multipart_initiated", 0L)
              - before.getOrDefault("object_multipart_initiated", 0L);
      System.out.printf(
          "convert --to tf2 s3a->s3a (loopback S3, embedded)\t%.3f\t%d source bytes, %d GETs, "
              + "%d bytes read (%.3fx), %d PUT/multipart uploads%n",
          convert, bytes, gets, read, (double) read / bytes, puts);

      long t1 = System.nanoTime();
      for (String key : s3.keys("src/")) {
        if (key.startsWith("src/" + name + ".")) {
          String target = "copy/" + key.substring("src/".length());
          s3.client()
              .copyObject(
                  b ->
                      b.sourceBucket(s3.bucket())
                          .sourceKey(key)
                          .destinationBucket(s3.bucket())
                          .destinationKey(target));
        }
      }
      double copy = (System.nanoTime() - t1) / 1e9;
      System.out.printf(
          "AWS SDK CopyObject of the same objects (same server)\t%.3f\t%d objects, %d CopyObject "
              + "requests, %d bytes%n",
          copy, objects, objects, bytes);
    }
    System.exit(0);
  }
}
