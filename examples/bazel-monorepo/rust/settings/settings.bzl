"""Build settings with the names and values of rules_rust's //rust/settings (error_format,
rustc_output_diagnostics), for the stand-in rules of //rust:defs.bzl."""

SettingInfo = provider(fields = ["value"])

def _setting_impl(ctx):
    return [SettingInfo(value = ctx.build_setting_value)]

string_setting = rule(implementation = _setting_impl, build_setting = config.string(flag = True))
bool_setting = rule(implementation = _setting_impl, build_setting = config.bool(flag = True))
