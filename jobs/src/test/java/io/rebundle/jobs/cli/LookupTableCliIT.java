package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rebundle.codec.oracle.TableCheckpoints;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line on a lookup table that TensorFlow's own kernels saved (a Keras
 * TextVectorization-like checkpoint, {@link TableCheckpoints}): verify finds it clean, {@code
 * inspect --tree} shows the two tensors that hold the table attribute, and {@code convert --to tf1}
 * keeps both.
 */
class LookupTableCliIT {
  @TempDir Path dir;

  @Test
  void verifyInspectTreeAndConvertUnderstandATableSavedAsTwoTensors() {
    assumeTrue(TableCheckpoints.available(), "TensorFlow native library not available");
    String prefix = dir.resolve("tv/ckpt-1").toString();
    TableCheckpoints.writeMutableHashTable(prefix);
    String key = TableCheckpoints.TABLE_KEY;

    CliRunner v = CliRunner.run("verify", prefix);
    assertEquals(0, v.exitCode(), v.out() + v.err());
    assertEquals("", v.err());

    CliRunner tree = CliRunner.run("inspect", "--tree", prefix);
    assertEquals(0, tree.exitCode(), tree.err());
    assertTrue(
        tree.out()
            .contains(
                "├── table #1  [table full_name=string_lookup_index_table key="
                    + key
                    + " tensors="
                    + key
                    + "-keys,"
                    + key
                    + "-values]\n"),
        tree.out());
    assertTrue(
        tree.out()
            .contains(
                "\ntable/.ATTRIBUTES/table-keys             string      [6]               25      0       0\n"
                    + "table/.ATTRIBUTES/table-values           int64       [6]               48      0       0\n"),
        tree.out());

    String out = dir.resolve("tf1/model.ckpt-1").toString();
    CliRunner c = CliRunner.runWithSharedSpark("convert", "--to", "tf1", prefix, out);
    assertEquals(0, c.exitCode(), c.out() + c.err());
    CliRunner listed = CliRunner.run("inspect", out);
    assertEquals(0, listed.exitCode(), listed.err());
    assertTrue(listed.out().contains("\ntable/table-keys "), listed.out());
    assertTrue(listed.out().contains("\ntable/table-values "), listed.out());
    assertTrue(listed.out().contains(", 3 tensors, "), listed.out());
    assertEquals(0, CliRunner.run("verify", out).exitCode());

    // The audit's tensor table names both tensors after the table attribute's object.
    List<Row> rows =
        io.rebundle.jobs.audit.AuditSpark.session()
            .read()
            .format("tfcheckpoint")
            .load(dir.resolve("tv").toString())
            .select("key", "full_name", "object_path")
            .orderBy("key")
            .collectAsList();
    assertEquals(5, rows.size(), rows.toString());
    for (int i : new int[] {3, 4}) {
      assertTrue(rows.get(i).getString(0).startsWith(key + "-"), rows.toString());
      assertEquals("string_lookup_index_table", rows.get(i).getString(1), rows.toString());
      assertEquals("table", rows.get(i).getString(2), rows.toString());
    }
  }
}
