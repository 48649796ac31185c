/* SPDX-License-Identifier: MIT */
/* Test fixtures: temporary trees, file helpers and running commands (fork + execvpe, no shell). */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

static const char *
env_or(const char *name, const char *def)
{
        const char *v = getenv(name);

        return v && v[0] ? v : def;
}

const char *
pm_test_source_root(void)
{
        return env_or("PM_SOURCE_ROOT", ".");
}

const char *
pm_test_build_root(void)
{
        return env_or("PM_BUILD_ROOT", ".");
}

const char *
pm_test_projmodel(void)
{
        /* PM_TEST_PROJMODEL runs the suites against another build of the command (the
         * ThreadSanitizer job: Criterion itself cannot run under TSan). */
        const char *other = getenv("PM_TEST_PROJMODEL");

        return other && *other ? other : env_or("PM_PROJMODEL", "projmodel");
}

char *
pm_test_strf(const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        r = pm_vasprintf(fmt, ap);
        va_end(ap);
        return r;
}

char *
pm_test_mkdtemp(void)
{
        char *t = pm_test_strf("%s/pm-test-XXXXXX", env_or("TMPDIR", "/tmp"));
        char *norm;

        if (!t)
                return NULL;
        if (!mkdtemp(t)) {
                pm_free(t);
                return NULL;
        }
        /* Normalised so tests can compare it with paths projmodel reports. */
        norm = pm_path_normalize(NULL, NULL, t);
        pm_free(t);
        return norm;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        if (flag == FTW_DP)
                return rmdir(path) < 0 ? -errno : 0;
        return unlink(path) < 0 ? -errno : 0;
}

int
pm_test_rmtree(const char *path)
{
        struct stat st;
        int r;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        /* Make directories writable first, in case a test made one read-only. */
        if (S_ISDIR(st.st_mode))
                (void)chmod(path, st.st_mode | S_IRWXU);
        r = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
        return r < 0 ? -errno : r;
}

static int
copy_file(const char *src, const char *dst, mode_t mode)
{
        char buf[65536];
        int in = -1, out = -1, r = 0;
        ssize_t n, w;

        in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return -errno;
        out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
        if (out < 0) {
                r = -errno;
                goto out;
        }
        while ((n = read(in, buf, sizeof(buf))) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto out;
                }
                for (ssize_t off = 0; off < n; off += w) {
                        w = write(out, buf + off, (size_t)(n - off));
                        if (w < 0) {
                                if (errno == EINTR) {
                                        w = 0;
                                        continue;
                                }
                                r = -errno;
                                goto out;
                        }
                }
        }
out:
        if (in >= 0)
                (void)close(in);
        if (out >= 0 && close(out) < 0 && r == 0)
                r = -errno;
        return r;
}

static int
copy_tree(const char *src, const char *dst, int depth)
{
        struct stat st;
        char *buf = NULL;
        ssize_t n;
        int r = 0;

        if (depth > 64)
                return -ELOOP;
        if (lstat(src, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode)) {
                buf = pm_malloc((size_t)st.st_size + 1);
                if (!buf)
                        return -ENOMEM;
                n = readlink(src, buf, (size_t)st.st_size + 1);
                if (n < 0 || n > st.st_size) {
                        r = n < 0 ? -errno : -EIO;
                        goto out;
                }
                buf[n] = '\0';
                if (symlink(buf, dst) < 0)
                        r = -errno;
                goto out;
        }
        if (S_ISREG(st.st_mode)) {
                r = copy_file(src, dst, st.st_mode);
                goto out;
        }
        if (!S_ISDIR(st.st_mode))
                goto out;
        if (mkdir(dst, st.st_mode & 07777) < 0 && errno != EEXIST) {
                r = -errno;
                goto out;
        }
        {
                struct dirent **list = NULL;
                int count = scandir(src, &list, NULL, alphasort);

                if (count < 0) {
                        r = -errno;
                        goto out;
                }
                for (int i = 0; i < count; i++) {
                        const char *name = list[i]->d_name;

                        if (r == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
                                char *s = pm_test_strf("%s/%s", src, name);
                                char *d = pm_test_strf("%s/%s", dst, name);

                                r = s && d ? copy_tree(s, d, depth + 1) : -ENOMEM;
                                pm_free(s);
                                pm_free(d);
                        }
                        free(list[i]);
                }
                free(list);
        }
out:
        pm_free(buf);
        return r;
}

int
pm_test_copy_tree(const char *src, const char *dst)
{
        return copy_tree(src, dst, 0);
}

static int
mkdir_parents(const char *path)
{
        char *dir = pm_path_dirname(NULL, path);
        struct stat st;
        int r = 0;

        if (!dir)
                return -ENOMEM;
        if (stat(dir, &st) == 0)
                goto out;
        r = mkdir_parents(dir);
        if (r == 0 && mkdir(dir, 0755) < 0 && errno != EEXIST)
                r = -errno;
out:
        pm_free(dir);
        return r;
}

