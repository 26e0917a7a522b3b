package io.rebundle.codec.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LocationTest {
  @Test
  void findsSchemes() {
    assertEquals("gs", Location.scheme("gs://bucket/model/ckpt"));
    assertEquals("s3a", Location.scheme("S3A://bucket/x"));
    assertEquals("file", Location.scheme("file:/tmp/x"));
    assertEquals("hdfs", Location.scheme("hdfs://nn:8020/x"));
    assertEquals("", Location.scheme("/tmp/x"));
    assertEquals("", Location.scheme("relative/ckpt"));
    assertEquals("", Location.scheme("dir/a:b"));
    assertEquals("", Location.scheme(":x"));
    assertEquals("", Location.scheme("1a://x"));
    assertTrue(Location.isLocal("/tmp/x"));
    assertTrue(Location.isLocal("file:///tmp/x"));
    assertFalse(Location.isLocal("gs://b/x"));
  }

  @Test
  void splitsAndJoinsPathsAndUris() {
    assertEquals("/a", Location.parent("/a/b"));
    assertEquals("/", Location.parent("/b"));
    assertEquals("", Location.parent("/"));
    assertEquals("", Location.parent("b"));
    assertEquals("a", Location.parent("a/b"));
    assertEquals("/a", Location.parent("/a/b/"));
    assertEquals("gs://bucket/model", Location.parent("gs://bucket/model/ckpt"));
    assertEquals("gs://bucket/", Location.parent("gs://bucket/ckpt"));
    assertEquals("", Location.parent("gs://bucket/"));
    assertEquals("", Location.parent("gs://bucket"));
    assertEquals("hdfs://nn:8020/x", Location.parent("hdfs://nn:8020/x/y"));
    assertEquals("file:/tmp", Location.parent("file:/tmp/x"));
    assertEquals("ckpt", Location.fileName("gs://bucket/model/ckpt"));
    assertEquals("b", Location.fileName("/a/b/"));
    assertEquals("b", Location.fileName("b"));
    assertEquals("/a/b", Location.join("/a", "b"));
    assertEquals("/a/b", Location.join("/a/", "b"));
    assertEquals("b", Location.join("", "b"));
    assertEquals("s3a://b/m/x", Location.join("s3a://b/m", "x"));
    assertTrue(Location.isAbsolute("/x"));
    assertTrue(Location.isAbsolute("gs://b/x"));
    assertFalse(Location.isAbsolute("x/y"));
    assertEquals("gs://b/m/ckpt-1", Location.resolve("gs://b/m", "ckpt-1"));
    assertEquals("/abs/ckpt-1", Location.resolve("gs://b/m", "/abs/ckpt-1"));
  }
}
