/* SPDX-License-Identifier: MIT */
/* The Buck2 fixture of the command tests: the stand-in buck2 and its repository (see
 * buck2-stand-in.h). */
#include "buck2-stand-in.h"

#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "testlib.h"

/*
 * `targets --json`: the project's targets.json (the fixture's unless a test changed it), and with
 * a file TARGETS_EXIT the exit status it holds, after printing the file TARGETS_STDERR on stderr
 * (older Buck2 exits non-zero with --keep-going's partial list). `build --keep-going
 * --build-report=FILE
 * --show-full-json-output T...`: per target a dylib under buck-out and a build report in Buck2's
 * format (results -> label -> configured -> configuration -> success/outputs/errors, paths
 * relative to project_root, each error's message_content a key of the report's `strings`,
 * `failures` empty), stdout {"T": "/abs/dylib"}; with a file FAIL in the project, every target
 * fails with rustc's error in its report entry and buck2 exits 3. A sub-target `T[out_dir]`
 * (reindeer's build-script run) writes gen.rs into a directory under buck-out, reported under the
 * unconfigured `T` with the outputs keyed by the sub-target's name, as Buck2's build report keys
 * them ("out_dir"; "DEFAULT" for the target itself); `T[rustc_flags]` writes the file
 * prelude/rust/tools/buildscript_run.py writes there (`--cfg=X` and `--env-set=NAME=value` lines,
 * `$(abspath REL)` for a path), its output under the same `T`; with a file FAIL_OUT_DIR it fails
 * instead, with the build script's panic as its error. A genrule (its `buck.type` in targets.json)
 * writes its `out` under buck-out, its DEFAULT output; with a file FAIL_GEN it fails; with a file
 * EMPTY_GEN it succeeds with no output, as a rule whose DefaultInfo lists none: Buck2's report then
 * has no "DEFAULT" key (a provider without outputs is left out). A genrule's named output
 * `T[foo.rs]` (its `outs` {"foo.rs": ["foo.rs"]}, prelude/genrule.bzl) writes each path under the
 * genrule's `out` directory, reported under `T` keyed "foo.rs" (no key when the list is empty);
 * with FAIL_GEN it fails under `T`, without outputs. Every argv is appended to argv.log beside the
 * script.
 */
