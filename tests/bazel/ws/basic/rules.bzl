"""Stand-ins for rules_rust's rules: same names and attributes, no-op actions.

Queries only need the rule definitions; these rules write an empty stamp file when built.
"""

def _impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".stamp")
    ctx.actions.write(out, "", is_executable = True)
    return [DefaultInfo(files = depset([out]), executable = out)]

_ATTRS = {
    "srcs": attr.label_list(allow_files = [".rs"]),
    "crate_root": attr.label(allow_single_file = [".rs"]),
    "crate_name": attr.string(),
    "edition": attr.string(),
    "deps": attr.label_list(),
    "proc_macro_deps": attr.label_list(),
    "aliases": attr.label_keyed_string_dict(),
    "crate_features": attr.string_list(),
    "rustc_flags": attr.string_list(),
    "rustc_env": attr.string_dict(),
    "data": attr.label_list(allow_files = True),
}

rust_library = rule(implementation = _impl, attrs = _ATTRS)
rust_proc_macro = rule(implementation = _impl, attrs = _ATTRS)
rust_shared_library = rule(implementation = _impl, attrs = _ATTRS)
rust_static_library = rule(implementation = _impl, attrs = _ATTRS)
rust_binary = rule(implementation = _impl, attrs = _ATTRS, executable = True)
rust_test = rule(
    implementation = _impl,
    attrs = dict(_ATTRS, crate = attr.label()),
    test = True,
)
