/* SPDX-License-Identifier: MIT */
/* The audit policy's import of cargo-vet audits.toml files (audit/policy.c, audit/toml.c): the
 * syntax cargo-vet writes (criteria with implies, audits with version, delta and violation,
 * trusted and wildcard-audits entries, multi-line strings and arrays) and what a file must not
 * be (each a PM_ECONFIG naming the file and the place), per docs/configuration.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "projmodel/audit.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "testlib.h"

/* Real cargo-vet output (header comment, criteria tables, notes in multi-line strings that
 * look like TOML themselves), and the forms aggregated files add (aggregated-from, quoted
 * names, bare dates, inline comments). */
static const char VET[] = "# cargo-vet audits file\n"
                          "\n"
                          "[criteria.crypto-safe]\n"
                          "description-url = \"https://example.com/crypto.md\"\n"
                          "implies = [\"safe-to-deploy\"]\n"
                          "\n"
                          "[criteria.ub-risk-2]\n"
                          "description = \"\"\"\n"
                          "A multi-line description with a line that reads like a key:\n"
                          "criteria = \"safe-to-deploy\"\n"
                          "\"\"\"\n"
                          "implies = \"ub-risk-3\"\n"
                          "\n"
                          "[criteria.ub-risk-3]\n"
                          "description = 'literal \\ string'\n"
                          "\n"
                          "[[wildcard-audits.serde]]\n"
                          "who = \"Person One <personone@example.com>\"\n"
                          "criteria = \"safe-to-deploy\"\n"
                          "user-id = 3618 # David Tolnay (dtolnay)\n"
                          "start = \"2022-01-01\"\n"
                          "end = \"2024-07-01\"\n"
                          "renew = false\n"
                          "\n"
                          "[[trusted.libc]]\n"
                          "criteria = \"safe-to-deploy\"\n"
                          "user-id = 2915\n"
                          "start = 2019-03-04\n"
                          "end = 2025-01-01T00:00:00Z\n"
                          "\n"
                          "[[audits.memchr]]\n"
                          "who = \"A <a@example.com>\"\n"
                          "criteria = [\"safe-to-deploy\", \"ub-risk-2\"]\n"
                          "version = \"2.5.0\"\n"
                          "notes = \"\"\"\n"
                          "Notes may say anything, even\n"
                          "[[audits.notes_are_not_tables]]\n"
                          "criteria = \"safe-to-deploy\"\n"
                          "\"\"\"\n"
                          "\n"
                          "[[audits.memchr]]\n"
                          "who = [\"A <a@example.com>\", \"B <b@example.com>\"]\n"
                          "criteria = [\n"
                          "    \"safe-to-deploy\", # the deploy bar\n"
                          "    \"ub-risk-2\",\n"
                          "]\n"
                          "delta = \"2.5.0 -> 2.6.0\"\n"
                          "\n"
                          "[[audits.memchr]]\n"
                          "criteria = \"safe-to-run\"\n"
                          "delta = \"2.6.0 -> 2.7.0\"\n"
                          "\n"
                          "[[audits.smallvec]]\n"
                          "criteria = \"safe-to-deploy\"\n"
                          "version = \"1.10.0\"\n"
                          "\n"
                          "[[audits.smallvec]]\n"
                          "criteria = \"safe-to-deploy\"\n"
                          "version = \"1.5.0\"\n"
                          "\n"
                          "[[audits.smallvec]]\n"
                          "criteria = \"safe-to-run\"\n"
                          "violation = \">=1.0.0, <1.6.1\"\n"
                          "notes = 'CVE in from_elem'\n"
                          "\n"
                          "[[audits.ring]]\n"
                          "criteria = \"crypto-safe\"\n"
                          "version = \"0.17.0\"\n"
                          "aggregated-from = \"https://example.com/supply-chain/audits.toml\"\n"
                          "\n"
                          "[[audits.\"quoted-name\"]]\n"
                          "criteria = 'safe-to-run'\n"
                          "version = \"0.1.0\"\n";

/* Load the policy of a root holding @tomls[0..@n) as audits0.toml, audits1.toml, ... and requiring
 * @criteria. On success returns 0 and *@ret; on failure the error in @err. */
