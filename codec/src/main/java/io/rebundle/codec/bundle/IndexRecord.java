package io.rebundle.codec.bundle;

import java.nio.charset.StandardCharsets;

/** One key of an index and its decoded entry. Slice entries have binary keys (§5.2). */
public record IndexRecord(byte[] key, BundleEntry entry) implements java.io.Serializable {
  public boolean isSliceEntry() {
    return SliceKeys.isSliceKey(key);
  }

  /** The key as text; slice keys render as their tensor name plus slice. */
  public String name() {
    if (isSliceEntry()) {
      SliceKeys.Decoded d = SliceKeys.decode(key);
      return d.name() + "[" + d.slice() + "]";
    }
    return new String(key, StandardCharsets.UTF_8);
  }
}
