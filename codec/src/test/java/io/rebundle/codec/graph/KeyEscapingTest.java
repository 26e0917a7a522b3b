package io.rebundle.codec.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyEscapingTest {

  @Test
  void escapesSpecExamples() {
    assertEquals("scoped.Sc", KeyEscaping.escape("scoped/c"));
    assertEquals("a..b", KeyEscaping.escape("a.b"));
    assertEquals("a...Sb", KeyEscaping.escape("a./b"));
    assertEquals("plain_name-0", KeyEscaping.escape("plain_name-0"));
    assertEquals("", KeyEscaping.escape(""));
    assertEquals(".S.S", KeyEscaping.escape("//"));
    assertEquals("..S", KeyEscaping.escape(".S"));
  }

  @Test
  void unescapesSpecExamples() {
    assertEquals("scoped/c", KeyEscaping.unescape("scoped.Sc"));
    assertEquals("a.b", KeyEscaping.unescape("a..b"));
    assertEquals("a./b", KeyEscaping.unescape("a...Sb"));
    assertEquals(".S", KeyEscaping.unescape("..S"));
  }

  @Test
  void keepsDanglingAndUnknownEscapes() {
    assertEquals("a.", KeyEscaping.unescape("a."));
    assertEquals("a.x", KeyEscaping.unescape("a.x"));
  }

  @Test
  void unescapeInvertsEscapeForRandomStrings() {
    Random random = new Random(13);
    char[] alphabet = {'.', '/', 'S', 's', 'a', '_', '0', '\u00e9'};
    for (int trial = 0; trial < 20_000; trial++) {
      StringBuilder sb = new StringBuilder();
      int len = random.nextInt(12);
      for (int i = 0; i < len; i++) {
        sb.append(alphabet[random.nextInt(alphabet.length)]);
      }
      String s = sb.toString();
      String escaped = KeyEscaping.escape(s);
      assertEquals(-1, escaped.indexOf('/'), escaped);
      assertEquals(s, KeyEscaping.unescape(escaped), "escaped as " + escaped);
    }
  }

  @Test
  void buildsAttributeKeys() {
    assertEquals(
        "vars/scoped.Sc/.ATTRIBUTES/VARIABLE_VALUE",
        KeyEscaping.attributeKey("vars/scoped.Sc", KeyEscaping.VARIABLE_VALUE));
    assertEquals(
        "/.ATTRIBUTES/VARIABLE_VALUE", KeyEscaping.attributeKey("", KeyEscaping.VARIABLE_VALUE));
    // The tensor name is escaped twice: "a/b" -> "a.Sb" -> "a..Sb".
    assertEquals("t/.ATTRIBUTES/a..Sb", KeyEscaping.attributeKey("t", "a/b"));
    assertEquals("t/.ATTRIBUTES/-keys", KeyEscaping.attributeKey("t", "-keys"));
  }

  @Test
  void extractsObjectPathsFromKeys() {
    assertEquals(
        "vars/scoped.Sc", KeyEscaping.objectPathOf("vars/scoped.Sc/.ATTRIBUTES/VARIABLE_VALUE"));
    assertEquals(
        "layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m",
        KeyEscaping.objectPathOf(
            "layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"));
    assertEquals("", KeyEscaping.objectPathOf("/.ATTRIBUTES/VARIABLE_VALUE"));
    assertEquals("", KeyEscaping.objectPathOf(".ATTRIBUTES/x"));
    assertNull(KeyEscaping.objectPathOf("global_step"));
  }
}