static int
load_files(const char *const *tomls, size_t n, const char *criteria, struct pm_audit_policy **ret,
           struct pm_error *err)
{
        char *dir = pm_test_mkdtemp(), *cfgp = pm_test_strf("%s/.projmodel.json", dir);
        struct pm_strbuf json = PM_STRBUF_INIT;
        struct pm_config *cfg = NULL;
        int r;

        cr_assert_eq(pm_strbuf_addf(&json,
                                    "{\"build_system\": \"cargo\", \"audit\": {\"criteria\": "
                                    "\"%s\", \"cargo_vet_audits\": [",
                                    criteria),
                     0);
        for (size_t i = 0; i < n; i++) {
                char *vet = pm_test_strf("%s/audits%zu.toml", dir, i);

                cr_assert_eq(pm_test_write_file(vet, tomls[i]), 0);
                cr_assert_eq(pm_strbuf_addf(&json, "%s\"audits%zu.toml\"", i ? ", " : "", i), 0);
                pm_free(vet);
        }
        cr_assert_eq(pm_strbuf_adds(&json, "]}}\n"), 0);
        cr_assert_eq(pm_test_write_file(cfgp, json.buf), 0);
        pm_error_init(err);
        cr_assert_eq(pm_config_load(dir, &cfg, err), 0, "%s", err->msg);
        r = pm_audit_policy_load(cfg, ret, err);
        pm_config_free(cfg);
        pm_test_rmtree(dir);
        pm_strbuf_release(&json);
        pm_free(cfgp);
        pm_free(dir);
        return r;
}

static int
load(const char *toml, const char *criteria, struct pm_audit_policy **ret, struct pm_error *err)
{
        return load_files(&toml, 1, criteria, ret, err);
}

static struct pm_audit_policy *
load_ok(const char *toml, const char *criteria)
{
        struct pm_audit_policy *p = NULL;
        struct pm_error err;

        cr_assert_eq(load(toml, criteria, &p, &err), 0, "%s:%d: %s", err.file, err.line, err.msg);
        return p;
}

Test(audit_vet, versions_deltas_and_violations_as_cargo_vet_reads_them)
{
        struct pm_audit_policy *p = load_ok(VET, "safe-to-deploy");

        /* A full audit, a delta from it, and not a delta that is only safe-to-run. */
        cr_expect(pm_audit_policy_audited(p, "memchr", "2.5.0"));
        cr_expect(pm_audit_policy_audited(p, "memchr", "2.6.0"));
        cr_expect_not(pm_audit_policy_audited(p, "memchr", "2.7.0"));
        cr_expect_not(pm_audit_policy_audited(p, "memchr", "2.4.0"));
        /* Without a version in the model any audit counts. */
        cr_expect(pm_audit_policy_audited(p, "memchr", NULL));
        /* Notes are text, not entries. */
        cr_expect_not(pm_audit_policy_audited(p, "notes_are_not_tables", NULL));
        /* Trusted publishers and wildcard audits cover every version (the model has no
         * publisher to compare). */
        cr_expect(pm_audit_policy_audited(p, "serde", "1.0.200"));
        cr_expect(pm_audit_policy_audited(p, "libc", NULL));
        /* A violation of safe-to-run (which safe-to-deploy implies) wins over the full audit
         * of 1.5.0; 1.10.0 is outside its range; an unknown version may be in it. */
        cr_expect_not(pm_audit_policy_audited(p, "smallvec", "1.5.0"));
        cr_expect(pm_audit_policy_audited(p, "smallvec", "1.10.0"));
        cr_expect_not(pm_audit_policy_audited(p, "smallvec", NULL));
        /* A custom criterion implying safe-to-deploy. */
        cr_expect(pm_audit_policy_audited(p, "ring", "0.17.0"));
        cr_expect_not(pm_audit_policy_audited(p, "quoted-name", "0.1.0"));
        pm_audit_policy_free(p);

        p = load_ok(VET, "safe-to-run");
        cr_expect(pm_audit_policy_audited(p, "memchr", "2.7.0"));
        cr_expect(pm_audit_policy_audited(p, "quoted-name", "0.1.0"));
        cr_expect_not(pm_audit_policy_audited(p, "smallvec", "1.5.0"));
        cr_expect(pm_audit_policy_audited(p, "ring", "0.17.0"));
        pm_audit_policy_free(p);

        /* ub-risk-2 implies ub-risk-3; a safe-to-deploy audit is not a ub-risk audit. */
        p = load_ok(VET, "ub-risk-3");
        cr_expect(pm_audit_policy_audited(p, "memchr", "2.6.0"));
        cr_expect_not(pm_audit_policy_audited(p, "smallvec", "1.10.0"));
        pm_audit_policy_free(p);
}

