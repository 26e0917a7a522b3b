package io.rebundle.jobs.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import java.util.zip.GZIPInputStream;

/**
 * A Google Cloud Storage JSON API fake on loopback, for the gs:// tests: one bucket held in memory,
 * served by the JDK's own HTTP server. No GCS emulator is on the registries this project reaches,
 * so this implements the part of the API that Hadoop's GCS connector (hadoop-gcp, through the
 * google-cloud-storage client's HTTP transport) calls, with the API's own wire format:
 *
 * <ul>
 *   <li>objects.get: metadata (JSON), and media ({@code alt=media}, {@code Range: bytes=a-b}, 206
 *       with {@code Content-Range}, 416 past the end), with the generation preconditions;
 *   <li>objects.insert: simple ({@code uploadType=media}), multipart ({@code multipart/related})
 *       and resumable (a session URL, {@code Content-Range} chunks answered by 308 and {@code
 *       Range}, the final chunk by the object), with {@code ifGenerationMatch} (0: must not exist);
 *   <li>objects.list: {@code prefix}, {@code delimiter}, {@code includeTrailingDelimiter}, {@code
 *       maxResults} and {@code pageToken};
 *   <li>objects.delete, objects.rewrite, objects.copy, objects.move, objects.compose, buckets.get;
 *   <li>the batch endpoint {@code /batch/storage/v1} ({@code multipart/mixed} of HTTP requests),
 *       which the client uses for several gets or deletes at once.
 * </ul>
 *
 * Requests and media bytes served are counted ({@link #requests()}, {@link #mediaBytes()}) for the
 * tests' request and byte budgets; {@link #keys} and {@link #download} read the store directly, an
 * independent path from the connector. A request it does not implement is answered 501, and it and
 * any query parameter it does not implement are recorded in {@link #unsupported()}, so a test can
 * assert the connector needed nothing more.
 */
public final class GcsServer implements AutoCloseable {
  private static final AtomicInteger SERVERS = new AtomicInteger();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern OBJECT =
      Pattern.compile("/(?:download/)?storage/v1/b/([^/]+)/o/([^/]+)");
  private static final Pattern OBJECT_TO =
      Pattern.compile("/storage/v1/b/([^/]+)/o/([^/]+)/(rewriteTo|copyTo)/b/([^/]+)/o/([^/]+)");
  private static final Pattern MOVE =
      Pattern.compile("/storage/v1/b/([^/]+)/o/([^/]+)/moveTo/o/([^/]+)");
  private static final Pattern COMPOSE = Pattern.compile("/storage/v1/b/([^/]+)/o/([^/]+)/compose");
  private static final Pattern LIST = Pattern.compile("/storage/v1/b/([^/]+)/o/?");
  private static final Pattern BUCKET = Pattern.compile("/storage/v1/b/([^/]+)/?");
  private static final Pattern UPLOAD = Pattern.compile("/upload/storage/v1/b/([^/]+)/o/?");
  private static final Pattern CONTENT_RANGE =
      Pattern.compile("bytes (?:(\\d+)-(\\d+)|\\*)/(\\d+|\\*)");

  /** One stored object: its bytes and what the API reports about them. */
  private record Blob(
      byte[] data, long generation, long metageneration, String contentType, JsonNode metadata) {}

  /** A resumable upload session: the object to be, and the bytes received so far. */
  private static final class Session {
    final String name;
    final String contentType;
    final JsonNode metadata;
    final Map<String, String> conditions;
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    Session(String name, String contentType, JsonNode metadata, Map<String, String> conditions) {
      this.name = name;
      this.contentType = contentType;
      this.metadata = metadata;
      this.conditions = conditions;
    }
  }