int
pm_test_write_file(const char *path, const char *content)
{
        size_t len = strlen(content);
        ssize_t w;
        int fd, r;

        r = mkdir_parents(path);
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        while (len > 0) {
                w = write(fd, content, len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                content += w;
                len -= (size_t)w;
        }
        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

char *
pm_test_read_file(const char *path)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;

        if (pm_strbuf_read_file(&sb, path, 0, NULL) < 0) {
                pm_strbuf_release(&sb);
                return NULL;
        }
        return pm_strbuf_detach(&sb, NULL);
}

char *
pm_test_find_prefix(const char *dir, const char *prefix)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        char *found = NULL;

        while (d && !found && (e = readdir(d)) != NULL)
                if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
                        found = pm_test_strf("%s", e->d_name);
        if (d)
                closedir(d);
        return found;
}

/* A copy of environ with @extra ("K=V") overriding or adding entries; pm_malloc'd array of
 * borrowed strings. Built before fork so the child does not allocate. */
static char **
make_env(const char *const *extra)
{
        size_t n = 0, m = 0, k = 0;
        char **envp;

        while (environ[n])
                n++;
        while (extra && extra[m])
                m++;
        envp = pm_calloc(n + m + 1, sizeof(char *));
        if (!envp)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                const char *eq = strchr(environ[i], '=');
                size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
                bool overridden = false;

                for (size_t j = 0; j < m && !overridden; j++)
                        overridden = strncmp(extra[j], environ[i], klen) == 0 &&
                                     (extra[j][klen] == '=' || extra[j][klen] == '\0');
                if (!overridden)
                        envp[k++] = environ[i];
        }
        for (size_t j = 0; j < m; j++)
                if (strchr(extra[j], '='))
                        envp[k++] = (char *)extra[j];
        envp[k] = NULL;
        return envp;
}

int
pm_test_run(const char *const *argv, const char *cwd, const char *const *env,
            const char *stdin_data, char **ret_out, char **ret_err)
{
        struct pm_strbuf out = PM_STRBUF_INIT, errb = PM_STRBUF_INIT;
        int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
        size_t in_len = stdin_data ? strlen(stdin_data) : 0, in_off = 0;
        char **envp = NULL;
        int status, r = 0;
        pid_t pid;

        envp = make_env(env);
        if (!envp)
                return -ENOMEM;
        if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0 ||
            pipe2(err_pipe, O_CLOEXEC) < 0) {
                r = -errno;
                goto out;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto out;
        }
        if (pid == 0) {
                int devnull = -1;

                if (!stdin_data) {
                        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (devnull < 0 || dup2(devnull, 0) < 0)
                                _exit(127);
                } else if (dup2(in_pipe[0], 0) < 0) {
                        _exit(127);
                }
                if (dup2(out_pipe[1], 1) < 0 || dup2(err_pipe[1], 2) < 0)
                        _exit(127);
                if (cwd && chdir(cwd) < 0)
                        _exit(127);
                (void)signal(SIGPIPE, SIG_DFL);
                execvpe(argv[0], (char *const *)argv, envp);
                _exit(errno == ENOENT ? 127 : 126);
        }

        (void)close(pm_steal_fd(&in_pipe[0]));
        (void)close(pm_steal_fd(&out_pipe[1]));
        (void)close(pm_steal_fd(&err_pipe[1]));
        if (!stdin_data || in_len == 0)
                (void)close(pm_steal_fd(&in_pipe[1]));
        else
                (void)fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);

        /* Poll all three pipes so a child filling stderr while we feed stdin cannot deadlock. */
        while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
                struct pollfd pfd[3] = {
                        { .fd = out_pipe[0], .events = POLLIN },
                        { .fd = err_pipe[0], .events = POLLIN },
                        { .fd = in_pipe[1], .events = POLLOUT },
                };
                char buf[65536];

                if (poll(pfd, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        int *fdp = i == 0 ? &out_pipe[0] : &err_pipe[0];
                        struct pm_strbuf *sb = i == 0 ? &out : &errb;
                        ssize_t n;

                        if (*fdp < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        n = read(*fdp, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                (void)close(pm_steal_fd(fdp));
                                continue;
                        }
                        if (pm_strbuf_add(sb, buf, (size_t)n) < 0)
                                r = -ENOMEM;
                }
                if (in_pipe[1] >= 0 && (pfd[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
                        ssize_t n = write(in_pipe[1], stdin_data + in_off, in_len - in_off);

                        if (n > 0)
                                in_off += (size_t)n;
                        if ((n < 0 && errno != EAGAIN && errno != EINTR) || in_off >= in_len)
                                (void)close(pm_steal_fd(&in_pipe[1]));
                }
        }
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR) {
                        r = -errno;
                        goto out;
                }
        }
        if (r < 0)
                goto out;
        r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (ret_out) {
                *ret_out = pm_strbuf_detach(&out, NULL);
                if (!*ret_out)
                        r = -ENOMEM;
        }
        if (ret_err) {
                *ret_err = pm_strbuf_detach(&errb, NULL);
                if (!*ret_err)
                        r = -ENOMEM;
        }
out:
        for (int i = 0; i < 2; i++) {
                if (in_pipe[i] >= 0)
                        (void)close(in_pipe[i]);
                if (out_pipe[i] >= 0)
                        (void)close(out_pipe[i]);
                if (err_pipe[i] >= 0)
                        (void)close(err_pipe[i]);
        }
        pm_strbuf_release(&out);
        pm_strbuf_release(&errb);
        pm_free(envp);
        return r;
}