Test(audit_vet, an_empty_file_and_empty_tables_are_no_audits)
{
        struct pm_audit_policy *p = load_ok("", "safe-to-deploy");

        cr_expect_not(pm_audit_policy_audited(p, "memchr", NULL));
        pm_audit_policy_free(p);
        /* cargo vet init writes the bare tables. */
        p = load_ok("\xef\xbb\xbf# cargo-vet audits file\r\n\r\n[criteria]\r\n\r\n[audits]\r\n",
                    "safe-to-deploy");
        cr_expect_not(pm_audit_policy_audited(p, "memchr", NULL));
        pm_audit_policy_free(p);
}

/* Loading @toml fails with PM_ECONFIG naming the file and @line, with @want in the message. */
static void
refused(const char *toml, int line, const char *want)
{
        struct pm_audit_policy *p = NULL;
        struct pm_error err;

        cr_assert_eq(load(toml, "safe-to-deploy", &p, &err), PM_ECONFIG, "accepted:\n%s", toml);
        cr_expect_not_null(strstr(err.msg, want), "'%s' not in '%s'", want, err.msg);
        cr_expect_not_null(strstr(err.file, "audits0.toml"), "%s | %s", err.file, err.msg);
        cr_expect_eq(err.line, line, "line %d, not %d: %s", err.line, line, err.msg);
}

Test(audit_vet, what_is_not_an_audits_toml_is_an_error_naming_the_place)
{
        /* TOML it cannot read, at its line. */
        refused("[[audits.x]\ncriteria = \"safe-to-run\"\n", 1, "expected ']]'");
        refused("\n[[audits.x]]\ncriteria = \"safe-to-run\nversion = \"1.0.0\"\n", 3,
                "newline in a one-line string");
        refused("[[audits.x]]\nnotes = \"\"\"\nnever closed\n", 4, "unterminated string");
        refused("[[audits.x]]\ncriteria = \"safe-to-run\"\ncriteria = \"safe-to-run\"\n", 3,
                "a key defined twice");
        refused("[[audits.x]]\ncriteria = [\"safe-to-run\" \"safe-to-deploy\"]\n", 2,
                "expected ',' or ']'");
        refused("[[audits.x]]\ncriteria = \"safe-to-run\" version = \"1\"\n", 2,
                "text after a value");
        refused("[[audits.x]]\nversion = \n", 2, "expected a value");
        /* TOML that is not what cargo-vet writes, naming the entry and the line of its key (of
         * its header for a missing key, or a number, whose cJSON item holds no line). */
        refused("[[audits.x]]\nversion = \"1.0.0\"\n", 1, "[[audits.x]] entry 1 has no 'criteria'");
        refused("[[audits.x]]\ncriteria = \"safe-to-run\"\nversion = \"1.0.0\"\n"
                "[[audits.x]]\ncriteria = \"safe-to-run\"\nversion = \"1.0.0\"\n"
                "delta = \"1.0.0 -> 1.1.0\"\n",
                4, "[[audits.x]] entry 2 needs exactly one of 'version', 'delta' and 'violation'");
        refused("[[audits.x]]\ncriteria = \"safe-to-run\"\nwho = \"me\"\n", 1,
                "needs exactly one of");
        refused("[[audits.x]]\ncriteria = \"safe-to-run\"\ndelta = \"1.0.0 to 1.1.0\"\n", 3,
                "[[audits.x]] entry 1: delta '1.0.0 to 1.1.0' is not 'VERSION -> VERSION'");
        refused("[[audits.x]]\ncriteria = 3\nversion = \"1.0.0\"\n", 1,
                "'criteria' must be a criterion name or an array of them");
        refused("[[audits.x]]\ncriteria = [\n  \"safe-to-run\",\n  4,\n]\nversion = \"1.0.0\"\n", 2,
                "'criteria' must be a criterion name or an array of them");
        refused("[[audits.x]]\nversion = \"1.0.0\"\n\ncriteria = \"ub-risk-9\"\n", 4,
                "criterion 'ub-risk-9' is neither safe-to-run, safe-to-deploy nor a "
                "[criteria.ub-risk-9]");
        refused("[[audits.x]]\ncriteria = \"safe-to-run\"\nversion = 1\n", 1,
                "[[audits.x]] entry 1: 'version' must be a string");
        refused("# c\n[criteria.a]\ndescription = \"x\"\nimplies = \"b\"\n", 2,
                "[criteria.a] implies 'b', which is not defined");
        refused("\n[criteria.a]\ndescription = 1\n", 2,
                "[criteria.a]: 'description' and 'description-url' must be strings");
        refused("[criteria.safe-to-run]\ndescription = \"x\"\n", 1, "redefines a built-in");
        refused("\n\n[audits.x]\ncriteria = \"safe-to-run\"\nversion = \"1.0.0\"\n", 3,
                "'audits.x' must be an array of tables ([[audits.x]])");
        refused("[criteria]\n\n[policy.foo]\naudit-as-crates-io = true\n", 3,
                "this looks like cargo-vet's config.toml");
        refused("[[exemptions.x]]\nversion = \"1.0.0\"\ncriteria = \"safe-to-run\"\n", 1,
                "'exemptions' is not a table of an audits.toml");
        refused("audits = \"x\"\n", 1, "'audits' must be a table");
}

