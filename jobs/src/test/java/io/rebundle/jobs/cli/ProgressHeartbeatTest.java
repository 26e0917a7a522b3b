package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A progress interval below Spark's heartbeat makes the heartbeat as frequent, unless set. */
class ProgressHeartbeatTest {
  @Test
  void aShortIntervalSetsTheHeartbeat() {
    Map<String, String> conf = ConvertCommand.parseConf(List.of("spark.ui.enabled=false"));
    ConvertCommand.heartbeatForProgress(conf, 3);
    assertEquals(
        Map.of("spark.ui.enabled", "false", "spark.executor.heartbeatInterval", "3s"), conf);
  }

  @Test
  void theDefaultIntervalLeavesSparksHeartbeat() {
    Map<String, String> conf = new HashMap<>();
    ConvertCommand.heartbeatForProgress(conf, 10);
    ConvertCommand.heartbeatForProgress(conf, 60);
    assertEquals(Map.of(), conf);
  }

  @Test
  void aHeartbeatTheUserSetAndQuietRunsAreLeftAlone() {
    Map<String, String> set =
        ConvertCommand.parseConf(List.of("spark.executor.heartbeatInterval=20s"));
    ConvertCommand.heartbeatForProgress(set, 2);
    assertEquals(Map.of("spark.executor.heartbeatInterval", "20s"), set);

    Map<String, String> quiet = new HashMap<>(Map.of("rebundle.progress", "false"));
    ConvertCommand.heartbeatForProgress(quiet, 2);
    assertEquals(Map.of("rebundle.progress", "false"), quiet);
  }
}
