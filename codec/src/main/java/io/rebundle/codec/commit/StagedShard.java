package io.rebundle.codec.commit;

import io.rebundle.codec.bundle.IndexRecord;
import java.io.Serializable;
import java.util.List;

/**
 * One output data file complete in the staging area: output shard {@code shard}, written at {@code
 * file}, holding {@code entries} ({@code bytes} in all). What a task hands to the committer.
 */
public record StagedShard(int shard, String file, List<IndexRecord> entries, long bytes)
    implements Serializable {
  public StagedShard {
    entries = List.copyOf(entries);
  }
}
