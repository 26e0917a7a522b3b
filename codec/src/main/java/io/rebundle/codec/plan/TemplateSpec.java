package io.rebundle.codec.plan;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * How a template is filled. {@code matchByPath}: match TF2 variables by object path instead of full
 * name. {@code keepTemplateValues}: variables SRC does not fill keep the template's values instead
 * of failing. {@code strictUnused}: source tensors the template does not use are an error. {@code
 * warmStart}: only template variables whose name matches (anchored at the start, as {@code
 * warm_start}'s {@code vars_to_warm_start}) take source values; the rest, and the global step, keep
 * the template's. {@code previousNames}: template name to source name ({@code
 * var_name_to_prev_var_name}).
 */
public record TemplateSpec(
    boolean matchByPath,
    boolean keepTemplateValues,
    boolean strictUnused,
    Pattern warmStart,
    Map<String, String> previousNames)
    implements java.io.Serializable {
  public TemplateSpec {
    previousNames = Map.copyOf(previousNames);
  }
}
