"""A tiny rules_rust stand-in: rust_library, rust_proc_macro, rust_binary, rust_test and
cargo_build_script with rules_rust's attribute names, compiling with the rustc found on PATH (not
hermetic).

Deliberately small: no toolchains, no transitions (proc macros and build scripts are built for
the host, which is also the target here). cargo_build_script is one rule that compiles and runs
build.rs (rules_rust's macro makes a rust_binary `<name>_` and a `cargo_build_script` rule that
runs it); like rules_rust's, it is named in the crate's `deps`, declares the directory
`<name>.out_dir` and, beside it, the files rules_rust's runner writes from the script's output
(`<name>.flags`: `--cfg=X` for each `cargo:rustc-cfg=X`, then `cargo:rustc-flags`, one a line;
`<name>.env`: `NAME=value` for each `cargo:rustc-env`, with `${pwd}` for the execroot and
`${out_dir}` for the out_dir; `.linkflags`, `.linksearchpaths`, `.depenv`), provides BuildInfo and
the `out_dir` output group, and the crate's rustc gets that directory as OUT_DIR, the flags file
as arguments and the env file as its environment (rules_rust's process wrapper; a value continued
on the next line is not supported here).
"""

load("//rust/settings:settings.bzl", "SettingInfo")

RustCrate = provider(fields = ["name", "out", "transitive_outs"])

# rules_rust's provider of a build script's results (its field names; no link fields here).
BuildInfo = provider(fields = ["out_dir", "rustc_env", "flags"])

# What a rust_test with crate = ... needs of its library.
_LibSources = provider(fields = ["srcs", "deps", "root", "aliases"])

def _crate_name(ctx):
    return ctx.attr.crate_name or ctx.label.name.replace("-", "_")

def _crate_root(ctx, default):
    if ctx.file.crate_root:
        return ctx.file.crate_root
    srcs = ctx.files.srcs
    if len(srcs) == 1:
        return srcs[0]
    for name in [default, ctx.label.name + ".rs"]:
        for f in srcs:
            if f.basename == name:
                return f
    fail("no crate_root and no %s among the srcs" % default)

def _aliases(ctx):
    return {target.label: alias for target, alias in ctx.attr.aliases.items()}

def _compile(ctx, crate_type, root, srcs, deps, aliases, test = False):
    name = _crate_name(ctx)
    if crate_type == "rlib":
        out = ctx.actions.declare_file("lib%s.rlib" % name)
    elif crate_type == "proc-macro":
        out = ctx.actions.declare_file("lib%s.so" % name)
    else:
        out = ctx.actions.declare_file(ctx.label.name)
    args = ctx.actions.args()
    args.add(root)
    args.add("--crate-name", name)
    args.add("--crate-type", "bin" if test else crate_type)
    if test:
        args.add("--test")
    args.add("--edition", ctx.attr.edition or "2021")
    args.add("-o", out)
    error_format = ctx.attr._error_format[SettingInfo].value
    if error_format not in ["human", "json"]:
        fail("//rust/settings:error_format must be human or json, not %s" % error_format)
    args.add("--error-format=" + error_format)
    for f in ctx.attr.crate_features:
        args.add("--cfg", 'feature="%s"' % f)
    args.add_all(ctx.attr.rustc_flags)
    transitive = []
    build_infos = [dep[BuildInfo] for dep in deps if BuildInfo in dep]
    for dep in deps:
        if RustCrate not in dep:
            continue
        info = dep[RustCrate]
        args.add("--extern", "%s=%s" % (aliases.get(dep.label, info.name), info.out.path))
        transitive.append(info.transitive_outs)
    dep_outs = depset(transitive = transitive)
    for f in dep_outs.to_list():
        args.add("-L", "dependency=" + f.dirname)
    # rustc comes from the user's PATH (use_default_shell_env), and Bazel then ignores `env`:
    # rustc_env is exported by the shell instead.
    exports = "".join([
        "export %s='%s'; " % (k, v.replace("'", "'\\''"))
        for k, v in ctx.attr.rustc_env.items()
    ])
    # As rules_rust: the build script's directory, absolute, is rustc's OUT_DIR, its env file
    # rustc's environment (placeholders replaced) and its flags file rustc's arguments.
    for info in build_infos:
        exports += 'export OUT_DIR="$PWD/%s"; ' % info.out_dir.path
        exports += ('while IFS= read -r l || [ -n "$l" ]; do [ -n "$l" ] || continue; ' +
                    'l="${l//\\$\\{pwd\\}/$PWD}"; l="${l//\\$\\{out_dir\\}/$OUT_DIR}"; ' +
                    'export "$l"; done < "%s"; ') % info.rustc_env.path
        args.add("@" + info.flags.path)
    outputs = [out]
    command = exports + 'exec rustc "$@"'
    rustc_output = None
    if ctx.attr._rustc_output_diagnostics[SettingInfo].value:
        # As rules_rust's process wrapper: rustc's diagnostics also go to a file of their own
        # (the rustc_output output group), so a cached build still has them.
        rustc_output = ctx.actions.declare_file(ctx.label.name + ".rustc-output")
        outputs.append(rustc_output)
        command = (exports + 'rustc "$@" 2>"%s"; s=$?; cat "%s" >&2; exit $s' %
                   (rustc_output.path, rustc_output.path))
    ctx.actions.run_shell(
        command = command,
        arguments = [args],
        inputs = depset(
            srcs + [f for info in build_infos for f in [info.out_dir, info.rustc_env, info.flags]],
            transitive = [dep_outs],
        ),
        outputs = outputs,
        use_default_shell_env = True,
        mnemonic = "Rustc",
        progress_message = "Compiling Rust crate %s" % ctx.label,
    )
    return name, out, dep_outs, rustc_output