/* Criteria that imply each other twice over, in a cycle and in 40 layers of diamonds: the walk
 * visits each criterion once (it took 2^40 steps when it followed every path). */
Test(audit_vet, implies_cycles_and_diamonds_are_walked_once, .timeout = 30)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_audit_policy *p;

        cr_assert_eq(pm_strbuf_adds(&sb, "[criteria.a]\ndescription = \"x\"\n"
                                         "implies = [\"a\", \"a\"]\n"),
                     0);
        for (int i = 0; i < 40; i++)
                for (int k = 0; k < 2; k++)
                        cr_assert_eq(pm_strbuf_addf(&sb,
                                                    "[criteria.l%d-%d]\ndescription = \"x\"\n"
                                                    "implies = [\"l%d-0\", \"l%d-1\"]\n",
                                                    i, k, i + 1, i + 1),
                                     0);
        cr_assert_eq(pm_strbuf_adds(&sb, "[criteria.l40-0]\ndescription = \"x\"\n"
                                         "[criteria.l40-1]\ndescription = \"x\"\n"
                                         "[[audits.x]]\ncriteria = \"a\"\nversion = \"1.0.0\"\n"
                                         "[[audits.y]]\ncriteria = \"l0-0\"\nversion = \"1.0.0\"\n"
                                         "[[audits.z]]\ncriteria = \"l0-1\"\n"
                                         "violation = \"=2.0.0\"\n"),
                     0);
        p = load_ok(sb.buf, "safe-to-deploy");
        cr_expect_not(pm_audit_policy_audited(p, "x", "1.0.0"));
        cr_expect_not(pm_audit_policy_audited(p, "y", "1.0.0"));
        pm_audit_policy_free(p);
        /* The last layer is reached through every diamond. */
        p = load_ok(sb.buf, "l40-1");
        cr_expect(pm_audit_policy_audited(p, "y", "1.0.0"));
        cr_expect_not(pm_audit_policy_audited(p, "x", "1.0.0"));
        pm_audit_policy_free(p);
        pm_strbuf_release(&sb);
}

/* A dotted key nests one table per part, which cJSON frees recursively: at most 64. */
Test(audit_vet, a_dotted_key_of_more_than_64_parts_is_an_error)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;

        cr_assert_eq(pm_strbuf_adds(&sb, "[[audits.x]]\ncriteria = \"safe-to-run\"\n"
                                         "version = \"1.0.0\"\nnotes"),
                     0);
        for (int i = 0; i < 64; i++)
                cr_assert_eq(pm_strbuf_adds(&sb, ".n"), 0);
        cr_assert_eq(pm_strbuf_adds(&sb, " = 1\n"), 0);
        refused(sb.buf, 4, "a dotted key of more than 64 parts");
        pm_strbuf_release(&sb);
}

