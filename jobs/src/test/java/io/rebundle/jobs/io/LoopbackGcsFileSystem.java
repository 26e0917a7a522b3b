package io.rebundle.jobs.io;

import com.google.cloud.hadoop.repackaged.ossgcs.com.google.cloud.NoCredentials;
import com.google.cloud.hadoop.repackaged.ossgcs.com.google.cloud.ServiceOptions;
import com.google.cloud.hadoop.repackaged.ossgcs.com.google.cloud.storage.Storage;
import com.google.cloud.hadoop.repackaged.ossgcs.com.google.cloud.storage.StorageOptions;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.gs.GoogleHadoopFileSystem;

/**
 * Hadoop's GCS connector ({@code hadoop-gcp}, {@link GoogleHadoopFileSystem}) talking to a {@link
 * GcsServer} on loopback: test code only, selected by {@code fs.gs.impl}.
 *
 * <p>The connector of Hadoop 3.5 has no endpoint setting: {@code GoogleCloudStorage} builds its
 * google-cloud-storage client with the default host (storage.googleapis.com), and the client of
 * that version does not read {@code STORAGE_EMULATOR_HOST} either. So after the connector has
 * initialized itself as usual, this swaps its storage client for one of the same library (the copy
 * shaded into hadoop-gcp, HTTP/JSON transport) whose host is the loopback server and whose
 * credentials are none. The swap is by reflection because the client sits in a private final field
 * of a package-private class ({@code GoogleHadoopFileSystem.gcsFs.gcs.storage}); every other line
 * the tests run (paths, listings, the read and write channels, deletes, renames, error handling) is
 * the connector's own.
 *
 * <p>Credentials: the connector's {@code UNAUTHENTICATED} type makes it pass null to the client
 * builder, which rejects null (a NullPointerException in 3.5.0), and the default type looks for
 * Application Default Credentials, which may probe the GCE metadata server. So the connector is
 * given inert user credentials (built without any request) that the swapped client never uses.
 */
public class LoopbackGcsFileSystem extends GoogleHadoopFileSystem {
  /** Hadoop setting: the root URL of the {@link GcsServer} to talk to. */
  public static final String ENDPOINT_KEY = "fs.gs.rebundle.test.endpoint";

  /**
   * Hadoop setting: false gives the swapped client no retries (the client's default retries a
   * refused connection for about half a minute), for tests of a service that goes away.
   */
  public static final String RETRIES_KEY = "fs.gs.rebundle.test.retries";

  @Override
  public void initialize(URI name, Configuration conf) throws IOException {
    String endpoint = conf.get(ENDPOINT_KEY);
    if (endpoint == null || endpoint.isEmpty()) {
      throw new IOException(ENDPOINT_KEY + " is not set: the loopback GCS file system needs it");
    }
    Configuration c = new Configuration(conf);
    c.set("fs.gs.auth.type", "USER_CREDENTIALS");
    c.set("fs.gs.auth.client.id", "rebundle-test");
    c.set("fs.gs.auth.client.secret", "rebundle-test");
    c.set("fs.gs.auth.refresh.token", "rebundle-test");
    c.setIfUnset("fs.gs.project.id", "rebundle-test");
    super.initialize(name, c);
    var options =
        StorageOptions.http()
            .setHost(endpoint)
            .setProjectId(c.get("fs.gs.project.id"))
            .setCredentials(NoCredentials.getInstance());
    if (!c.getBoolean(RETRIES_KEY, true)) {
      options.setRetrySettings(ServiceOptions.getNoRetrySettings());
    }
    Storage storage = options.build().getService();
    try {
      Object gcsFs = field(GoogleHadoopFileSystem.class, "gcsFs").get(this);
      Object gcs = field(gcsFs.getClass(), "gcs").get(gcsFs);
      Field f = field(gcs.getClass(), "storage");
      Storage original = (Storage) f.get(gcs);
      f.set(gcs, storage);
      original.close();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(
          "hadoop-gcp's internals changed; LoopbackGcsFileSystem must follow them", e);
    } catch (Exception e) {
      throw new IOException("closing the connector's own storage client failed", e);
    }
  }

  private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
    Field f = owner.getDeclaredField(name);
    f.setAccessible(true);
    return f;
  }
}
