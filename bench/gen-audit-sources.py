#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Give a workspace made by gen-gn-monorepo.py Rust sources of realistic sizes, for the audit
benchmark (bench/bench-audit.sh).

usage: gen-audit-sources.py WORKSPACE [--seed S] [--kb-per-crate K]

Each crate's root gets `mod` declarations for a module tree written next to it: files of 4 to
64 KB, some in directories with a mod.rs, some two levels down. The bytes per crate follow a
log-normal distribution with mean K KB (default 100) and a long tail (sigma 1.2, capped at 40
times the mean): most crates are a few tens of KB, a few are megabytes. The code is built from
templates in the style of real crates, with what makes lexing Rust hard (doc and nested block
comments, raw strings of several depths, byte strings, char literals next to lifetimes, the word
`unsafe` in comments and strings, UnsafeCell) and the sites the audit counts at realistic rates:
unsafe blocks, unsafe fn and impl, extern blocks, #[no_mangle], macro_rules! bodies, and
#[cfg(test)] modules. Third-party crates (third_party/rust/) hold more unsafe than first-party
ones. The modules are never compiled (GN only lists crate roots): the audit reads them as
rustc would find them. Output is deterministic for a seed; prints the totals.
"""
import argparse
import math
import os
import random
import sys

# Each template is formatted with n (a number unique in its file) and k (a small varying int).
PLAIN = [
    '''/// Returns the checksum of `data` for record {n}.
///
/// Not `unsafe`: this walks the slice with safe indexing only. See also
/// [`Record{n}::verify`], which compares against the stored value.
pub fn checksum_{n}(data: &[u8]) -> u32 {{
    let mut acc: u32 = 0x811c_9dc5;
    for (i, b) in data.iter().enumerate() {{
        acc ^= u32::from(*b).rotate_left((i % {k}) as u32);
        acc = acc.wrapping_mul(0x0100_0193);
    }}
    acc
}}

''',
    '''#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Record{n}<'a> {{
    pub name: &'a str,
    pub tag: char,
    pub values: Vec<u64>,
    /* A cache would need an UnsafeCell here; /* nested: unsafe {{ }} */ we keep it simple. */
    pub cached: Option<u32>,
}}

impl<'a> Record{n}<'a> {{
    pub fn new(name: &'a str) -> Self {{
        Record{n} {{ name, tag: 'x', values: Vec::with_capacity({k}), cached: None }}
    }}

    pub fn verify(&self, sum: u32) -> bool {{
        let quote = '\\'';
        let _label: &'static str = "unsafe is only a word in this string";
        self.cached.map_or(true, |c| c == sum) && self.tag != quote
    }}

    pub fn push(&mut self, v: u64) -> &mut Self {{
        self.values.push(v.wrapping_mul({k}) ^ 0x5555_5555_5555_5555);
        self
    }}
}}

''',
    '''const HELP_{n}: &str = r#"usage: tool{n} [--unsafe] FILE
  "quoted" options and an unsafe {{ block }} in a raw string are text, not code
"#;
const TABLE_{n}: &[u8] = b"\\x00\\x01\\x02\\x03 unsafe \\"bytes\\" \\\\";
const DEEP_{n}: &str = r##"a raw string holding "# and "#unsafe{{}}"##;

pub fn help_{n}(verbose: bool) -> String {{
    let mut s = String::from(HELP_{n});
    if verbose {{
        s.push_str(&format!("{{}} bytes of table, {{:?}}\\n", TABLE_{n}.len(), DEEP_{n}));
    }}
    s
}}

''',
    '''pub enum Event{n} {{
    Start {{ id: u64, at: f64 }},
    Data(Vec<u8>),
    Stop,
}}

pub fn describe_{n}(e: &Event{n}) -> String {{
    match e {{
        Event{n}::Start {{ id, at }} => format!("start {{}} at {{:.3}}", id, at * 1.5e3f64),
        Event{n}::Data(d) if d.len() > {k} => format!("{{}} bytes (long)", d.len()),
        Event{n}::Data(d) => format!("{{}} bytes", d.len()),
        Event{n}::Stop => "stop".to_owned(),
    }}
}}

''',
    '''pub trait Visit{n} {{
    fn visit(&mut self, depth: usize) -> Result<(), String>;
    fn name(&self) -> &str {{
        "visitor"
    }}
}}

impl<T: AsRef<[u8]>> Visit{n} for Vec<T> {{
    fn visit(&mut self, depth: usize) -> Result<(), String> {{
        if depth > {k} + 64 {{
            return Err(format!("too deep: {{}}", depth));
        }}
        let total: usize = self.iter().map(|x| x.as_ref().len()).sum();
        let _ = 'outer: loop {{
            break 'outer total;
        }};
        Ok(())
    }}
}}

''',
    '''// Parsing helpers. The old version used `unsafe {{ from_utf8_unchecked }}`; this one
// validates instead.
fn parse_line_{n}(line: &str) -> Option<(&str, i64)> {{
    let (key, value) = line.split_once('=')?;
    let value = value.trim().parse::<i64>().ok()?;
    Some((key.trim(), value + {k}))
}}

pub fn parse_all_{n}(text: &str) -> Vec<(&str, i64)> {{
    text.lines().filter(|l| !l.starts_with('#')).filter_map(parse_line_{n}).collect()
}}

''',
]

UNSAFE = [
    '''/// Reads a little-endian u32 at `at` without bounds checks.
///
/// # Safety
/// `at + 4 <= data.len()` must hold.
#[inline]
pub unsafe fn read_u32_{n}(data: &[u8], at: usize) -> u32 {{
    let p = data.as_ptr().add(at) as *const u32;
    p.read_unaligned().to_le()
}}

pub fn first_word_{n}(data: &[u8]) -> Option<u32> {{
    if data.len() < 4 {{
        return None;
    }}
    // SAFETY: the length was checked above.
    Some(unsafe {{ read_u32_{n}(data, 0) }})
}}

''',
    '''pub struct Handle{n}(*mut u8);

// SAFETY: the pointer is owned and only touched through &mut self.
unsafe impl Send for Handle{n} {{}}

impl Handle{n} {{
    pub fn zeroed(len: usize) -> Vec<u8> {{
        let mut v = Vec::with_capacity(len);
        unsafe {{
            std::ptr::write_bytes(v.as_mut_ptr(), 0, len);
            v.set_len(len);
        }}
        v
    }}
}}

''',
    '''extern "C" {{
    fn strlen(s: *const std::os::raw::c_char) -> usize;
    fn abs(x: i32) -> i32;
}}

#[no_mangle]
pub extern "C" fn tool{n}_version() -> u32 {{
    {k}
}}

pub fn c_len_{n}(s: &std::ffi::CStr) -> usize {{
    unsafe {{ strlen(s.as_ptr()) }}
}}

''',
    '''macro_rules! impl_raw_{n} {{
    ($t:ty) => {{
        impl RawBytes{n} for $t {{
            fn raw(&self) -> &[u8] {{
                unsafe {{
                    std::slice::from_raw_parts(self as *const $t as *const u8,
                                               std::mem::size_of::<$t>())
                }}
            }}
        }}
    }};
}}

pub trait RawBytes{n} {{
    fn raw(&self) -> &[u8];
}}

impl_raw_{n}!(u32);
impl_raw_{n}!(u64);

''',
]

TESTS = '''#[cfg(test)]
mod tests_{n} {{
    use super::*;

    #[test]
    fn round_trip_{n}() {{
        let v: Vec<u8> = (0..{k}u8).collect();
        assert_eq!(v.len(), {k});
        let s = unsafe {{ std::str::from_utf8_unchecked(b"ok") }};
        assert_eq!(s, "ok");
    }}
}}
'''


def lognormal_kb(rng, mean, sigma=1.2):
    # Mean of a log-normal is exp(mu + sigma^2 / 2).
    mu = math.log(mean) - sigma * sigma / 2
    return min(rng.lognormvariate(mu, sigma), mean * 40)


def module_text(rng, target, third_party, n0):
    """About @target bytes of module source; returns (text, n used)."""
    parts = ["//! Generated module (bench/gen-audit-sources.py).\n#![allow(dead_code)]\n\n"
             "use std::collections::HashMap;\n\n"]
    size = len(parts[0])
    n = n0
    p_unsafe = 0.08 if third_party else 0.015
    while size < target:
        if rng.random() < p_unsafe:
            t = rng.choice(UNSAFE)
        else:
            t = PLAIN[rng.randrange(len(PLAIN))]
        s = t.format(n=n, k=rng.randrange(1, 30))
        parts.append(s)
        size += len(s)
        n += 1
    if rng.random() < 0.3:
        s = TESTS.format(n=n, k=rng.randrange(1, 30))
        parts.append(s)
        size += len(s)
        n += 1
    return "".join(parts), n, size


def crate_dirs(ws):
    """(crate directory, root file) for every generated crate, in a stable order."""
    out = []
    for top in ("third_party/rust", "facade", "base", "crates"):
        base = os.path.join(ws, top)
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            if "BUILD.gn" in filenames:
                for root in ("src/lib.rs", "src/main.rs"):
                    if os.path.exists(os.path.join(dirpath, root)):
                        out.append((dirpath, root))
                        break
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workspace")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kb-per-crate", type=float, default=100.0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    crates = crate_dirs(a.workspace)
    if not crates:
        sys.exit("gen-audit-sources: no generated crate under '%s'" % a.workspace)
    total = files = 0
    sizes = []
    for cdir, root in crates:
        root_path = os.path.join(cdir, root)
        with open(root_path, encoding="utf-8") as f:
            text = f.read()
        if "// audit sources:" in text:
            sys.exit("gen-audit-sources: '%s' already has generated modules" % root_path)
        if "proc_macro" in text:
            sizes.append(os.path.getsize(root_path))
            total += sizes[-1]
            files += 1
            continue  # proc macros keep their one small file
        third_party = "/third_party/rust/" in cdir + "/"
        budget = lognormal_kb(rng, a.kb_per_crate) * 1024
        src = os.path.join(cdir, "src")
        decls = ["\n// audit sources: modules generated by bench/gen-audit-sources.py\n"]
        n = 0
        crate_bytes = len(text)
        m = 0
        while crate_bytes < budget:
            target = min(budget - crate_bytes, rng.uniform(4, 64) * 1024)
            body, n, size = module_text(rng, target, third_party, n)
            shape = rng.random()
            if shape < 0.7:
                path = os.path.join(src, "m%d.rs" % m)
            elif shape < 0.9:
                path = os.path.join(src, "m%d" % m, "mod.rs")
            else:
                # m<k>/mod.rs declares a child in m<k>/inner.rs.
                path = os.path.join(src, "m%d" % m, "inner.rs")
                parent = os.path.join(src, "m%d" % m, "mod.rs")
                os.makedirs(os.path.dirname(parent), exist_ok=True)
                with open(parent, "w", encoding="utf-8") as f:
                    f.write("//! Parent of a nested module.\npub mod inner;\n")
                crate_bytes += os.path.getsize(parent)
                files += 1
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(body)
            decls.append("#[allow(dead_code)]\nmod m%d;\n" % m)
            crate_bytes += size
            files += 1
            m += 1
        with open(root_path, "w", encoding="utf-8") as f:
            f.write(text + "".join(decls))
        crate_bytes += sum(len(d) for d in decls)
        files += 1
        total += crate_bytes
        sizes.append(crate_bytes)
    sizes.sort()

    def pct(p):
        return sizes[min(len(sizes) - 1, len(sizes) * p // 100)] // 1024

    print("gen-audit-sources: %d crates, %d files, %.1f MB of Rust; KB per crate p50 %d p90 %d "
          "p99 %d max %d" % (len(crates), files, total / 1e6, pct(50), pct(90), pct(99),
                             sizes[-1] // 1024))


if __name__ == "__main__":
    main()
