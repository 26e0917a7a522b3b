package io.rebundle.codec.table;

import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.util.Varints;
import org.junit.jupiter.api.Test;

class FooterTest {

  @Test
  void encodesHandlesPaddingAndMagic() {
    byte[] footer = new Footer(new BlockHandle(37, 8), new BlockHandle(50, 14)).encode();
    assertEquals("25 08 32 0e " + "00 ".repeat(36) + "57 fb 80 8b 24 75 47 db", spaced(footer));
    assertTrue(Footer.hasMagic(footer));
    assertEquals(-1, Footer.decode(footer, "f", 0).firstNonCanonicalByte(footer));
  }

  @Test
  void decodesWhatItEncodes() {
    Footer f =
        new Footer(new BlockHandle(1L << 40, 262149), new BlockHandle(Long.MAX_VALUE / 4, 99));
    assertEquals(f, Footer.decode(f.encode(), "t.index", 1000));
  }

  @Test
  void rejectsFooterWithBadMagic() {
    byte[] footer = new Footer(new BlockHandle(37, 8), new BlockHandle(50, 14)).encode();
    footer[47] = 0;
    assertFalse(Footer.hasMagic(footer));
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> Footer.decode(footer, "t.index", 69));
    assertEquals(
        "Cannot read table t.index at offset 109: not an sstable (bad magic number): "
            + "expected db4775248b80fb57, found 004775248b80fb57",
        e.getMessage());
    assertEquals(109L, e.offset());
  }

  @Test
  void rejectsFooterWithBadHandle() {
    byte[] footer = new byte[48];
    for (int i = 0; i < 40; i++) {
      footer[i] = (byte) 0xFF;
    }
    Varints.putFixed64(footer, 40, Footer.MAGIC);
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> Footer.decode(footer, "t.index", 0));
    assertEquals(
        "Cannot read footer in t.index at offset 0: varint longer than 10 bytes at byte 10",
        e.getMessage());
  }

  @Test
  void findsDirtyPadding() {
    byte[] footer = new Footer(new BlockHandle(37, 8), new BlockHandle(50, 14)).encode();
    footer[20] = 1;
    assertEquals(20, Footer.decode(footer, "f", 0).firstNonCanonicalByte(footer));
  }

  @Test
  void encodesBlockHandlesAsTwoVarints() {
    assertEquals("00 20", spaced(new BlockHandle(0, 32).encode()));
    assertEquals("80 80 10 85 80 10", spaced(new BlockHandle(262144, 262149).encode()));
    assertEquals(262144 + 262149 + 5, new BlockHandle(262144, 262149).end());
    BlockHandle decoded = BlockHandle.decode(new Varints.Cursor(hex("80 80 10 85 80 10"), 0, 6));
    assertEquals(new BlockHandle(262144, 262149), decoded);
  }

  @Test
  void rejectsNegativeHandles() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new BlockHandle(-1, 0));
    assertEquals("Invalid block handle: offset -1, size 0", e.getMessage());
    byte[] negative = hex("ff ff ff ff ff ff ff ff ff 01 00");
    io.rebundle.codec.MalformedBytesException s =
        assertThrows(
            io.rebundle.codec.MalformedBytesException.class,
            () -> BlockHandle.decode(new Varints.Cursor(negative, 0, negative.length)));
    assertEquals("negative block handle: offset -1, size 0", s.getMessage());
  }
}
