package io.rebundle.jobs.audit;

import java.util.regex.Pattern;

/**
 * Whether a checkpoint key holds optimizer state: TF2 slot variables ({@code .OPTIMIZER_SLOT} in
 * the key) and the optimizer's own variables ({@code optimizer/...}); TF1 slots named after their
 * optimizer ({@code .../Adam}, {@code .../Adam_1}, {@code .../Momentum}, ...) and Adam's {@code
 * beta1_power}/{@code beta2_power} accumulators.
 */
final class OptimizerSlots {
  private static final Pattern TF1 =
      Pattern.compile(
          "(.+/)?(Adam|Adam_1|AdamW|AdamW_1|Momentum|Adagrad|RMSProp|RMSProp_1|Ftrl|Ftrl_1|AdagradDA|"
              + "AdagradDA_1|Adadelta|Adadelta_1|Nadam|Nadam_1|Adamax|Adamax_1)|(.+/)?beta[12]_power(_\\d+)?");

  private OptimizerSlots() {}

  static boolean isOptimizerKey(String key, boolean tf2) {
    if (tf2) {
      return key.contains("/.OPTIMIZER_SLOT/") || key.startsWith("optimizer/");
    }
    return TF1.matcher(key).matches();
  }
}