  /** A request, from the HTTP server or from one part of a batch. */
  private record Request(
      String method,
      String path,
      Map<String, String> query,
      Map<String, String> headers,
      byte[] body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** A response, written to the HTTP exchange or into a batch response. */
  private record Response(int status, Map<String, String> headers, byte[] body) {
    static Response json(int status, JsonNode node) {
      Map<String, String> h = new LinkedHashMap<>();
      h.put("Content-Type", "application/json; charset=UTF-8");
      return new Response(status, h, node.toString().getBytes(StandardCharsets.UTF_8));
    }

    static Response empty(int status) {
      return new Response(status, new LinkedHashMap<>(), new byte[0]);
    }
  }

  private final String bucket = "rebundle-gcs-" + SERVERS.incrementAndGet();
  private final NavigableMap<String, Blob> objects = new ConcurrentSkipListMap<>();
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final AtomicLong generations = new AtomicLong(1_700_000_000_000_000L);
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong mediaBytes = new AtomicLong();
  private final Map<String, AtomicLong> byKind = new ConcurrentHashMap<>();
  private final List<String> unsupported =
      java.util.Collections.synchronizedList(new ArrayList<>());
  private final ExecutorService executor = Executors.newFixedThreadPool(8);
  private final java.util.concurrent.atomic.AtomicReference<java.util.function.Predicate<String>>
      tripOn = new java.util.concurrent.atomic.AtomicReference<>();
  private volatile java.util.concurrent.CountDownLatch tripped =
      new java.util.concurrent.CountDownLatch(1);
  private final ThreadLocal<Boolean> tripAfterResponse = new ThreadLocal<>();
  private volatile HttpServer server;
  private final String endpoint;

  public GcsServer() throws IOException {
    server = listen(0);
    endpoint = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private HttpServer listen(int port) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
    s.setExecutor(executor);
    s.createContext("/", this::exchange);
    s.start();
    return s;
  }

  /**
   * Arms a trip wire: once an object whose name matches {@code name} has been stored, the server
   * stops listening (connections refused, as when the service goes away mid-job) until {@link
   * #restart}. Stored objects survive.
   */
  public void stopAfterStoring(java.util.function.Predicate<String> name) {
    tripped = new java.util.concurrent.CountDownLatch(1);
    tripOn.set(name);
  }

  /** Waits until the trip wire has stopped the server; false if it did not within the time. */
  public boolean awaitStopped(long seconds) throws InterruptedException {
    return tripped.await(seconds, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** Listens again on the same port, over the same objects. */
  public synchronized void restart() throws IOException {
    server.stop(0);
    server = listen(Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1)));
  }

  /** Marks the exchange that stored a matching object: the server stops once it is answered. */
  private void stored(String name) {
    java.util.function.Predicate<String> p = tripOn.get();
    if (p != null && p.test(name) && tripOn.compareAndSet(p, null)) {
      tripAfterResponse.set(Boolean.TRUE);
    }
  }

  private void trip() {
    java.util.concurrent.CountDownLatch latch = tripped;
    Thread t =
        new Thread(
            () -> {
              server.stop(0);
              latch.countDown();
            },
            "gcs-trip-wire");
    t.setDaemon(true);
    t.start();
  }

  public String bucket() {
    return bucket;
  }

  /** The server's root URL, the storage client's "host". */
  public String endpoint() {
    return endpoint;
  }

  public String url(String key) {
    return "gs://" + bucket + "/" + key;
  }

  /** The --conf arguments that give gs:// to the connector wired to this server. */
  public List<String> confArgs() {
    return List.of(
        "--conf",
        "spark.hadoop.fs.gs.impl=" + LoopbackGcsFileSystem.class.getName(),
        "--conf",
        "spark.hadoop." + LoopbackGcsFileSystem.ENDPOINT_KEY + "=" + endpoint);
  }

  /** A Hadoop configuration with the same settings. */
  public org.apache.hadoop.conf.Configuration hadoopConf() {
    org.apache.hadoop.conf.Configuration c = new org.apache.hadoop.conf.Configuration();
    c.set("fs.gs.impl", LoopbackGcsFileSystem.class.getName());
    c.set(LoopbackGcsFileSystem.ENDPOINT_KEY, endpoint);
    return c;
  }

  /** Requests answered so far (a batch counts once, as GCS bills it, plus its parts). */
  public long requests() {
    return requests.get();
  }

  /** Requests of one kind so far: "get", "media", "list", "insert", "delete", "batch", ... */
  public long requests(String kind) {
    AtomicLong n = byKind.get(kind);
    return n == null ? 0 : n.get();
  }

  /** Requests so far by kind, for a test's log. */
  public Map<String, Long> requestsByKind() {
    Map<String, Long> m = new TreeMap<>();
    byKind.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  /** Object bytes served by media reads so far. */
  public long mediaBytes() {
    return mediaBytes.get();
  }

  /** Requests this fake does not implement (method and path), in arrival order. */
  public List<String> unsupported() {
    synchronized (unsupported) {
      return List.copyOf(unsupported);
    }
  }

  /** Stores every file of {@code dir} under {@code prefix/}, as an upload with gsutil would. */
  public void upload(Path dir, String prefix) throws IOException {
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        put(
            prefix + "/" + f.getFileName(),
            Files.readAllBytes(f),
            "application/octet-stream",
            null);
      }
    }
  }

