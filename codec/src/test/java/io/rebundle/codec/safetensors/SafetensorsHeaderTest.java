package io.rebundle.codec.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.bundle.TensorShape;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SafetensorsHeaderTest {
  private static SafetensorsHeader parse(String json, long dataBytes) {
    byte[] j = json.getBytes(StandardCharsets.UTF_8);
    return SafetensorsHeader.parse("f.safetensors", j, 8 + j.length + dataBytes);
  }

  private static String corrupt(String json, long dataBytes) {
    return assertThrows(CorruptCheckpointException.class, () -> parse(json, dataBytes))
        .getMessage();
  }

  @Test
  void acceptsEntriesInAnyOrderAndSortsThemByOffset() {
    SafetensorsHeader h =
        parse(
            "{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]},"
                + "\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}  ",
            6);
    assertEquals(List.of("a", "b"), h.entries().stream().map(SafetensorsEntry::name).toList());
    assertEquals(TensorShape.SCALAR, h.entries().get(0).shape());
    assertEquals("pt", h.metadata().get("format"));
    assertEquals(6, h.dataLength());
  }

  @Test
  void refusesDeeplyNestedJsonWithoutExhaustingTheStack() {
    String deep = "{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    assertEquals(
        "Cannot read f.safetensors: header is not valid JSON: JSON nested deeper than 64 levels (at byte 77)",
        corrupt(deep, 0));
  }

  @Test
  void refusesNonStringMetadataUnknownFieldsAndBadOffsets() {
    assertEquals(
        "Cannot read f.safetensors: __metadata__ value for 'epoch' is not a string",
        corrupt("{\"__metadata__\":{\"epoch\":3}}", 0));
    assertEquals(
        "Cannot read f.safetensors: tensor 'w' has unknown field 'offsets'",
        corrupt("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"offsets\":[0,1]}}", 1));
    assertEquals(
        "Cannot read f.safetensors: tensor 'w' has invalid data_offsets [4, 2]",
        corrupt("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,2]}}", 1));
    assertEquals(
        "Cannot read f.safetensors: tensor 'w' has no data_offsets [begin, end] of two integers",
        corrupt(
            "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}",
            1));
    assertEquals(
        "Cannot read f.safetensors: header is not valid UTF-8",
        assertThrows(
                CorruptCheckpointException.class,
                () ->
                    SafetensorsHeader.parse(
                        "f.safetensors", new byte[] {'{', (byte) 0xC3, '}'}, 11))
            .getMessage());
  }

  @Test
  void checksTheLengthPrefixBeforeAnyAllocation() {
    byte[] max = {-1, -1, -1, -1, -1, -1, -1, -1};
    assertEquals(
        "Cannot read f.safetensors: header length 18446744073709551615 exceeds the format's limit of "
            + "100000000 bytes (at byte 0)",
        assertThrows(
                CorruptCheckpointException.class,
                () -> SafetensorsHeader.headerLength("f.safetensors", max, 1L << 40))
            .getMessage());
    byte[] one = {1, 0, 0, 0, 0, 0, 0, 0};
    assertEquals(
        "Cannot read f.safetensors: header length 1 is too small for a JSON object (at byte 0)",
        assertThrows(
                CorruptCheckpointException.class,
                () -> SafetensorsHeader.headerLength("f.safetensors", one, 100))
            .getMessage());
  }

  @Test
  void encodesWhatItParses() {
    SafetensorsHeader h =
        SafetensorsHeader.layout(
            java.util.Map.of("note", "quote \" and \\ and \n"),
            List.of(
                new SafetensorsHeader.TensorSpec(
                    "naïve/w", SafetensorsDType.BF16, TensorShape.of(3, 1))));
    byte[] bytes = h.encode();
    int n = SafetensorsHeader.headerLength("f", bytes, bytes.length + 6);
    byte[] json = java.util.Arrays.copyOfRange(bytes, 8, 8 + n);
    assertEquals(h, SafetensorsHeader.parse("f", json, bytes.length + 6));
  }
}