/* A violation is a Cargo version requirement; one that does not parse would match no version,
 * so the crate passed as audited: it is an error naming the file, the entry and the text. */
Test(audit_vet, a_violation_that_is_not_a_version_requirement_is_an_error)
{
        static const char *const good[] = { "*",
                                            "1.*",
                                            "^1.2",
                                            "~1",
                                            "=1.2.3",
                                            "<= 2.0",
                                            ">=1.0.0, <1.6.1",
                                            "1.2.3-beta.1",
                                            "0.3.*",
                                            "1.0.0+b1" };
        static const char *const garbage[] = { "garbage", "",      "1.",     ">= x", "1.2.3.4",
                                               ">=1.0,",  "=>1.0", "1.2.3-", "1.x.2" };

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                char *toml = pm_test_strf("[[audits.x]]\ncriteria = \"safe-to-run\"\n"
                                          "violation = \"%s\"\n",
                                          good[i]);

                pm_audit_policy_free(load_ok(toml, "safe-to-deploy"));
                pm_free(toml);
        }
        for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
                char *toml = pm_test_strf("[[audits.x]]\ncriteria = \"safe-to-deploy\"\n"
                                          "version = \"1.0.0\"\n[[audits.x]]\n"
                                          "criteria = \"safe-to-run\"\nviolation = \"%s\"\n",
                                          garbage[i]);
                char *want = pm_test_strf("[[audits.x]] entry 2: violation '%s' is not a Cargo "
                                          "version requirement",
                                          garbage[i]);

                /* An empty string is refused earlier, as every empty version is; both at the
                 * line of the key. */
                refused(toml, 6, garbage[i][0] ? want : "'violation' must be a string");
                pm_free(want);
                pm_free(toml);
        }
}

/* CPU seconds this process has used: the cost tests compare it, not the wall time, which a loaded
 * machine stretches many times over. */
static double
cpu_seconds(void)
{
        struct timespec ts;

        cr_assert_eq(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The error of a limit is the limit's, not a generic one laid over it. */
Test(audit_vet, too_many_criteria_says_so)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_audit_policy *p = NULL;
        struct pm_error err;

        for (int i = 0; i <= 100000; i++)
                cr_assert_eq(pm_strbuf_addf(&sb, "[criteria.c%d]\ndescription = \"x\"\n", i), 0);
        cr_assert_eq(load(sb.buf, "safe-to-deploy", &p, &err), PM_ELIMIT, "%s", err.msg);
        cr_expect_not_null(strstr(err.msg, "too many criteria (at most 100000)"), "%s", err.msg);
        cr_expect_not_null(strstr(err.file, "audits0.toml"), "%s", err.file);
        cr_expect_eq(err.line, 200001, "%d", err.line);
        pm_strbuf_release(&sb);
}

/* 99,999 crates under [audits] (and so 99,999 keys of one table): each key is looked up once
 * in an index, not compared with every key before it (that took minutes). */
Test(audit_vet, a_table_of_100000_keys_is_read_in_linear_time)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_audit_policy *p;
        double t0;

        for (int i = 0; i < 99999; i++)
                cr_assert_eq(pm_strbuf_addf(&sb,
                                            "[[audits.crate%d]]\ncriteria = \"safe-to-deploy\"\n"
                                            "version = \"1.0.%d\"\n",
                                            i, i),
                             0);
        cr_assert_eq(pm_strbuf_adds(&sb, "[[audits.crate5]]\ncriteria = \"safe-to-deploy\"\n"
                                         "version = \"2.0.0\"\nversion = \"2.0.1\"\n"),
                     0);
        /* 5e9 string comparisons with a scan per key (over 25 s of CPU); well under 1 s
         * indexed, a few under ASan. */
        t0 = cpu_seconds();
        refused(sb.buf, 300001, "a key defined twice");
        sb.len -= strlen("version = \"2.0.1\"\n");
        sb.buf[sb.len] = '\0';
        p = load_ok(sb.buf, "safe-to-deploy");
        cr_expect(pm_audit_policy_audited(p, "crate99998", "1.0.99998"));
        cr_expect(pm_audit_policy_audited(p, "crate5", "2.0.0"));
        cr_expect_not(pm_audit_policy_audited(p, "crate5", "1.0.6"));
        pm_audit_policy_free(p);
        cr_expect_lt(cpu_seconds() - t0, 10.0, "%.1f s of CPU", cpu_seconds() - t0);
        pm_strbuf_release(&sb);
}

