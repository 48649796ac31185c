/* SPDX-License-Identifier: MIT */
/* Integration tests: `projmodel snapshot` of a real gn model, and a daemon seeded from it
 * (serve --seed, "seed" in .projmodel.json) on a fresh database: it serves the snapshot before
 * its first refresh ends, re-queries only when a build file differs, and then holds the same
 * model as a cold export; a bad snapshot leaves it starting cold. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(daemon_seed, d, "gn-monorepo");

/* The daemon's whole-repo rust-project.json, as compact JSON (pm_malloc'd). */
static char *
daemon_project(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/rustProject", NULL);
        char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "project")), *copy;

        cr_assert(s);
        copy = pm_test_strf("%s", s);
        cJSON_free(s);
        cJSON_Delete(r);
        return copy;
}

/* `projmodel export` of the tree into a new database (a cold start), as compact JSON. */
static char *
cold_export(void)
{
        char *db = pm_test_strf("%s/cold.db", d.tmp), *out = pm_test_strf("%s/cold.json", d.tmp);
        const char *argv[] = { pm_test_projmodel(), "export", "--root", d.root, "--db", db,
                               "--output",          out,      NULL };
        char *err = NULL, *text, *s, *copy;
        cJSON *j;

        cr_assert_eq(pm_test_run(argv, d.root, pm_test_daemon_env(&d), NULL, NULL, &err), 0,
                     "export failed: %s", err);
        text = pm_test_read_file(out);
        j = text ? cJSON_Parse(text) : NULL;
        cr_assert(j, "export wrote bad JSON");
        s = cJSON_PrintUnformatted(j);
        copy = pm_test_strf("%s", s);
        cJSON_free(s);
        cJSON_Delete(j);
        pm_free(text);
        pm_free(err);
        pm_free(out);
        pm_free(db);
        return copy;
}

/* Settle the running daemon, snapshot its model to <tmp>/snap.db and stop it. */
static char *
snapshot_and_stop(void)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *snap = pm_test_strf("%s/snap.db", d.tmp), *err = NULL;
        const char *argv[] = { pm_test_projmodel(), "snapshot", "--root", d.root, "--db", d.db,
                               "--output",          snap,       NULL };
        cJSON *r = pm_test_call(c, "projmodel/refresh", NULL);

        cJSON_Delete(r);
        pm_client_free(c);
        cr_assert_eq(pm_test_run(argv, d.root, pm_test_daemon_env(&d), NULL, NULL, &err), 0,
                     "snapshot failed: %s", err);
        pm_free(err);
        (void)pm_test_daemon_kill(&d, SIGTERM);
        return snap;
}

/*
 * Make gn wait for <tmp>/gate before running: while the gate is closed no refresh can end, so
 * what the daemon answers then can only come from the snapshot. @seed goes into the config.
 */
static char *
gate_gn(const char *seed)
{
        char *gate = pm_test_strf("%s/gate", d.tmp), *script = pm_test_strf("%s/gn-gate", d.tmp);
        char *text = pm_test_strf("#!/bin/sh\nwhile [ ! -e '%s' ]; do sleep 0.02; done\n"
                                  "exec gn \"$@\"\n",
                                  gate);
        char *cfg = pm_test_strf("%s/.projmodel.json", d.root);
        char *json = pm_test_strf("{\"build_system\": \"gn\","
                                  " \"gn\": {\"out_dir\": \"out\", \"gn\": \"%s\"}%s%s%s}",
                                  script, seed ? ", \"seed\": \"" : "", seed ? seed : "",
                                  seed ? "\"" : "");

        cr_assert_eq(pm_test_write_file(script, text), 0);
        cr_assert_eq(chmod(script, 0755), 0);
        cr_assert_eq(pm_test_write_file(cfg, json), 0);
        pm_free(text);
        pm_free(script);
        pm_free(cfg);
        pm_free(json);
        return gate;
}

/* Restart the daemon on a new, empty database. */
static void
restart_fresh(const char *name)
{
        pm_free(d.db);
        d.db = pm_test_strf("%s/cache/%s", d.tmp, name);
        pm_test_daemon_start(&d);
}

static cJSON *
status_seed(struct pm_client *c, cJSON **ret_status)
{
        cJSON *st = pm_test_call(c, "projmodel/status", NULL);
        cJSON *seed = cJSON_GetObjectItem(st, "seed");

        cr_assert(cJSON_IsObject(seed), "no seed in the status");
        *ret_status = st;
        return seed;
}

static double
num(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItem(o, key);

        cr_assert(cJSON_IsNumber(v), "'%s' is not a number", key);
        return v->valuedouble;
}