def _output_groups(rustc_output):
    return OutputGroupInfo(rustc_output = depset([rustc_output] if rustc_output else []))

def _library_impl(ctx, crate_type):
    deps = ctx.attr.deps + ctx.attr.proc_macro_deps
    root = _crate_root(ctx, "lib.rs")
    name, out, dep_outs, rustc_output = _compile(
        ctx,
        crate_type,
        root,
        ctx.files.srcs,
        deps,
        _aliases(ctx),
    )
    return [
        DefaultInfo(files = depset([out])),
        _output_groups(rustc_output),
        RustCrate(name = name, out = out, transitive_outs = depset([out], transitive = [dep_outs])),
        _LibSources(srcs = ctx.files.srcs, deps = deps, root = root, aliases = _aliases(ctx)),
    ]

def _rust_library_impl(ctx):
    return _library_impl(ctx, "rlib")

def _rust_proc_macro_impl(ctx):
    return _library_impl(ctx, "proc-macro")

def _rust_binary_impl(ctx):
    deps = ctx.attr.deps + ctx.attr.proc_macro_deps
    root = _crate_root(ctx, "main.rs")
    _, out, _, rustc_output = _compile(ctx, "bin", root, ctx.files.srcs, deps, _aliases(ctx))
    return [DefaultInfo(files = depset([out]), executable = out), _output_groups(rustc_output)]

def _rust_test_impl(ctx):
    srcs = ctx.files.srcs
    deps = ctx.attr.deps + ctx.attr.proc_macro_deps
    aliases = _aliases(ctx)
    if ctx.attr.crate:
        # rules_rust folds a test with crate = ... into its library: the library's root,
        # sources, deps and aliases, compiled with --test.
        lib = ctx.attr.crate[_LibSources]
        root = lib.root
        srcs = srcs + lib.srcs
        deps = deps + lib.deps
        aliases = dict(lib.aliases, **aliases)
    else:
        root = _crate_root(ctx, "lib.rs")
    _, out, _, rustc_output = _compile(ctx, "bin", root, srcs, deps, aliases, test = True)
    return [DefaultInfo(files = depset([out]), executable = out), _output_groups(rustc_output)]

_ATTRS = {
    "srcs": attr.label_list(allow_files = [".rs"]),
    "crate_root": attr.label(allow_single_file = [".rs"]),
    "crate_name": attr.string(),
    "edition": attr.string(),
    "deps": attr.label_list(providers = [[RustCrate], [BuildInfo]]),
    "proc_macro_deps": attr.label_list(providers = [RustCrate]),
    "aliases": attr.label_keyed_string_dict(),
    "crate_features": attr.string_list(),
    "rustc_flags": attr.string_list(),
    "rustc_env": attr.string_dict(),
    "_error_format": attr.label(default = "//rust/settings:error_format"),
    "_rustc_output_diagnostics": attr.label(default = "//rust/settings:rustc_output_diagnostics"),
}

rust_library = rule(implementation = _rust_library_impl, attrs = _ATTRS)
rust_proc_macro = rule(implementation = _rust_proc_macro_impl, attrs = _ATTRS)
rust_binary = rule(implementation = _rust_binary_impl, attrs = _ATTRS, executable = True)
rust_test = rule(
    implementation = _rust_test_impl,
    attrs = dict(_ATTRS, crate = attr.label(providers = [_LibSources])),
    test = True,
)

