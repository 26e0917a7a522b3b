package io.rebundle.jobs.spark;

import org.apache.spark.api.java.JavaSparkContext;

/**
 * A Spark context lent to a command by its caller (tests, which share one per JVM), never stopped
 * by the command. Commands hold this rather than the context itself: picocli reflects over every
 * command's fields and constructors when the command line is built, and a Spark type there would
 * load Spark classes for every command, even those that never start Spark.
 */
public record LentContext(JavaSparkContext context) {}