/* 99,000 deltas into one version from versions nothing certifies: each step of the walk looks at
 * the entries reaching one version only (scanning all 100,000 per step took minutes). */
Test(audit_vet, a_walk_of_many_deltas_looks_only_at_its_crates_entries)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_audit_policy *p;
        double t0, cpu = 0;

        for (int i = 0; i < 99000; i++)
                cr_assert_eq(pm_strbuf_addf(&sb,
                                            "[[audits.x]]\ncriteria = \"safe-to-deploy\"\n"
                                            "delta = \"1.0.%d -> 2.0.0\"\n",
                                            i),
                             0);
        cr_assert_eq(pm_strbuf_adds(&sb, "[[audits.x]]\ncriteria = \"safe-to-deploy\"\n"
                                         "version = \"0.9.0\"\n"
                                         "[[audits.x]]\ncriteria = \"safe-to-deploy\"\n"
                                         "delta = \"0.9.0 -> 1.0.98999\"\n"),
                     0);
        /* 1e10 entry comparisons with a scan per step (over a minute of CPU); well under 1 s
         * with the binary search, a few under ASan. */
        t0 = cpu_seconds();
        p = load_ok(sb.buf, "safe-to-deploy");
        /* 1.0.98999 is reached from 0.9.0; 3.0.0 from nothing; the others are no audits. */
        cr_expect(pm_audit_policy_audited(p, "x", "2.0.0"));
        cr_expect_not(pm_audit_policy_audited(p, "x", "3.0.0"));
        cr_expect_not(pm_audit_policy_audited(p, "x", "1.0.5"));
        pm_audit_policy_free(p);
        cpu += cpu_seconds() - t0;
        pm_strbuf_release(&sb);
        /* No way in: every one of the 99,000 versions is looked at, and none leads anywhere. */
        for (int i = 0; i < 99000; i++)
                cr_assert_eq(pm_strbuf_addf(&sb,
                                            "[[audits.x]]\ncriteria = \"safe-to-deploy\"\n"
                                            "delta = \"1.0.%d -> 2.0.0\"\n",
                                            i),
                             0);
        t0 = cpu_seconds();
        p = load_ok(sb.buf, "safe-to-deploy");
        cr_expect_not(pm_audit_policy_audited(p, "x", "2.0.0"));
        pm_audit_policy_free(p);
        cpu += cpu_seconds() - t0;
        cr_expect_lt(cpu, 10.0, "%.1f s of CPU", cpu);
        pm_strbuf_release(&sb);
}

/* Criteria are one namespace across the imported files (docs/configuration.md): a second file
 * may use the first's criterion and define it again identically, but not differently. */