Test(daemon_seed, serves_the_snapshot_first_then_ends_like_a_cold_start)
{
        char *snap = snapshot_and_stop(), *gate, *answer, *file, *params, *seeded;
        struct pm_client *c;
        cJSON *st, *seed, *r, *n;

        gate = gate_gn(NULL);
        /* One BUILD.gn differs from the snapshot: only the rename of util. */
        file = pm_test_strf("%s/lib/engine/BUILD.gn", d.root);
        pm_test_edit_file(file, "utils2 = \"//lib/util\"", "utils3 = \"//lib/util\"");
        pm_free(file);
        d.seed = pm_test_strf("%s", snap);
        restart_fresh("seeded.db");

        c = pm_test_daemon_connect(&d);
        seed = status_seed(c, &st);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(seed, "seeded")));
        cr_assert_eq(num(seed, "changedBuildFiles"), 1);
        cr_assert_eq(num(st, "refreshes"), 0);
        cJSON_Delete(st);

        /* discover's request, answered from the snapshot while gn waits at the gate. */
        params = pm_test_strf("{\"path\": \"%s/lib/engine/src/lib.rs\"}", d.root);
        r = pm_test_call(c, "projmodel/rustProject", params);
        answer = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "project"));
        cr_assert(answer);
        cr_assert(strstr(answer, "\"utils2\""), "the answer is not the snapshot's model");
        cr_assert_null(strstr(answer, "\"utils3\""));
        cJSON_free(answer);
        cJSON_Delete(r);
        seed = status_seed(c, &st);
        cr_assert_eq(num(st, "refreshes"), 0, "a refresh ended before the answer");
        cr_assert_str_eq(cJSON_GetObjectItem(st, "state")->valuestring, "refreshing");
        cJSON_Delete(st);

        /* Open the gate: the one re-query brings the edit in, and the model is a cold one's. */
        r = pm_test_call(c, "projmodel/subscribe", NULL);
        cJSON_Delete(r);
        cr_assert_eq(pm_test_write_file(gate, ""), 0);
        n = pm_test_wait_notification(c, "projmodel/modelChanged", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert(n, "no modelChanged after the gate opened");
        cJSON_Delete(n);
        seeded = daemon_project(c);
        cr_assert(strstr(seeded, "\"utils3\""), "the edit is not in the model");
        {
                char *cold = cold_export();

                cr_assert_str_eq(seeded, cold, "the seeded model differs from a cold start");
                pm_free(cold);
        }
        st = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_eq(num(st, "refreshes"), 1);
        cJSON_Delete(st);
        pm_free(seeded);
        pm_free(params);
        pm_free(gate);
        pm_free(snap);
        pm_client_free(c);
}

Test(daemon_seed, an_unchanged_tree_is_never_requeried)
{
        char *snap = snapshot_and_stop(), *gate = gate_gn(snap), *seeded, *cold;
        struct pm_client *c;
        cJSON *st, *seed;

        /* The seed comes from .projmodel.json this time, and gn stays blocked. */
        restart_fresh("seeded.db");
        c = pm_test_daemon_connect(&d);
        seed = status_seed(c, &st);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(seed, "seeded")));
        cr_assert_eq(num(seed, "changedBuildFiles"), 0);
        cr_assert_str_eq(cJSON_GetObjectItem(st, "state")->valuestring, "idle");
        cJSON_Delete(st);
        seeded = daemon_project(c);
        cr_assert_eq(pm_test_write_file(gate, ""), 0);
        cold = cold_export();
        cr_assert_str_eq(seeded, cold, "the seeded model differs from a cold start");
        st = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_eq(num(st, "refreshes"), 0, "the daemon queried gn");
        cJSON_Delete(st);
        pm_free(seeded);
        pm_free(cold);
        pm_free(gate);
        pm_free(snap);
        pm_client_free(c);
}

Test(daemon_seed, a_bad_snapshot_is_named_and_the_daemon_starts_cold)
{
        char *snap = snapshot_and_stop(), *gate, *err;
        struct pm_client *c;
        cJSON *st, *seed, *r;

        cr_assert_eq(pm_test_write_file(snap, "this is not a database, just some bytes\n"), 0);
        gate = gate_gn(snap);
        cr_assert_eq(pm_test_write_file(gate, ""), 0);
        restart_fresh("cold.db");
        c = pm_test_daemon_connect(&d);
        r = pm_test_call(c, "projmodel/refresh", NULL);
        cJSON_Delete(r);
        seed = status_seed(c, &st);
        cr_assert_not(cJSON_IsTrue(cJSON_GetObjectItem(seed, "seeded")));
        err = cJSON_GetStringValue(cJSON_GetObjectItem(seed, "error"));
        cr_assert(err && strstr(err, snap), "the error does not name the snapshot: %s", err);
        cr_assert_geq(num(st, "refreshes"), 1);
        cr_assert_eq(num(st, "crates"), 10, "the cold start has no model");
        cJSON_Delete(st);
        pm_free(gate);
        pm_free(snap);
        pm_client_free(c);
}