  /** The object names under {@code prefix}, sorted. */
  public List<String> keys(String prefix) {
    return List.copyOf(objects.subMap(prefix, true, prefix + Character.MAX_VALUE, false).keySet());
  }

  public byte[] download(String key) {
    Blob b = objects.get(key);
    if (b == null) {
      throw new IllegalArgumentException("no object " + key);
    }
    return b.data.clone();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private Blob put(String name, byte[] data, String contentType, JsonNode metadata) {
    Blob b = new Blob(data, generations.incrementAndGet(), 1, contentType, metadata);
    objects.put(name, b);
    return b;
  }

  private void count(String kind) {
    byKind.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
  }

  // ---- HTTP plumbing ----

  private void exchange(HttpExchange ex) throws IOException {
    try {
      answer(ex);
    } finally {
      if (tripAfterResponse.get() != null) {
        tripAfterResponse.remove();
        trip();
      }
    }
  }

  private void answer(HttpExchange ex) throws IOException {
    try (ex) {
      Map<String, String> headers = new TreeMap<>();
      ex.getRequestHeaders()
          .forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(",", v)));
      byte[] body = ex.getRequestBody().readAllBytes();
      if ("gzip".equalsIgnoreCase(headers.get("content-encoding"))) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
          body = in.readAllBytes();
        }
      }
      URI uri = ex.getRequestURI();
      Request req =
          new Request(
              ex.getRequestMethod(), uri.getRawPath(), query(uri.getRawQuery()), headers, body);
      Response resp;
      try {
        resp = handle(req);
      } catch (RuntimeException e) {
        resp = error(500, "backendError", e.toString());
      }
      resp.headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
      boolean noBody = resp.body.length == 0 || ex.getRequestMethod().equals("HEAD");
      ex.sendResponseHeaders(resp.status, noBody ? -1 : resp.body.length);
      if (!noBody) {
        try (OutputStream out = ex.getResponseBody()) {
          out.write(resp.body);
        }
      }
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> q = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return q;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = decode(eq < 0 ? pair : pair.substring(0, eq));
      q.put(k, eq < 0 ? "" : decode(pair.substring(eq + 1)));
    }
    return q;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /**
   * Query parameters this fake implements, or may ignore because they only shape the answer's JSON
   * ({@code fields}, {@code projection}, {@code prettyPrint}) or bill it ({@code userProject}); a
   * rewrite is always done in one call. Any other parameter is recorded as unsupported: the fake
   * would otherwise answer as if it had not been asked.
   */
  private static final java.util.Set<String> KNOWN_PARAMETERS =
      java.util.Set.of(
          "alt",
          "generation",
          "ifGenerationMatch",
          "ifGenerationNotMatch",
          "ifMetagenerationMatch",
          "ifSourceGenerationMatch",
          "ifSourceGenerationNotMatch",
          "ifSourceMetagenerationMatch",
          "sourceGeneration",
          "prefix",
          "delimiter",
          "includeTrailingDelimiter",
          "maxResults",
          "pageToken",
          "uploadType",
          "name",
          "upload_id",
          "rewriteToken",
          "maxBytesRewrittenPerCall",
          "fields",
          "projection",
          "prettyPrint",
          "userProject");

  private Response handle(Request r) {
    requests.incrementAndGet();
    for (String k : r.query.keySet()) {
      if (!KNOWN_PARAMETERS.contains(k)) {
        unsupported.add("parameter " + k + " of " + r.method + " " + r.path);
      }
    }
    String p = r.path;
    Matcher m;
    switch (r.method) {
      case "GET":
        if ((m = OBJECT.matcher(p)).matches()) {
          boolean media = p.startsWith("/download/") || "media".equals(r.query.get("alt"));
          return media
              ? media(r, m.group(1), decode(m.group(2)))
              : metadata(r, m.group(1), decode(m.group(2)));
        }
        if ((m = LIST.matcher(p)).matches()) {
          return list(r, m.group(1));
        }
        if ((m = BUCKET.matcher(p)).matches()) {
          count("bucket");
          return checkBucket(m.group(1)) != null
              ? checkBucket(m.group(1))
              : Response.json(200, bucketJson());
        }
        break;
      case "DELETE":
        if ((m = OBJECT.matcher(p)).matches()) {
          return delete(r, m.group(1), decode(m.group(2)));
        }
        if (UPLOAD.matcher(p).matches() && r.query.containsKey("upload_id")) {
          sessions.remove(r.query.get("upload_id"));
          return Response.empty(499);
        }
        break;
      case "POST":
        if (p.equals("/batch/storage/v1")) {
          return batch(r);
        }
        if ((m = UPLOAD.matcher(p)).matches()) {
          return insert(r, m.group(1));
        }
        if ((m = OBJECT_TO.matcher(p)).matches()) {
          return copy(
              r, m.group(1), decode(m.group(2)), m.group(3), m.group(4), decode(m.group(5)));
        }
        if ((m = MOVE.matcher(p)).matches()) {
          return move(r, m.group(1), decode(m.group(2)), decode(m.group(3)));
        }
        if ((m = COMPOSE.matcher(p)).matches()) {
          return compose(r, m.group(1), decode(m.group(2)));
        }
        break;
      case "PUT":
        if (UPLOAD.matcher(p).matches() && r.query.containsKey("upload_id")) {
          return chunk(r);
        }
        break;
      default:
        break;
    }
    unsupported.add(r.method + " " + p);
    return error(
        501, "notImplemented", "the loopback GCS fake does not implement " + r.method + " " + p);
  }

  // ---- errors and JSON ----

  private static Response error(int code, String reason, String message) {
    ObjectNode err = JSON.createObjectNode();
    ObjectNode e = err.putObject("error");
    e.put("code", code);
    e.put("message", message);
    ObjectNode one = e.putArray("errors").addObject();
    one.put("domain", "global");
    one.put("reason", reason);
    one.put("message", message);
    return Response.json(code, err);
  }

  private Response checkBucket(String name) {
    return bucket.equals(name)
        ? null
        : error(404, "notFound", "The specified bucket does not exist.");
  }

  private static Response noSuchObject(String b, String name) {
    return error(404, "notFound", "No such object: " + b + "/" + name);
  }

  private ObjectNode bucketJson() {
    ObjectNode n = JSON.createObjectNode();
    n.put("kind", "storage#bucket");
    n.put("id", bucket);
    n.put("name", bucket);
    n.put("location", "US");
    n.put("storageClass", "STANDARD");
    n.put("timeCreated", "2026-01-01T00:00:00.000Z");
    n.put("updated", "2026-01-01T00:00:00.000Z");
    n.put("metageneration", "1");
    return n;
  }

  private ObjectNode objectJson(String name, Blob b) {
    ObjectNode n = JSON.createObjectNode();
    n.put("kind", "storage#object");
    n.put("id", bucket + "/" + name + "/" + b.generation);
    n.put("selfLink", endpoint + "/storage/v1/b/" + bucket + "/o/" + encode(name));
    n.put(
        "mediaLink",
        endpoint
            + "/download/storage/v1/b/"
            + bucket
            + "/o/"
            + encode(name)
            + "?generation="
            + b.generation
            + "&alt=media");
    n.put("name", name);
    n.put("bucket", bucket);
    n.put("generation", Long.toString(b.generation));
    n.put("metageneration", Long.toString(b.metageneration));
    n.put("contentType", b.contentType == null ? "application/octet-stream" : b.contentType);
    n.put("storageClass", "STANDARD");
    n.put("size", Long.toString(b.data.length));
    n.put("md5Hash", Base64.getEncoder().encodeToString(md5(b.data)));
    n.put("crc32c", Base64.getEncoder().encodeToString(crc32c(b.data)));
    String time = Instant.ofEpochMilli(b.generation / 1000).toString();
    n.put("timeCreated", time);
    n.put("updated", time);
    if (b.metadata != null && b.metadata.isObject() && b.metadata.size() > 0) {
      n.set("metadata", b.metadata);
    }
    return n;
  }

  private static byte[] md5(byte[] data) {
    try {
      return MessageDigest.getInstance("MD5").digest(data);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] crc32c(byte[] data) {
    CRC32C c = new CRC32C();
    c.update(data);
    return ByteBuffer.allocate(4).putInt((int) c.getValue()).array();
  }

  private static JsonNode parse(byte[] body) {
    try {
      return body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("request body is not JSON: " + e.getMessage(), e);
    }
  }

  /** GCS's generation preconditions against {@code current} (null: no such object); null if met. */
  private static Response precondition(Map<String, String> q, Blob current, String prefix) {
    String gm = q.get(prefix + "GenerationMatch");
    if (gm != null) {
      long want = Long.parseLong(gm);
      long have = current == null ? 0 : current.generation;
      if (want != have) {
        return error(
            412,
            "conditionNotMet",
            "At least one of the pre-conditions you specified did not hold.");
      }
    }
    String gnm = q.get(prefix + "GenerationNotMatch");
    if (gnm != null && current != null && Long.parseLong(gnm) == current.generation) {
      return error(
          412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
    }
    String mm = q.get(prefix + "MetagenerationMatch");
    if (mm != null && (current == null || Long.parseLong(mm) != current.metageneration)) {
      return error(
          412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
    }
    return null;
  }

  /** The object at {@code name}, honouring a {@code generation} parameter (null if absent). */
  private Blob find(Map<String, String> q, String name) {
    Blob b = objects.get(name);
    String gen = q.get("generation");
    if (b != null && gen != null && Long.parseLong(gen) != b.generation) {
      return null;
    }
    return b;
  }

  // ---- objects ----

  private Response metadata(Request r, String b, String name) {
    count("get");
    Response bad = checkBucket(b);
    if (bad != null) {
      return bad;
    }
    Blob blob = find(r.query, name);
    if (blob == null) {
      return noSuchObject(b, name);
    }
    Response failed = precondition(r.query, blob, "if");
    return failed != null ? failed : Response.json(200, objectJson(name, blob));
  }

  private Response media(Request r, String b, String name) {
    count("media");
    Response bad = checkBucket(b);
    if (bad != null) {
      return bad;
    }
    Blob blob = find(r.query, name);
    if (blob == null) {
      return noSuchObject(b, name);
    }
    Response failed = precondition(r.query, blob, "if");
    if (failed != null) {
      return failed;
    }
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Content-Type", blob.contentType == null ? "application/octet-stream" : blob.contentType);
    h.put("x-goog-generation", Long.toString(blob.generation));
    h.put("x-goog-metageneration", Long.toString(blob.metageneration));
    h.put("x-goog-stored-content-length", Long.toString(blob.data.length));
    h.put("x-goog-stored-content-encoding", "identity");
    h.put("Accept-Ranges", "bytes");
    String range = r.header("range");
    long size = blob.data.length;
    if (range == null || !range.startsWith("bytes=")) {
      mediaBytes.addAndGet(size);
      return new Response(200, h, blob.data);
    }
    String spec = range.substring("bytes=".length());
    long from;
    long to;
    if (spec.startsWith("-")) {
      long suffix = Long.parseLong(spec.substring(1));
      from = Math.max(0, size - suffix);
      to = size - 1;
    } else {
      int dash = spec.indexOf('-');
      from = Long.parseLong(spec.substring(0, dash));
      String end = spec.substring(dash + 1);
      to = end.isEmpty() ? size - 1 : Math.min(Long.parseLong(end), size - 1);
    }
    if (from >= size) {
      if (size == 0 && from == 0) {
        return new Response(200, h, new byte[0]);
      }
      h.put("Content-Range", "bytes */" + size);
      return new Response(
          416,
          h,
          error(416, "requestedRangeNotSatisfiable", "The requested range cannot be satisfied.")
              .body);
    }
    byte[] slice = java.util.Arrays.copyOfRange(blob.data, (int) from, (int) to + 1);
    mediaBytes.addAndGet(slice.length);
    h.put("Content-Range", "bytes " + from + "-" + to + "/" + size);
    return new Response(206, h, slice);
  }

  private Response list(Request r, String b) {
    count("list");
    Response bad = checkBucket(b);
    if (bad != null) {
      return bad;
    }
    String prefix = r.query.getOrDefault("prefix", "");
    String delimiter = r.query.get("delimiter");
    if (delimiter != null && delimiter.isEmpty()) {
      delimiter = null;
    }
    boolean trailing =
        Boolean.parseBoolean(r.query.getOrDefault("includeTrailingDelimiter", "false"));
    int max = Integer.parseInt(r.query.getOrDefault("maxResults", "1000"));
    if (max <= 0 || max > 1000) {
      max = 1000;
    }
    // Every entry (object or prefix) in name order; a page is a run of them, the token an index.
    TreeMap<String, String> entries = new TreeMap<>();
    for (String name : objects.subMap(prefix, true, prefix + Character.MAX_VALUE, false).keySet()) {
      String rest = name.substring(prefix.length());
      int cut = delimiter == null ? -1 : rest.indexOf(delimiter);
      if (cut < 0) {
        entries.put(name, "item");
      } else {
        String p = prefix + rest.substring(0, cut + delimiter.length());
        entries.putIfAbsent(p + "\u0000", "prefix");
        if (trailing && name.equals(p)) {
          entries.put(name, "item");
        }
      }
    }
    List<Map.Entry<String, String>> all = new ArrayList<>(entries.entrySet());
    int start =
        r.query.containsKey("pageToken")
            ? Integer.parseInt(
                new String(
                    Base64.getUrlDecoder().decode(r.query.get("pageToken")),
                    StandardCharsets.UTF_8))
            : 0;
    int end = Math.min(all.size(), start + max);
    ObjectNode out = JSON.createObjectNode();
    out.put("kind", "storage#objects");
    ArrayNode items = JSON.createArrayNode();
    TreeSet<String> prefixes = new TreeSet<>();
    for (Map.Entry<String, String> e : all.subList(start, end)) {
      if (e.getValue().equals("item")) {
        items.add(objectJson(e.getKey(), objects.get(e.getKey())));
      } else {
        prefixes.add(e.getKey().substring(0, e.getKey().length() - 1));
      }
    }
    if (!prefixes.isEmpty()) {
      ArrayNode pa = out.putArray("prefixes");
      prefixes.forEach(pa::add);
    }
    if (!items.isEmpty()) {
      out.set("items", items);
    }
    if (end < all.size()) {
      out.put(
          "nextPageToken",
          Base64.getUrlEncoder()
              .encodeToString(Integer.toString(end).getBytes(StandardCharsets.UTF_8)));
    }
    return Response.json(200, out);
  }

  private Response delete(Request r, String b, String name) {
    count("delete");
    Response bad = checkBucket(b);
    if (bad != null) {
      return bad;
    }
    synchronized (objects) {
      Blob blob = find(r.query, name);
      if (blob == null) {
        return noSuchObject(b, name);
      }
      Response failed = precondition(r.query, blob, "if");
      if (failed != null) {
        return failed;
      }
      objects.remove(name);
    }
    return Response.empty(204);
  }

  private Response copy(Request r, String sb, String src, String op, String db, String dst) {
    count(op.equals("rewriteTo") ? "rewrite" : "copy");
    Response bad = checkBucket(sb) != null ? checkBucket(sb) : checkBucket(db);
    if (bad != null) {
      return bad;
    }
    JsonNode meta = parse(r.body);
    Blob written;
    synchronized (objects) {
      Blob from = objects.get(src);
      String sgen = r.query.get("sourceGeneration");
      if (from == null || (sgen != null && Long.parseLong(sgen) != from.generation)) {
        return noSuchObject(sb, src);
      }
      Response failed = precondition(r.query, from, "ifSource");
      if (failed == null) {
        failed = precondition(r.query, objects.get(dst), "if");
      }
      if (failed != null) {
        return failed;
      }
      String type =
          meta.hasNonNull("contentType") ? meta.get("contentType").asText() : from.contentType;
      JsonNode md = meta.has("metadata") ? meta.get("metadata") : from.metadata;
      written = put(dst, from.data, type, md);
    }
    if (op.equals("copyTo")) {
      return Response.json(200, objectJson(dst, written));
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("kind", "storage#rewriteResponse");
    out.put("totalBytesRewritten", Long.toString(written.data.length));
    out.put("objectSize", Long.toString(written.data.length));
    out.put("done", true);
    out.set("resource", objectJson(dst, written));
    return Response.json(200, out);
  }

  private Response move(Request r, String b, String src, String dst) {
    count("move");
    Response bad = checkBucket(b);
    if (bad != null) {
      return bad;
    }
    Blob written;
    synchronized (objects) {
      Blob from = objects.get(src);
      if (from == null) {
        return noSuchObject(b, src);
      }
      Response failed = precondition(r.query, from, "ifSource");
      if (failed == null) {
        failed = precondition(r.query, objects.get(dst), "if");
      }
      if (failed != null) {
        return failed;
      }
      written = put(dst, from.data, from.contentType, from.metadata);
      objects.remove(src);
    }
    return Response.json(200, objectJson(dst, written));
  }

  private Response compose(Request r, String b, String dst) {
    count("compose");
    Response bad = checkBucket(b);
    if (bad != null) {
      return bad;
    }
    JsonNode req = parse(r.body);
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    Blob written;
    synchronized (objects) {
      for (JsonNode s : req.path("sourceObjects")) {
        Blob part = objects.get(s.path("name").asText());
        if (part == null) {
          return noSuchObject(b, s.path("name").asText());
        }
        joined.writeBytes(part.data);
      }
      Response failed = precondition(r.query, objects.get(dst), "if");
      if (failed != null) {
        return failed;
      }
      JsonNode d = req.path("destination");
      written =
          put(
              dst,
              joined.toByteArray(),
              d.hasNonNull("contentType") ? d.get("contentType").asText() : null,
              d.get("metadata"));
    }
    return Response.json(200, objectJson(dst, written));
  }

  // ---- uploads ----

  private Response insert(Request r, String b) {
    count("insert");
    Response bad = checkBucket(b);
    if (bad != null) {
      return bad;
    }
    String type = r.query.getOrDefault("uploadType", "");
    switch (type) {
      case "media":
        return finish(r.query.get("name"), r.body, r.header("content-type"), null, r.query);
      case "multipart":
        return multipart(r);
      case "resumable":
        JsonNode meta = parse(r.body);
        String name = r.query.getOrDefault("name", meta.path("name").asText(null));
        if (name == null) {
          return error(400, "required", "Required: object name");
        }
        String id = UUID.randomUUID().toString();
        sessions.put(
            id,
            new Session(
                name,
                meta.hasNonNull("contentType")
                    ? meta.get("contentType").asText()
                    : r.header("x-upload-content-type"),
                meta.get("metadata"),
                new LinkedHashMap<>(r.query)));
        Response ok = Response.empty(200);
        ok.headers.put(
            "Location",
            endpoint
                + "/upload/storage/v1/b/"
                + bucket
                + "/o?uploadType=resumable&upload_id="
                + id);
        ok.headers.put("X-GUploader-UploadID", id);
        return ok;
      default:
        return error(400, "invalidParameter", "unknown uploadType " + type);
    }
  }

  /** {@code multipart/related}: the object's JSON metadata, then its bytes. */
  private Response multipart(Request r) {
    List<byte[]> parts = parts(r.header("content-type"), r.body);
    if (parts.size() != 2) {
      return error(400, "invalid", "a multipart upload has 2 parts, not " + parts.size());
    }
    JsonNode meta = parse(partBody(parts.get(0)));
    String name = r.query.getOrDefault("name", meta.path("name").asText(null));
    return finish(
        name,
        partBody(parts.get(1)),
        meta.hasNonNull("contentType") ? meta.get("contentType").asText() : null,
        meta.get("metadata"),
        r.query);
  }

  private Response finish(
      String name, byte[] data, String type, JsonNode metadata, Map<String, String> q) {
    if (name == null || name.isEmpty()) {
      return error(400, "required", "Required: object name");
    }
    Blob written;
    synchronized (objects) {
      Response failed = precondition(q, objects.get(name), "if");
      if (failed != null) {
        return failed;
      }
      written = put(name, data, type, metadata);
    }
    stored(name);
    return Response.json(200, objectJson(name, written));
  }

  /** One PUT of a resumable session: a chunk, the last chunk, or a status query. */
  private Response chunk(Request r) {
    count("chunk");
    Session s = sessions.get(r.query.get("upload_id"));
    if (s == null) {
      return error(404, "notFound", "No such upload session");
    }
    String cr = r.header("content-range");
    Matcher m = cr == null ? null : CONTENT_RANGE.matcher(cr.trim());
    if (m == null || !m.matches()) {
      // No Content-Range: the whole object in one request.
      s.bytes.writeBytes(r.body);
      return complete(r, s);
    }
    synchronized (s) {
      if (m.group(1) != null) {
        long from = Long.parseLong(m.group(1));
        long have = s.bytes.size();
        if (from > have) {
          return error(
              400, "invalid", "chunk starts at " + from + " but " + have + " bytes were received");
        }
        int skip = (int) (have - from);
        if (skip < r.body.length) {
          s.bytes.write(r.body, skip, r.body.length - skip);
        }
      }
      String total = m.group(3);
      if (!total.equals("*") && Long.parseLong(total) == s.bytes.size()) {
        return complete(r, s);
      }
      Response more = Response.empty(308);
      if (s.bytes.size() > 0) {
        more.headers.put("Range", "bytes=0-" + (s.bytes.size() - 1));
      }
      return more;
    }
  }

  private Response complete(Request r, Session s) {
    sessions.remove(r.query.get("upload_id"));
    return finish(s.name, s.bytes.toByteArray(), s.contentType, s.metadata, s.conditions);
  }

  // ---- batch ----

  private Response batch(Request r) {
    count("batch");
    String boundary = "batch_" + UUID.randomUUID().toString().replace("-", "");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int n = 0;
    for (byte[] part : parts(r.header("content-type"), r.body)) {
      Map<String, String> partHeaders = partHeaders(part);
      Request inner = innerRequest(partBody(part));
      Response resp = handle(inner);
      String id = partHeaders.getOrDefault("content-id", "<" + (++n) + ">");
      if (id.startsWith("<")) {
        id = id.substring(1, id.length() - 1);
      }
      StringBuilder head = new StringBuilder();
      head.append("--").append(boundary).append("\r\n");
      head.append("Content-Type: application/http\r\n");
      head.append("Content-ID: <response-").append(id).append(">\r\n\r\n");
      head.append("HTTP/1.1 ")
          .append(resp.status)
          .append(' ')
          .append(reason(resp.status))
          .append("\r\n");
      resp.headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      head.append("Content-Length: ").append(resp.body.length).append("\r\n\r\n");
      out.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
      out.writeBytes(resp.body);
      out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    out.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Content-Type", "multipart/mixed; boundary=" + boundary);
    return new Response(200, h, out.toByteArray());
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 204 -> "No Content";
      case 404 -> "Not Found";
      case 412 -> "Precondition Failed";
      default -> "Status";
    };
  }

  /** An HTTP request written out in a batch part: request line, headers, blank line, body. */
  private static Request innerRequest(byte[] raw) {
    int headEnd = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
    String head = new String(raw, 0, headEnd < 0 ? raw.length : headEnd, StandardCharsets.UTF_8);
    byte[] body =
        headEnd < 0 ? new byte[0] : java.util.Arrays.copyOfRange(raw, headEnd + 4, raw.length);
    String[] lines = head.split("\r\n");
    String[] start = lines[0].split(" ");
    Map<String, String> headers = new TreeMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.put(
            lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
            lines[i].substring(colon + 1).trim());
      }
    }
    URI uri = URI.create(start[1]);
    return new Request(start[0], uri.getRawPath(), query(uri.getRawQuery()), headers, body);
  }

  /** The parts of a multipart body (each with its own headers), by the boundary in {@code type}. */
  private static List<byte[]> parts(String type, byte[] body) {
    Matcher m = Pattern.compile("boundary=\"?([^\";]+)\"?").matcher(type == null ? "" : type);
    if (!m.find()) {
      throw new IllegalArgumentException("multipart body without a boundary: " + type);
    }
    byte[] delim = ("--" + m.group(1)).getBytes(StandardCharsets.ISO_8859_1);
    List<byte[]> parts = new ArrayList<>();
    int at = indexOf(body, delim, 0);
    while (at >= 0) {
      int start = at + delim.length;
      if (start + 1 < body.length && body[start] == '-' && body[start + 1] == '-') {
        break;
      }
      start = skipNewline(body, start);
      int next = indexOf(body, delim, start);
      if (next < 0) {
        break;
      }
      int end = next;
      if (end >= 2 && body[end - 2] == '\r' && body[end - 1] == '\n') {
        end -= 2;
      } else if (end >= 1 && body[end - 1] == '\n') {
        end -= 1;
      }
      parts.add(java.util.Arrays.copyOfRange(body, start, end));
      at = next;
    }
    return parts;
  }

  private static int skipNewline(byte[] b, int i) {
    if (i < b.length && b[i] == '\r') {
      i++;
    }
    if (i < b.length && b[i] == '\n') {
      i++;
    }
    return i;
  }

  private static Map<String, String> partHeaders(byte[] part) {
    int end = indexOf(part, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
    Map<String, String> h = new TreeMap<>();
    if (end < 0) {
      return h;
    }
    for (String line : new String(part, 0, end, StandardCharsets.UTF_8).split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        h.put(
            line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
            line.substring(colon + 1).trim());
      }
    }
    return h;
  }

  private static byte[] partBody(byte[] part) {
    int end = indexOf(part, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
    return end < 0 ? part : java.util.Arrays.copyOfRange(part, end + 4, part.length);
  }

  private static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = Math.max(0, from); i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