Test(audit_vet, a_criterion_defined_differently_in_two_files_names_both)
{
        static const char a[] = "[criteria.ub-risk-1]\ndescription = \"no UB\"\n"
                                "implies = [\"safe-to-run\", \"ub-risk-2\"]\n"
                                "[criteria.ub-risk-2]\ndescription = \"less UB\"\n";
        static const char same[] = "[criteria.ub-risk-2]\ndescription = \"less UB\"\n"
                                   "[criteria.ub-risk-1]\ndescription = \"no UB\"\n"
                                   "implies = [\"ub-risk-2\", \"safe-to-run\"]\n"
                                   "[[audits.x]]\ncriteria = \"ub-risk-1\"\nversion = \"1.0.0\"\n";
        static const char uses[] = "[[audits.y]]\ncriteria = \"ub-risk-1\"\nversion = \"1.0.0\"\n";
        static const char *const differs[] = {
                "[criteria.ub-risk-1]\ndescription = \"no UB at all\"\n"
                "implies = [\"safe-to-run\", \"ub-risk-2\"]\n"
                "[criteria.ub-risk-2]\ndescription = \"less UB\"\n",
                "[criteria.ub-risk-1]\ndescription = \"no UB\"\nimplies = \"safe-to-run\"\n",
                "[criteria.ub-risk-1]\ndescription-url = \"https://example.com/ub\"\n",
        };
        struct pm_audit_policy *p = NULL;
        struct pm_error err;
        const char *files[2] = { a, same };

        cr_assert_eq(load_files(files, 2, "ub-risk-2", &p, &err), 0, "%s", err.msg);
        cr_expect(pm_audit_policy_audited(p, "x", "1.0.0"));
        pm_audit_policy_free(p);
        files[1] = uses;
        cr_assert_eq(load_files(files, 2, "safe-to-run", &p, &err), 0, "%s", err.msg);
        cr_expect(pm_audit_policy_audited(p, "y", "1.0.0"));
        pm_audit_policy_free(p);
        for (size_t i = 0; i < sizeof(differs) / sizeof(differs[0]); i++) {
                files[1] = differs[i];
                cr_assert_eq(load_files(files, 2, "safe-to-run", &p, &err), PM_ECONFIG,
                             "accepted:\n%s", differs[i]);
                cr_expect_not_null(strstr(err.file, "audits1.toml"), "%s", err.file);
                cr_expect_eq(err.line, 1, "%d", err.line);
                cr_expect_not_null(strstr(err.msg, "[criteria.ub-risk-1] differs "
                                                   "from its definition in '"),
                                   "%s", err.msg);
                cr_expect_not_null(strstr(err.msg, "audits0.toml' (the criteria of all imported "
                                                   "files are one namespace)"),
                                   "%s", err.msg);
        }
}

/* A chain of 10,000 criteria, c0 implying c1 ... implying safe-to-run, and 30,000 entries whose
 * criterion is c0 or whose violation is of safe-to-run: what each entry certifies and what the
 * policy's criteria imply are two walks of the chain in all, not one per entry (3 * 10^8 steps,
 * about 20 s of CPU). */
Test(audit_vet, a_long_chain_of_criteria_is_walked_once_for_all_entries)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_audit_policy *p;
        double t0;

        for (int i = 0; i < 10000; i++)
                cr_assert_eq(i < 9999 ? pm_strbuf_addf(&sb, "[criteria.c%d]\nimplies = \"c%d\"\n",
                                                       i, i + 1)
                                      : pm_strbuf_adds(&sb, "[criteria.c9999]\n"
                                                            "implies = \"safe-to-run\"\n"),
                             0);
        for (int i = 0; i < 10000; i++)
                cr_assert_eq(
                        pm_strbuf_addf(&sb,
                                       "[[audits.x%d]]\ncriteria = \"c0\"\nversion = \"1.0.0\"\n"
                                       "[[audits.y%d]]\ncriteria = \"c0\"\nversion = \"1.0.0\"\n"
                                       "[[audits.y%d]]\ncriteria = \"safe-to-run\"\n"
                                       "violation = \"*\"\n",
                                       i, i, i),
                        0);
        t0 = cpu_seconds();
        /* c0 reaches safe-to-run at the end of the chain, not safe-to-deploy. */
        p = load_ok(sb.buf, "safe-to-run");
        cr_expect(pm_audit_policy_audited(p, "x9999", "1.0.0"));
        cr_expect_not(pm_audit_policy_audited(p, "y0", "1.0.0"));
        pm_audit_policy_free(p);
        p = load_ok(sb.buf, "safe-to-deploy");
        cr_expect_not(pm_audit_policy_audited(p, "x0", "1.0.0"));
        pm_audit_policy_free(p);
        /* c0 implies safe-to-run, so y's violation of it breaks c0. */
        p = load_ok(sb.buf, "c0");
        cr_expect(pm_audit_policy_audited(p, "x0", "1.0.0"));
        cr_expect_not(pm_audit_policy_audited(p, "y9999", "1.0.0"));
        pm_audit_policy_free(p);
        cr_expect_lt(cpu_seconds() - t0, 10.0, "%.1f s of CPU", cpu_seconds() - t0);
        pm_strbuf_release(&sb);
}

/* Files are imported in order: an audit may use a criterion of its own file or an earlier one,
 * not of a later one (docs/configuration.md), and the error says which files count. */
