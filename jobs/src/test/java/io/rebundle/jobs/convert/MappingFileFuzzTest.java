package io.rebundle.jobs.convert;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.rebundle.codec.plan.MappingRules;
import java.util.regex.Pattern;

/**
 * Fuzzes the mapping-file parser ({@code --map}): any text parses into rules, or fails with an
 * {@link MappingFile.InvalidMappingException} (exit 2) naming file, line and column; never another
 * exception. Every pattern it accepts is matched against fuzzer-chosen names, which must finish
 * promptly: the parser refuses the nested repetition that makes Java's matcher backtrack
 * exponentially.
 */
class MappingFileFuzzTest {
  @FuzzTest(maxDuration = "5s")
  void mappingFile(FuzzedDataProvider in) {
    String name = in.consumeString(64);
    String text = in.consumeRemainingAsString();
    MappingRules rules;
    try {
      rules = MappingFile.parse("fuzz.yaml", text);
    } catch (MappingFile.InvalidMappingException expected) {
      return;
    }
    for (Pattern p : rules.include()) {
      p.matcher(name).matches();
    }
    for (Pattern p : rules.drop()) {
      p.matcher(name).matches();
    }
    for (MappingRules.Rename r : rules.rename()) {
      r.from().matcher(name).find();
    }
  }
}
