package io.rebundle.jobs.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.jobs.cli.UsageException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManifestTest {
  private static List<ManifestRow> read(String file, String text) {
    return Manifest.read(file, new StringReader(text));
  }

  private static String problems(String file, String text) {
    return assertThrows(UsageException.class, () -> read(file, text)).getMessage();
  }

  @Test
  void readsJsonLinesIntoConvertArguments() {
    List<ManifestRow> rows =
        read(
            "m.jsonl",
            """
        {"src": "/in/a", "dst": "/out/a", "to": "tf2", "root_name": "model", "shards": 2, "merge_slices": true}

        # a comment
        {"src": "/in/b", "dst": "/out/b", "to": "tf1", "keep_optimizer": false, "prev_name": ["x=y", "p=q"]}
        """);
    assertEquals(2, rows.size());
    assertEquals("m.jsonl:1", rows.get(0).where());
    assertEquals(
        List.of(
            "--merge-slices",
            "--root-name",
            "model",
            "--shards",
            "2",
            "--to",
            "tf2",
            "--",
            "/in/a",
            "/out/a"),
        rows.get(0).convertArgs());
    assertEquals(4, rows.get(1).line());
    assertEquals(
        List.of("--prev-name", "x=y", "--prev-name", "p=q", "--to", "tf1", "--", "/in/b", "/out/b"),
        rows.get(1).convertArgs());
  }

  @Test
  void readsCsvWithQuotesEmptyCellsAndRecordsSpanningLines() {
    List<ManifestRow> rows =
        read(
            "m.csv",
            "src,dst,to,root_name,prev_name\r\n"
                + "/in/a,/out/a,tf2,,\r\n"
                + "\"/in/b,c\",\"/out/\"\"b\"\"\",tf2,\"multi\nline\",a=b;c=d\n"
                + "/in/e,/out/e,tf1,x,\n");
    assertEquals(3, rows.size());
    assertEquals(List.of("--to", "tf2", "--", "/in/a", "/out/a"), rows.get(0).convertArgs());
    assertEquals(3, rows.get(1).line());
    assertEquals(
        List.of(
            "--prev-name",
            "a=b",
            "--prev-name",
            "c=d",
            "--root-name",
            "multi\nline",
            "--to",
            "tf2",
            "--",
            "/in/b,c",
            "/out/\"b\""),
        rows.get(1).convertArgs());
    assertEquals(5, rows.get(2).line());
  }

  @Test
  void detectsTheFormatFromTheFirstCharacterWhenTheNameSaysNothing() {
    assertEquals(
        "/out/a",
        read("manifest", "{\"src\":\"/in/a\",\"dst\":\"/out/a\",\"to\":\"tf2\"}").get(0).dst());
    assertEquals("/out/a", read("manifest", "src,dst,to\n/in/a,/out/a,tf2\n").get(0).dst());
  }

  @Test
  void reportsEveryBadRowWithFileAndLineAndReturnsNone() {
    String msg =
        problems(
            "fleet.jsonl",
            """
        {"src": "/in/a", "dst": "/out/a", "to": "tf2", "root_nam": "x"}
        {"dst": "/out/b", "to": "tf2"}
        {"src": "/in/c", "dst": "/out/c"}
        {"src": "/in/d", "dst": "/out/d", "to": "tf2", "merge_slices": "yes"}
        {"src": "/in/e", "dst": "/out/e", "to": "tf2"
        {"src": "/in/f", "dst": "/out/f", "to": "tf2", "master": "yarn"}
        """);
    assertTrue(msg.startsWith("Invalid manifest fleet.jsonl: 6 problems; nothing was run"), msg);
    assertTrue(msg.contains("fleet.jsonl:1: unknown field 'root_nam' (fields: "), msg);
    assertTrue(msg.contains("root_name"), msg);
    assertTrue(msg.contains("fleet.jsonl:2: missing src"), msg);
    assertTrue(
        msg.contains("fleet.jsonl:3: missing to (to: tf1, tf2 or tf1,tf2; or a template)"), msg);
    assertTrue(
        msg.contains("fleet.jsonl:4: invalid merge_slices: yes (expected true or false)"), msg);
    assertTrue(msg.contains("fleet.jsonl:5: invalid JSON: "), msg);
    assertTrue(msg.contains("fleet.jsonl:6: unknown field 'master'"), msg);
  }

  @Test
  void rejectsDuplicateDestinationsAndRowsWritingIntoEachOther() {
    String msg =
        problems(
            "m.csv",
            """
        src,dst,to
        /in/a,/out/a,tf2
        /in/b,/out/a/,tf2
        /in/c,/out/a/c,tf2
        /in/d,/in/a/converted,tf2
        /out/e/src,/out/e,tf2
        """);
    assertTrue(msg.contains("m.csv:3: dst /out/a/ is also the dst of line 2"), msg);
    assertTrue(
        msg.contains(
            "m.csv:4: dst /out/a/c is inside line 2's dst /out/a (rows would write into each other)"),
        msg);
    assertTrue(msg.contains("m.csv:5: dst /in/a/converted writes into line 2's src /in/a"), msg);
    assertTrue(!msg.contains("m.csv:6:"), msg);
  }

  @Test
  void rejectsASourceInsideAnotherRowsDestination() {
    String msg = problems("m.csv", "src,dst,to\n/in/a,/out/x,tf2\n/out/x/model,/out/y,tf2\n");
    assertTrue(
        msg.contains(
            "m.csv:3: src /out/x/model is inside line 2's dst /out/x (that row would write into this "
                + "row's source)"),
        msg);
  }

  @Test
  void rejectsCsvRowsWithTheWrongNumberOfCellsAndAnEmptyManifest() {
    assertTrue(
        problems("m.csv", "src,dst,to\n/a,/b\n")
            .contains("m.csv:2: 2 cells, the header (line 1) has 3"));
    assertEquals("Invalid manifest m.jsonl: no rows", problems("m.jsonl", "\n# nothing\n"));
    assertTrue(
        problems("m.csv", "src,dst,to\n\"/a,/b,tf2\n")
            .contains("m.csv:2: unterminated quoted cell"));
  }

  @Test
  void normalizesRelativePathsAndUris() {
    assertEquals(Path.of("x/y").toAbsolutePath().toString(), Manifest.normalize("x/./y/"));
    assertEquals("/a/b", Manifest.normalize("file:///a/b/"));
    assertEquals("hdfs://nn:8020/a", Manifest.normalize("hdfs://nn:8020/a/"));
  }

  @Test
  void knowsEveryConvertOptionButNotTheBatchWideOnes() {
    ManifestFields f = ManifestFields.get();
    for (String name :
        List.of(
            "src",
            "dst",
            "to",
            "map",
            "template",
            "root_name",
            "shards",
            "shard_size",
            "merge_slices",
            "keep_optimizer",
            "reuse_files",
            "overwrite",
            "no_state_file",
            "prev_name",
            "warm_start")) {
      assertTrue(f.isKnown(name), name);
    }
    for (String name : List.of("master", "conf", "report", "dry_run", "help")) {
      assertTrue(!f.isKnown(name), name);
    }
    assertTrue(f.isFlag("merge_slices"));
    assertTrue(f.isRepeatable("prev_name"));
  }
}
