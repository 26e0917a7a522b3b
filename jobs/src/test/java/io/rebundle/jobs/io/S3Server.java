package io.rebundle.jobs.io;

import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.apache.hadoop.conf.Configuration;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.blobstore.domain.MultipartUpload;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
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

  private final String key;
  private final String secret;
  private final BlobStore store = new Tripwire(new TransientNio2BlobStore());
  private final java.util.concurrent.atomic.AtomicReference<Predicate<String>> tripOn =
      new java.util.concurrent.atomic.AtomicReference<>();
  private volatile java.util.concurrent.CountDownLatch tripped =
      new java.util.concurrent.CountDownLatch(1);
  private volatile S3Proxy proxy;
  private volatile long downMillis = -1;
  private final S3Client client;
  private final String endpoint;

  public S3Server() throws Exception {
    key = System.getenv("AWS_ACCESS_KEY_ID");
    secret = System.getenv("AWS_SECRET_ACCESS_KEY");
    if (key == null || secret == null) {
      throw new IllegalStateException(
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (jobs/pom.xml surefire)");
    }
    proxy = start(0);
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

  /** A server on {@code port} (0: any) over this server's store. */
  private S3Proxy start(int port) throws Exception {
    S3Proxy p =
        S3Proxy.builder()
            .blobStore(store)
            .endpoint(URI.create("http://127.0.0.1:" + port))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, key, secret)
            .build();
    p.start();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!"STARTED".equals(p.getState()) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    if (!"STARTED".equals(p.getState())) {
      throw new IllegalStateException(
          "s3proxy did not start on port " + port + ": " + p.getState());
    }
    return p;
  }

  /**
   * Arms a trip wire: once an object whose key matches {@code key} has been stored, the server
   * stops (connections refused from then on, as when a store goes away mid-job), until {@link
   * #restart}. Stored objects survive the stop.
   */
  public void stopAfterStoring(Predicate<String> key) {
    stopAfterStoring(key, -1);
  }

  /**
   * As {@link #stopAfterStoring(Predicate)}, and starts the server again {@code downMillis} after
   * it stopped (negative: it stays down until {@link #restart}): a brief outage.
   */
  public void stopAfterStoring(Predicate<String> key, long downMillis) {
    this.downMillis = downMillis;
    tripped = new java.util.concurrent.CountDownLatch(1);
    tripOn.set(key);
  }

  /** Waits until the trip wire has stopped the server; false if it did not within the time. */
  public boolean awaitStopped(long seconds) throws InterruptedException {
    return tripped.await(seconds, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** Starts the server again on the same port, over the same objects. */
  public synchronized void restart() throws Exception {
    proxy.stop();
    proxy = start(Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1)));
  }

  /** Stops the server from another thread: the request that tripped the wire is in flight. */
  private void trip() {
    java.util.concurrent.CountDownLatch latch = tripped;
    Thread t =
        new Thread(
            () -> {
              try {
                proxy.stop();
                latch.countDown();
                if (downMillis >= 0) {
                  Thread.sleep(downMillis);
                  restart();
                }
              } catch (Exception e) {
                throw new IllegalStateException("stopping or restarting s3proxy failed", e);
              } finally {
                latch.countDown();
              }
            },
            "s3-trip-wire");
    t.setDaemon(true);
    t.start();
  }

  /** The store, watching writes for the trip wire. */
  private final class Tripwire extends ForwardingBlobStore {
    Tripwire(BlobStore delegate) {
      super(delegate);
    }

    private void stored(String key) {
      Predicate<String> p = tripOn.get();
      if (p != null && p.test(key) && tripOn.compareAndSet(p, null)) {
        trip();
      }
    }

    @Override
    public PutObjectResponse putBlob(PutObjectRequest request, InputStream in) {
      PutObjectResponse r = super.putBlob(request, in);
      stored(request.key());
      return r;
    }

    @Override
    public CompleteMultipartUploadResponse completeMultipartUpload(
        MultipartUpload upload, CompleteMultipartUploadRequest request) {
      CompleteMultipartUploadResponse r = super.completeMultipartUpload(upload, request);
      stored(request.key());
      return r;
    }
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
