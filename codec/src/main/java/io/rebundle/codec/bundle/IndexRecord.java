package io.rebundle.codec.bundle;

import java.nio.charset.StandardCharsets;

/** One key of an index and its decoded entry. Slice entries have binary keys (§5.2). */
public record IndexRecord(byte[] key, BundleEntry entry) implements java.io.Serializable {
  public boolean isSliceEntry() {
    return SliceKeys.isSliceKey(key);
  }

  /**
   * The key as text; slice keys render as their tensor name plus slice, and a malformed slice key
   * (which {@link CheckpointReader#records()} never yields, but a verifier collects) as its escaped
   * bytes.
   */
  public String name() {
    if (isSliceEntry()) {
      try {
        SliceKeys.Decoded d = SliceKeys.decode(key);
        return d.name() + "[" + d.slice() + "]";
      } catch (io.rebundle.codec.MalformedBytesException e) {
        return io.rebundle.codec.util.Bytes.printable(key);
      }
    }
    return new String(key, StandardCharsets.UTF_8);
  }
}
