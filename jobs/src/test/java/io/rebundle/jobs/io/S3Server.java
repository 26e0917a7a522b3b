package io.rebundle.jobs.io;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A real S3 API server on loopback for tests: s3proxy in this JVM, in-memory storage, port chosen
 * by the system, signatures checked against the keys S3A finds in the environment (surefire sets
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY). {@link #client()} is an independent S3 client (the
 * AWS SDK, not S3A) for uploading sources and downloading results.
 */
public final class S3Server implements AutoCloseable {
  private static final java.util.concurrent.atomic.AtomicInteger SERVERS =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * A bucket name of its own per server: Hadoop caches file systems by scheme and bucket (not by
   * configuration), so a second server in the same JVM must not share a bucket name with the first.
   */
  private final String bucket = "rebundle-test-" + SERVERS.incrementAndGet();

  private final S3Proxy proxy;
  private final S3Client client;
  private final String endpoint;

  public S3Server() throws Exception {
    String key = System.getenv("AWS_ACCESS_KEY_ID");
    String secret = System.getenv("AWS_SECRET_ACCESS_KEY");
    if (key == null || secret == null) {
      throw new IllegalStateException(
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (jobs/pom.xml surefire)");
    }
    proxy =
        S3Proxy.builder()
            .blobStore(new TransientNio2BlobStore())
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, key, secret)
            .build();
    proxy.start();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!"STARTED".equals(proxy.getState()) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    endpoint = "http://127.0.0.1:" + proxy.getPort();
    client =
        S3Client.builder()
            .endpointOverride(URI.create(endpoint))
            .region(Region.US_EAST_1)
            .forcePathStyle(true)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create(key, secret)))
            .build();
    client.createBucket(b -> b.bucket(bucket));
  }

  public String bucket() {
    return bucket;
  }

  public String endpoint() {
    return endpoint;
  }

  public S3Client client() {
    return client;
  }

  /** The --conf arguments that point S3A here, and nothing else. */
  public List<String> confArgs() {
    return List.of(
        "--conf",
        "spark.hadoop.fs.s3a.endpoint=" + endpoint,
        "--conf",
        "spark.hadoop.fs.s3a.path.style.access=true");
  }

  /** A Hadoop configuration with the same two settings. */
  public Configuration hadoopConf() {
    Configuration c = new Configuration();
    c.set("fs.s3a.endpoint", endpoint);
    c.set("fs.s3a.path.style.access", "true");
    return c;
  }

  public String url(String key) {
    return "s3a://" + bucket + "/" + key;
  }

  /** Uploads every file of {@code dir} under {@code prefix/}. */
  public void upload(Path dir, String prefix) throws Exception {
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        client.putObject(
            b -> b.bucket(bucket).key(prefix + "/" + f.getFileName()), RequestBody.fromFile(f));
      }
    }
  }

  /** The keys under {@code prefix}, sorted. */
  public List<String> keys(String prefix) {
    List<String> keys = new ArrayList<>();
    for (S3Object o :
        client.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
      keys.add(o.key());
    }
    keys.sort(null);
    return keys;
  }

  public byte[] download(String key) {
    return client.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
  }

  @Override
  public void close() throws Exception {
    client.close();
    proxy.stop();
  }
}
