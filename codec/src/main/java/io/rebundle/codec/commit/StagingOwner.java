package io.rebundle.codec.commit;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who owns a staging area: the lease file {@code owner} in it (docs/commit-protocol.md, "Leases").
 * It names the run, the host and the process (with the process's start time and the host's boot id,
 * so a reused pid or a reboot is not mistaken for the owner), and when the lease was last renewed.
 * A staging area is <em>stale</em> when its owner is gone: on the same host, when that process no
 * longer runs; elsewhere, when the lease has not been renewed for {@link #STALE_AFTER_MILLIS}.
 */
public record StagingOwner(
    String runId, String host, long pid, String processStart, String bootId, long renewedMillis) {
  static final String FILE = "owner";
  private static final String MAGIC = "rebundle-staging-owner 1";

  /** A lease not renewed for this long belongs to a run that is gone (owners renew every 5 min). */
  public static final long STALE_AFTER_MILLIS =
      Long.getLong("rebundle.staging.stale-after-seconds", 3600) * 1000;

  /** How often a live run renews its leases. */
  static final long RENEW_EVERY_MILLIS = 5 * 60 * 1000;

  /** Largest lease file read; real ones are under 300 bytes. */
  static final int MAX_BYTES = 4096;

  /** The lease of this process for run {@code runId}, renewed now. */
  public static StagingOwner current(String runId) {
    ProcessHandle self = ProcessHandle.current();
    return new StagingOwner(
        runId, Host.NAME, self.pid(), startOf(self), Host.BOOT_ID, System.currentTimeMillis());
  }

  /** This lease renewed at {@code nowMillis}. */
  StagingOwner renewed(long nowMillis) {
    return new StagingOwner(runId, host, pid, processStart, bootId, nowMillis);
  }

  byte[] toBytes() {
    StringBuilder b = new StringBuilder(MAGIC).append('\n');
    b.append("run=").append(runId).append('\n');
    b.append("host=").append(host).append('\n');
    b.append("pid=").append(pid).append('\n');
    b.append("process_start=").append(processStart).append('\n');
    b.append("boot_id=").append(bootId).append('\n');
    b.append("renewed_ms=").append(renewedMillis).append('\n');
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The lease in {@code bytes}, or null if they are not one (a damaged or foreign file). */
  static StagingOwner parse(byte[] bytes) {
    if (bytes.length > MAX_BYTES) {
      return null;
    }
    String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
    if (lines.length == 0 || !lines[0].equals(MAGIC)) {
      return null;
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int eq = lines[i].indexOf('=');
      if (eq > 0) {
        fields.put(lines[i].substring(0, eq), lines[i].substring(eq + 1));
      }
    }
    try {
      return new StagingOwner(
          fields.getOrDefault("run", ""),
          fields.getOrDefault("host", ""),
          Long.parseLong(fields.getOrDefault("pid", "-1")),
          fields.getOrDefault("process_start", ""),
          fields.getOrDefault("boot_id", ""),
          Long.parseLong(fields.getOrDefault("renewed_ms", "0")));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Whether the run that holds this lease may still be running, as seen at {@code nowMillis}. */
  public boolean isAlive(long nowMillis) {
    boolean sameBoot = !bootId.isEmpty() && bootId.equals(Host.BOOT_ID);
    if (host.equals(Host.NAME) && (sameBoot || bootId.isEmpty() || Host.BOOT_ID.isEmpty())) {
      return ProcessHandle.of(pid)
          .filter(ProcessHandle::isAlive)
          .map(p -> processStart.isEmpty() || processStart.equals(startOf(p)))
          .orElse(false);
    }
    if (host.equals(Host.NAME)) {
      return false; // the host rebooted since: no process of before survives that
    }
    return nowMillis - renewedMillis < STALE_AFTER_MILLIS;
  }

  /** Who this is, for messages: "pid 4242 on host worker-3". */
  public String describe() {
    return "pid " + pid + " on host " + host;
  }

  private static String startOf(ProcessHandle p) {
    return p.info().startInstant().map(Instant::toString).orElse("");
  }

  /** This host's name and boot id, looked up once. */
  private static final class Host {
    static final String NAME = name();
    static final String BOOT_ID = bootId();

    private static String name() {
      String env = System.getenv("HOSTNAME");
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        return env == null ? "localhost" : env;
      }
    }

    private static String bootId() {
      try {
        return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
      } catch (IOException | RuntimeException e) {
        return "";
      }
    }
  }
}