static const char stand_in[] =
        "#!/usr/bin/env python3\n"
        "import json, os, sys\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        "with open(os.path.join(here, 'argv.log'), 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "argv = sys.argv[1:]\n"
        "root = os.getcwd()\n"
        "if 'targets' in argv:\n"
        "    sys.stdout.write(open(os.path.join(root, 'targets.json')).read())\n"
        "    if os.path.exists(os.path.join(root, 'TARGETS_EXIT')):\n"
        "        sys.stderr.write(open(os.path.join(root, 'TARGETS_STDERR')).read())\n"
        "        sys.exit(int(open(os.path.join(root, 'TARGETS_EXIT')).read()))\n"
        "    sys.exit(0)\n"
        "report = [a for a in argv if a.startswith('--build-report=')][0].split('=', 1)[1]\n"
        "targets = [a for a in argv[argv.index('build') + 1:] if not a.startswith('-')]\n"
        "fail = os.path.exists(os.path.join(root, 'FAIL'))\n"
        "bad = fail\n"
        "cfg = 'prelude//platforms:default#524f8da68ea2a374'\n"
        "FLAGS = ('--cfg=gen_fast\\n--cfg=gen_level=\"2\"\\n--env-set=GEN_GREETING=hi\\n'\n"
        "         '--env-set=GEN_DIR=$(abspath third-party/rust/vendor/gen)\\n-lfoo\\n')\n"
        "results, strings, shown = {}, {}, {}\n"
        "for i, t in enumerate(targets):\n"
        "    base, _, sub = t.partition('[')\n"
        "    pkg, name = base.split('//', 1)[1].split(':')\n"
        "    rule = [x for x in json.load(open(os.path.join(root, 'targets.json')))\n"
        "            if x.get('buck.package') == base.split(':')[0] and x.get('name') == name]\n"
        "    genrule = bool(rule) and rule[0]['buck.type'].endswith(':genrule')\n"
        "    gen_dir = 'buck-out/v2/gen/root/524f8da68ea2a374/' + pkg + '/__' + name + '__'\n"
        "    if sub:\n"
        "        key = sub.rstrip(']').replace('][', '|')\n"
        "        failing = 'FAIL_GEN' if genrule else 'FAIL_OUT_DIR'\n"
        "        if os.path.exists(os.path.join(root, failing)):\n"
        "            msg = 'Action failed: ' + base + ' (' + cfg + ') '\n"
        "            msg += ('(genrule)\\nexit 1' if genrule else\n"
        "                    \"(buildscript)\\nthread 'main' panicked at build.rs:2:5\")\n"
        "            k = str(1469598103934665603 + 100 + i)\n"
        "            strings[k] = msg\n"
        "            err = {'message_content': k, 'action_error': None, 'cause_index': i}\n"
        "            entry = {'success': 'FAIL', 'outputs': {}, 'other_outputs': {},\n"
        "                     'configured_graph_size': None, 'errors': [err]}\n"
        "            bad = True\n"
        "        elif genrule:\n"
        "            outs = (rule[0].get('outs') or {}).get(key, [])\n"
        "            rels = [gen_dir + '/out/' + f for f in outs]\n"
        "            for rel in rels:\n"
        "                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)\n"
        "                open(os.path.join(root, rel), 'w').write('pub const N: u32 = 5;\\n')\n"
        "            entry = {'success': 'SUCCESS', 'outputs': {key: rels} if rels else {},\n"
        "                     'other_outputs': {}, 'configured_graph_size': 2, 'errors': []}\n"
        "            if rels:\n"
        "                shown[t] = os.path.join(root, rels[0])\n"
        "        else:\n"
        "            rel = gen_dir + '/' + key.replace('|', '/')\n"
        "            if key == 'rustc_flags':\n"
        "                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)\n"
        "                open(os.path.join(root, rel), 'w').write(FLAGS)\n"
        "            else:\n"
        "                os.makedirs(os.path.join(root, rel), exist_ok=True)\n"
        "                open(os.path.join(root, rel, 'gen.rs'), 'w').write('pub const N: u32 = 7;\\n')\n"
        "            entry = {'success': 'SUCCESS', 'outputs': {key: [rel]},\n"
        "                     'other_outputs': {}, 'configured_graph_size': 3, 'errors': []}\n"
        "            shown[t] = os.path.join(root, rel)\n"
        "        old = results.get(base, {}).get('configured', {}).get(cfg)\n"
        "        if old and old['success'] == 'SUCCESS' and entry['success'] == 'SUCCESS':\n"
        "            old['outputs'].update(entry['outputs'])\n"
        "        elif not old or entry['success'] != 'SUCCESS':\n"
        "            results[base] = {'configured': {cfg: entry}, 'errors': []}\n"
        "        continue\n"
        "    if genrule and os.path.exists(os.path.join(root, 'FAIL_GEN')):\n"
        "        key = str(1469598103934665603 + 200 + i)\n"
        "        strings[key] = 'Action failed: ' + t + ' (' + cfg + ') (genrule)\\nexit 1'\n"
        "        err = {'message_content': key, 'action_error': None, 'cause_index': i}\n"
        "        entry = {'success': 'FAIL', 'outputs': {}, 'other_outputs': {},\n"
        "                 'configured_graph_size': None, 'errors': [err]}\n"
        "        bad = True\n"
        "    elif genrule and os.path.exists(os.path.join(root, 'EMPTY_GEN')):\n"
        "        entry = {'success': 'SUCCESS', 'outputs': {}, 'other_outputs': {},\n"
        "                 'configured_graph_size': 2, 'errors': []}\n"
        "    elif genrule:\n"
        "        rel = ('buck-out/v2/gen/root/524f8da68ea2a374/' + pkg + '/__' + name +\n"
        "               '__/out/' + rule[0].get('out', name))\n"
        "        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)\n"
        "        open(os.path.join(root, rel), 'w').write('pub const N: u32 = 3;\\n')\n"
        "        entry = {'success': 'SUCCESS', 'outputs': {'DEFAULT': [rel]},\n"
        "                 'other_outputs': {}, 'configured_graph_size': 2, 'errors': []}\n"
        "        shown[t] = os.path.join(root, rel)\n"
        "    elif fail:\n"
        "        msg = ('Action failed: ' + t + ' (' + cfg + ') (rustc)\\n'\n"
        "               'error[E0308]: mismatched types\\n --> ' + pkg + '/src/lib.rs:3:5')\n"
        "        key = str(1469598103934665603 + i)\n"
        "        strings[key] = msg\n"
        "        err = {'message_content': key, 'action_error': None, 'cause_index': i}\n"
        "        entry = {'success': 'FAIL', 'outputs': {}, 'other_outputs': {},\n"
        "                 'configured_graph_size': None, 'errors': [err]}\n"
        "    else:\n"
        "        rel = ('buck-out/v2/gen/root/524f8da68ea2a374/' + pkg + '/__' + name +\n"
        "               '__/lib' + name + '-proc-macro.so')\n"
        "        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)\n"
        "        open(os.path.join(root, rel), 'w').write('" CLI_B2_DYLIB_BYTES "\\n')\n"
        "        entry = {'success': 'SUCCESS', 'outputs': {'DEFAULT': [rel]},\n"
        "                 'other_outputs': {}, 'configured_graph_size': 42, 'errors': []}\n"
        "        shown[t] = os.path.join(root, rel)\n"
        "    results[t] = {'configured': {cfg: entry}, 'errors': []}\n"
        "doc = {'trace_id': '3e8e8c70-1d2c-4c3a-9e1e-0b2f6f3c1a11', 'success': not bad,\n"
        "       'results': results, 'failures': {}, 'project_root': root,\n"
        "       'truncated': False, 'strings': strings}\n"
        "open(report, 'w').write(json.dumps(doc))\n"
        "print(json.dumps(shown))\n"
        "sys.exit(3 if bad else 0)\n";

char *
cli_b2_make_repo(const struct cli_fx *fx, const char *extra)
{
        char *repo = pm_test_strf("%s/b2", fx->tmp),
             *src = pm_test_strf("%s/tests/buck2/fixtures/repo", pm_test_source_root());
        char *fake = pm_test_strf("%s/fake-buck2", fx->tmp);
        char *conf = pm_test_strf("%s/.projmodel.json", repo), *text;

        cr_assert_eq(pm_test_copy_tree(src, repo), 0);
        cr_assert_eq(pm_test_write_file(fake, stand_in), 0);
        cr_assert_eq(chmod(fake, 0755), 0);
        text = pm_test_strf("{\"build_system\": \"buck2\", \"buck2\": {\"command\": [\"%s\"]%s}}\n",
                            fake, extra);
        cr_assert_eq(pm_test_write_file(conf, text), 0);
        pm_free(text);
        pm_free(conf);
        pm_free(fake);
        pm_free(src);
        return repo;
}

cJSON *
cli_b2_export_ok(const struct cli_fx *fx, const char *repo)
{
        const char *args[] = { "export", "--root", repo, NULL };
        struct cli_run r;
        cJSON *p;

        cli_fx_run(fx, repo, NULL, args, &r);
        cr_assert_eq(r.status, 0, "export: %s", r.err);
        p = cJSON_Parse(r.out);
        cr_assert(p, "%s", r.out);
        cli_run_release(&r);
        return p;
}

const cJSON *
cli_b2_crate_of(const cJSON *p, const char *repo, const char *rel)
{
        char *want = pm_test_strf("%s/%s", repo, rel);
        const cJSON *c;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(p, "crates"))
        {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "root_module");

                if (cJSON_IsString(m) && strcmp(m->valuestring, want) == 0) {
                        pm_free(want);
                        return c;
                }
        }
        cr_assert_fail("no crate with root_module %s", want);
        return NULL;
}

char *
cli_b2_read_log(const struct cli_fx *fx)
{
        char *log = pm_test_strf("%s/argv.log", fx->tmp), *text = pm_test_read_file(log);

        cr_assert(text, "%s not written", log);
        pm_free(log);
        return text;
}

void
cli_b2_assert_no_report_left(const struct cli_fx *fx)
{
        char *dir = pm_test_strf("%s/projmodel", fx->cache);
        char *left = pm_test_find_prefix(dir, "buck2-build-report-");

        cr_assert_null(left, "%s/%s left behind", dir, left);
        pm_free(dir);
}
