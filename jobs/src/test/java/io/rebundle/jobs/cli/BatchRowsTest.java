package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.migrate.MigrationRequest;
import io.rebundle.jobs.batch.BatchRow;
import io.rebundle.jobs.batch.Manifest;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Manifest rows become the requests `convert` builds, each row on its own (no option leaks into the
 * next).
 */
class BatchRowsTest {
  @Test
  void eachRowBuildsWhatConvertBuildsAndNothingCarriesOver() {
    List<BatchRow> rows =
        BatchCommand.rows(
            Manifest.read(
                "m.jsonl",
                new StringReader(
                    """
        {"src": "/in/a", "dst": "/out/a", "to": "tf1,tf2", "root_name": "net", "shards": 3, "prev_name": ["x=y"], "overwrite": true, "reuse_files": "never"}
        {"src": "/in/b", "dst": "/out/b", "to": "tf2"}
        """)),
            "m.jsonl");
    List<MigrationRequest> a = rows.get(0).requests();
    assertEquals(2, a.size());
    assertEquals("/out/a-tf1", a.get(0).destination());
    assertEquals("/out/a-tf2", a.get(1).destination());
    assertEquals("net", a.get(1).spec().rootName());
    assertEquals(3, a.get(1).shards());
    assertTrue(a.get(1).overwrite());
    assertEquals(FileReuse.Mode.NEVER, a.get(1).effectiveReuse().mode());
    assertEquals("y", a.get(1).warmStart().previousNames().get("x"));

    MigrationRequest b = rows.get(1).requests().get(0);
    assertEquals("/out/b", b.destination());
    assertEquals("vars", b.spec().rootName());
    assertEquals(0, b.shards());
    assertFalse(b.overwrite());
    assertTrue(b.warmStart().isNone());
    assertEquals(FileReuse.Mode.AUTO, b.effectiveReuse().mode());
  }
}