Test(audit_vet, a_criterion_of_a_later_file_is_not_defined_yet)
{
        static const char uses[] = "[[audits.y]]\ncriteria = \"ub-risk-1\"\nversion = \"1.0.0\"\n";
        static const char defines[] = "[criteria.ub-risk-1]\ndescription = \"no UB\"\n";
        const char *files[2] = { uses, defines };
        struct pm_audit_policy *p = NULL;
        struct pm_error err;

        cr_assert_eq(load_files(files, 2, "safe-to-run", &p, &err), PM_ECONFIG, "accepted");
        cr_expect_not_null(strstr(err.file, "audits0.toml"), "%s", err.file);
        cr_expect_eq(err.line, 2, "%d", err.line);
        cr_expect_not_null(strstr(err.msg, "[[audits.y]] entry 1: criterion "
                                           "'ub-risk-1' is neither safe-to-run, safe-to-deploy nor "
                                           "a [criteria.ub-risk-1] of this file or an earlier one"),
                           "%s", err.msg);
        files[0] = defines;
        files[1] = uses;
        cr_assert_eq(load_files(files, 2, "ub-risk-1", &p, &err), 0, "%s", err.msg);
        cr_expect(pm_audit_policy_audited(p, "y", "1.0.0"));
        pm_audit_policy_free(p);
}

/* A definition met again is compared name by name with the first, so `implies` holds at most 64
 * entries: more is an error naming the file and the criterion. */
Test(audit_vet, an_implies_of_more_than_64_entries_is_an_error)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_audit_policy *p = NULL;
        struct pm_error err;

        cr_assert_eq(pm_strbuf_adds(&sb, "[criteria.wide]\nimplies = ["), 0);
        for (int i = 0; i < 64; i++)
                cr_assert_eq(pm_strbuf_adds(&sb, "\"safe-to-run\", "), 0);
        cr_assert_eq(pm_strbuf_adds(&sb, "]\n"), 0);
        pm_audit_policy_free(load_ok(sb.buf, "wide"));
        sb.len -= strlen("]\n");
        cr_assert_eq(pm_strbuf_adds(&sb, "\"safe-to-run\"]\n"), 0);
        cr_assert_eq(load(sb.buf, "wide", &p, &err), PM_ELIMIT, "%s", err.msg);
        cr_expect_not_null(strstr(err.file, "audits0.toml"), "%s", err.file);
        cr_expect_eq(err.line, 2, "%d", err.line);
        cr_expect_not_null(strstr(err.msg, "[criteria.wide] implies more than 64 criteria"), "%s",
                           err.msg);
        pm_strbuf_release(&sb);
}

/* A violation that is not a version requirement names the file and the line of its key, not only
 * the entry: a file of thousands of entries is read by line (docs/configuration.md). */
Test(audit_vet, a_bad_violation_names_the_file_line_and_entry)
{
        refused("[[audits.x]]\ncriteria = \"safe-to-deploy\"\nversion = \"1.0.0\"\n\n"
                "[[audits.x]]\nwho = \"me\"\ncriteria = \"safe-to-run\"\n"
                "violation = \"garbage\"\nnotes = \"\"\"\nwhy\n\"\"\"\n\n"
                "[[audits.y]]\ncriteria = \"safe-to-run\"\nviolation = \"<2\"\n",
                8, "[[audits.x]] entry 2: violation 'garbage' is not a Cargo version requirement");
        refused("[[audits.y]]\ncriteria = \"safe-to-run\"\nviolation = \"<2\"\n\n"
                "[[audits.y]]\nnotes = \"\"\"\n\"\"\"\ncriteria = \"safe-to-run\"\n"
                "violation = \">= 1.0 <\"\n",
                9, "[[audits.y]] entry 2: violation '>= 1.0 <' is not a Cargo version requirement");
}

/* A violation of "*" after an operator is every version, as the requirement check reads it (the
 * matcher once read it as no version, and the crate passed as audited). */
Test(audit_vet, a_violation_of_any_version_after_an_operator_matches_every_version)
{
        struct pm_audit_policy *p =
                load_ok("[[audits.x]]\ncriteria = \"safe-to-deploy\"\nversion = \"1.0.0\"\n"
                        "[[audits.x]]\ncriteria = \"safe-to-run\"\nviolation = \">= *\"\n",
                        "safe-to-deploy");

        cr_expect_not(pm_audit_policy_audited(p, "x", "1.0.0"));
        pm_audit_policy_free(p);
}