bool
pm_test_have(const char *name)
{
        const char *path = getenv("PATH");
        const char *p, *colon;
        bool found = false;

        if (strchr(name, '/'))
                return access(name, X_OK) == 0;
        for (p = path ? path : "/usr/bin:/bin"; !found; p = colon + 1) {
                size_t len;
                char *full;

                colon = strchr(p, ':');
                len = colon ? (size_t)(colon - p) : strlen(p);
                full = pm_test_strf("%.*s/%s", (int)len, len ? p : ".", name);
                if (full) {
                        struct stat st;

                        found = stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
                                access(full, X_OK) == 0;
                        pm_free(full);
                }
                if (!colon)
                        break;
        }
        return found;
}

void
pm_test_edit_file(const char *path, const char *from, const char *to)
{
        char *text = pm_test_read_file(path), *at, *edited;

        cr_assert(text, "cannot read '%s'", path);
        at = strstr(text, from);
        cr_assert(at, "'%s' not in '%s':\n%s", from, path, text);
        *at = '\0';
        edited = pm_test_strf("%s%s%s", text, to, at + strlen(from));
        cr_assert_eq(pm_test_write_file(path, edited), 0);
        pm_free(edited);
        pm_free(text);
}

void
pm_test_append_file(const char *path, const char *text)
{
        char *old = pm_test_read_file(path), *now;

        cr_assert(old, "cannot read '%s'", path);
        now = pm_test_strf("%s%s", old, text);
        cr_assert_eq(pm_test_write_file(path, now), 0);
        pm_free(now);
        pm_free(old);
}

void
pm_test_age_path(const char *path, long seconds)
{
        time_t t = time(NULL) - seconds;
        struct timespec ts[2] = { { .tv_sec = t }, { .tv_sec = t } };

        cr_assert_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0, "%s: %s", path,
                     strerror(errno));
}

bool
pm_test_crate_has_dep(const struct pm_crate *c, const char *label, const char *name)
{
        for (size_t i = 0; i < c->n_deps; i++)
                if (strcmp(c->deps[i].label, label) == 0 &&
                    ((!name && !c->deps[i].name) ||
                     (name && c->deps[i].name && strcmp(name, c->deps[i].name) == 0)))
                        return true;
        return false;
}

void
pm_test_assert_argv(char *const *argv, const char *const *expected)
{
        size_t i = 0;

        for (; expected[i]; i++) {
                cr_assert_not_null(argv[i], "argv too short at %zu (want '%s')", i, expected[i]);
                cr_assert_str_eq(argv[i], expected[i]);
        }
        cr_assert_null(argv[i], "argv too long: '%s'", argv[i]);
}

int
pm_test_long_gn_warning(struct pm_strbuf *name, struct pm_strbuf *entry, struct pm_strbuf *want)
{
        int r = pm_strbuf_adds(name, "noenv_");

        for (int i = 0; r == 0 && i < 300; i++)
                r = pm_strbuf_addch(name, 'x');
        if (r == 0)
                r = pm_strbuf_adds(entry, "NOEQ");
        for (int i = 0; r == 0 && i < 100; i++)
                r = pm_strbuf_adds(entry, "\xe2\x82\xac");
        if (r == 0)
                r = pm_strbuf_addf(want, "target '//lib/util:%s': rustenv entry 'NOEQ", name->buf);
        for (int i = 0; r == 0 && i < 43; i++)
                r = pm_strbuf_adds(want, "\xe2\x82\xac");
        if (r == 0)
                r = pm_strbuf_adds(want, "...");
        return r < 0 ? -ENOMEM : 0;
}

const cJSON *
pm_test_crate_named(const cJSON *project, const char *name)
{
        const cJSON *c;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(project, "crates"))
        {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "display_name");

                if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
                        return c;
        }
        cr_assert_fail("no crate '%s'", name);
        return NULL;
}
