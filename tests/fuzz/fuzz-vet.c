/* SPDX-License-Identifier: MIT */
/* Fuzz target: the audit policy's import of a cargo-vet audits.toml (audit/toml.c and
 * audit/policy.c) on arbitrary bytes: the load either fails with its error report filled or
 * gives a policy every query can ask, for names and versions the input itself mentions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projmodel/audit.h"
#include "projmodel/config.h"
#include "projmodel/error.h"

#include "fuzz.h"

static void fail(const char *what, const struct pm_error *err) __attribute__((noreturn));

static void
fail(const char *what, const struct pm_error *err)
{
        fprintf(stderr, "fuzz-vet: %s (%d '%s')\n", what, err ? err->code : 0, err ? err->msg : "");
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const names[] = { "x", "memchr", "serde", "a-b", "", NULL };
        static const char *const versions[] = { "1.0.0", "0.1.0", "2.6.0", "1.2", "x", NULL };
        const struct pm_config *cfg = pm_fuzz_config(
                "vet",
                "{\"build_system\": \"cargo\", \"audit\": {\"cargo_vet_audits\": \"audits.toml\","
                " \"criteria\": \"safe-to-run\"}}\n");
        struct pm_audit_policy *p = NULL;
        struct pm_error err;
        int r;

        pm_fuzz_write(cfg->root, "audits.toml", data, size);
        pm_error_init(&err);
        r = pm_audit_policy_load(cfg, &p, &err);
        if (pm_fuzz_verbose())
                fprintf(stderr, "fuzz-vet: %d %s\n", r, err.msg);
        if (r > 0 || (r < 0 && (err.code != r || !err.msg[0] || p)))
                fail("a failure without its error report", &err);
        if (r < 0)
                return 0;
        if (!pm_audit_policy_present(p))
                fail("the policy section got lost", NULL);
        for (size_t i = 0; names[i]; i++) {
                (void)pm_audit_policy_audited(p, names[i], NULL);
                for (size_t k = 0; versions[k]; k++)
                        (void)pm_audit_policy_audited(p, names[i], versions[k]);
        }
        pm_audit_policy_free(p);
        return 0;
}
