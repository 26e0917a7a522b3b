package io.rebundle.codec.migrate;

import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.TemplateSpec;

/**
 * What to migrate and how: the input of {@link PreparedMigration#prepare}.
 *
 * <ul>
 *   <li>{@code source}: a prefix, a model directory or a SavedModel directory. {@code destination}:
 *       the output prefix, or a directory (existing, or ending in '/') that receives the checkpoint
 *       under the source's name.
 *   <li>{@code spec}: the target format and its options (ignored with a template: the template's
 *       format wins). {@code rules}: the mapping rules (never null; {@link MappingRules#none()}).
 *   <li>{@code shards}: new output data files (0: from {@code shardSize}); with reused files both
 *       size only the new shards, and either given keeps {@link FileReuse.Mode#AUTO} from reusing.
 *   <li>{@code template}/{@code templateSpec}: fill a template checkpoint instead (null: none).
 *   <li>{@code reuse}: which source data files are reused whole. Null means the default, {@link
 *       FileReuse.Mode#AUTO}; {@code AUTO} always verifies every CRC (the default never skips a CRC
 *       check); {@code COPY}/{@code LINK} verify only when asked.
 *   <li>{@code warmStart}: null or {@link WarmStart#none()} for none.
 *   <li>{@code writeStateFile}: record the output in the {@code checkpoint} state file beside it
 *       (kept paths and timestamps stay); {@code setLatest}: and make it the latest, which a new
 *       state file always does.
 * </ul>
 */
public record MigrationRequest(
    String source,
    String destination,
    MigrationSpec spec,
    MappingRules rules,
    int shards,
    long shardSize,
    boolean overwrite,
    boolean writeStateFile,
    String template,
    TemplateSpec templateSpec,
    FileReuse.Policy reuse,
    WarmStart warmStart,
    boolean setLatest) {
  /** A request that records its output in the state file without moving the latest. */
  public MigrationRequest(
      String source,
      String destination,
      MigrationSpec spec,
      MappingRules rules,
      int shards,
      long shardSize,
      boolean overwrite,
      boolean writeStateFile,
      String template,
      TemplateSpec templateSpec,
      FileReuse.Policy reuse,
      WarmStart warmStart) {
    this(
        source,
        destination,
        spec,
        rules,
        shards,
        shardSize,
        overwrite,
        writeStateFile,
        template,
        templateSpec,
        reuse,
        warmStart,
        false);
  }

  public MigrationRequest {
    if (source == null || destination == null) {
      throw new IllegalArgumentException("Invalid migration: source and destination are required");
    }
    if (spec == null && template == null) {
      throw new IllegalArgumentException("Invalid migration: no target format and no template");
    }
    if (template != null && templateSpec == null) {
      throw new IllegalArgumentException("Invalid migration: a template needs a template spec");
    }
    if (shards < 0) {
      throw new IllegalArgumentException("Invalid number of shards: " + shards);
    }
    if (shardSize <= 0) {
      throw new IllegalArgumentException("Invalid shard size: " + shardSize);
    }
    rules = rules == null ? MappingRules.none() : rules;
    warmStart = warmStart == null ? WarmStart.none() : warmStart;
  }

  /**
   * A plain conversion of {@code source} to {@code destination}: no rules, default layout and
   * reuse.
   */
  public static MigrationRequest of(String source, String destination, MigrationSpec spec) {
    return new MigrationRequest(
        source,
        destination,
        spec,
        MappingRules.none(),
        0,
        Scheduler.DEFAULT_SHARD_SIZE,
        false,
        true,
        null,
        null,
        null,
        null);
  }

  /**
   * The reuse policy that runs: the default when none was asked, and CRC verification whenever
   * {@link FileReuse.Mode#AUTO} decides (it never trades a CRC check for speed on its own).
   */
  public FileReuse.Policy effectiveReuse() {
    FileReuse.Policy p = reuse == null ? FileReuse.Policy.of(FileReuse.Mode.AUTO) : reuse;
    return p.mode() == FileReuse.Mode.AUTO ? p.withVerification() : p;
  }
}
