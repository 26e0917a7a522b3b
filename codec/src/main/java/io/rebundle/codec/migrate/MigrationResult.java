package io.rebundle.codec.migrate;

import io.rebundle.codec.layout.OutputLayout;
import io.rebundle.codec.plan.MigrationPlan;

/**
 * A committed migration: the resolved source and destination prefixes, the plan and layout that
 * ran, the bytes in the output's data files, and whether every one of them had its CRC32C checked
 * on the way (always for streamed tensors; for reused files only with verification).
 */
public record MigrationResult(
    String sourcePrefix,
    String destination,
    MigrationPlan plan,
    OutputLayout layout,
    long bytes,
    boolean verified) {}