# What rules_rust's cargo_build_script_runner makes of the script's stdout (cargo's `cargo:` and
# `cargo::` directives), written to the files the rule declares; paths under the execroot are
# written with rules_rust's placeholders. $1.. of the action: awk's -v settings come first.
_SCRIPT_OUTPUT_AWK = """
function rep(s, a, b,   i, out) {
    out = ""
    while (a != "" && (i = index(s, a)) > 0) {
        out = out substr(s, 1, i - 1) b
        s = substr(s, i + length(a))
    }
    return out s
}
function val(line) { sub(/^cargo::?[a-z-]+=/, "", line); return line }
/^cargo::?rustc-cfg=/ { print "--cfg=" val($0) > flags; next }
/^cargo::?rustc-flags=/ { print val($0) > flags; next }
/^cargo::?rustc-env=/ { print rep(rep(val($0), od, "${out_dir}"), root, "${pwd}") > env; next }
/^cargo::?rustc-link-lib=/ { print "-l" val($0) > linkflags; next }
/^cargo::?rustc-link-search=/ { print "-L" rep(val($0), root, "${pwd}") > linksearch; next }
"""

def _cargo_build_script_impl(ctx):
    script = ctx.actions.declare_file(ctx.label.name + "_")
    out_dir = ctx.actions.declare_directory(ctx.label.name + ".out_dir")
    # rules_rust's names: each file beside the out_dir, from the same action.
    env_out = ctx.actions.declare_file(ctx.label.name + ".env")
    dep_env_out = ctx.actions.declare_file(ctx.label.name + ".depenv")
    flags_out = ctx.actions.declare_file(ctx.label.name + ".flags")
    link_flags = ctx.actions.declare_file(ctx.label.name + ".linkflags")
    link_search_paths = ctx.actions.declare_file(ctx.label.name + ".linksearchpaths")
    root = ctx.file.crate_root or ctx.files.srcs[0]
    args = ctx.actions.args()
    args.add(root)
    args.add("--crate-name", "build_script_" + ctx.label.name.replace("-", "_"))
    args.add("--crate-type", "bin")
    args.add("--edition", ctx.attr.edition or "2021")
    args.add("-o", script)
    for f in ctx.attr.crate_features:
        args.add("--cfg", 'feature="%s"' % f)
    ctx.actions.run_shell(
        command = 'exec rustc "$@"',
        arguments = [args],
        inputs = ctx.files.srcs,
        outputs = [script],
        use_default_shell_env = True,
        mnemonic = "Rustc",
        progress_message = "Compiling build script %s" % ctx.label,
    )

    # Run as cargo does: in the package's directory, OUT_DIR and the CARGO_* variables set
    # (exported by the shell, as use_default_shell_env makes Bazel ignore `env`).
    env = dict(ctx.attr.build_script_env)
    env["CARGO_PKG_NAME"] = ctx.attr.pkg_name or ctx.label.name
    env["CARGO_PKG_VERSION"] = ctx.attr.version or "0.0.0"
    for f in ctx.attr.crate_features:
        env["CARGO_FEATURE_" + f.upper().replace("-", "_")] = "1"
    exports = "".join([
        "export %s='%s'; " % (k, v.replace("'", "'\\''"))
        for k, v in env.items()
    ])
    files = [env_out, dep_env_out, flags_out, link_flags, link_search_paths]
    ctx.actions.run_shell(
        command = (exports + 'set -o pipefail; x="$PWD"; ' +
                   'export OUT_DIR="$x/%s" CARGO_MANIFEST_DIR="$x/%s"; ' +
                   "".join([': > "$x/%s"; ' % f.path for f in files]) +
                   '(cd "$CARGO_MANIFEST_DIR" && "$x/%s") | awk -v root="$x" -v od="$OUT_DIR" ' +
                   '-v flags="$x/%s" -v env="$x/%s" -v linkflags="$x/%s" -v linksearch="$x/%s" ' +
                   '"$1"') %
                  (out_dir.path, ctx.label.package, script.path, flags_out.path, env_out.path,
                   link_flags.path, link_search_paths.path),
        arguments = [_SCRIPT_OUTPUT_AWK],
        inputs = ctx.files.srcs + ctx.files.data,
        tools = [script],
        outputs = [out_dir] + files,
        use_default_shell_env = True,
        mnemonic = "CargoBuildScriptRun",
        progress_message = "Running Cargo build script %s" % ctx.label,
    )
    return [
        # As rules_rust's: the default output is the out_dir only; the files are in BuildInfo.
        DefaultInfo(files = depset([out_dir])),
        BuildInfo(out_dir = out_dir, rustc_env = env_out, flags = flags_out),
        OutputGroupInfo(out_dir = depset([out_dir])),
    ]

cargo_build_script = rule(
    implementation = _cargo_build_script_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".rs"]),
        "crate_root": attr.label(allow_single_file = [".rs"]),
        "edition": attr.string(),
        "crate_features": attr.string_list(),
        "build_script_env": attr.string_dict(),
        "data": attr.label_list(allow_files = True),
        "pkg_name": attr.string(),
        "version": attr.string(),
    },
)
