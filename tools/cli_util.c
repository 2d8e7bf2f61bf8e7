/* CLI helpers: one-line errors, size parsing, terminal progress and JSON strings. */
#include "tools/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int pa_cli_fail(const char *cmd, pa_status st)
{
    const char *msg = pa_last_error();
    size_t n = strlen(cmd);
    /* library messages often start with the stage ("search: ..."); do not say it twice */
    if (strncmp(msg, cmd, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        msg += n + 2;
    /* a table with several vector columns: the library says to name one, the CLI says how */
    const char *pick = "name the one to read", *end = msg + strlen(msg) - strlen(pick);
    bool hint = strlen(msg) >= strlen(pick) && !strcmp(end, pick);
    fprintf(stderr, "partifact %s: %s%s%s\n", cmd, msg[0] ? msg : pa_status_name(st),
            st == PA_ERR_EXISTS ? " (--force replaces it)" : "", hint ? " with --column" : "");
    return PA_CLI_EXIT_FAIL;
}

int pa_cli_check_output(const char *cmd, const char *out, bool force, const char *dir_kind,
                        const char *const *inputs, size_t n)
{
    pa_status st = pa_output_check(out, force, dir_kind, inputs, n);
    return st == PA_OK ? 0 : pa_cli_fail(cmd, st);
}

int pa_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "partifact %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return PA_CLI_EXIT_FAIL;
}

static bool parse_scaled(const char *s, uint64_t *out, bool binary)
{
    char *end = NULL;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return false;
    uint64_t mul = 1, k = binary ? 1024 : 1000;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mul = k; break;
        case 'm': case 'M': mul = k * k; break;
        case 'g': case 'G': mul = k * k * k; break;
        case 't': case 'T': mul = k * k * k * k; break;
        default: return false;
        }
        end++;
        if (binary && (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "ib")))
            end += strlen(end);
        if (*end)
            return false;
    }
    if (v > UINT64_MAX / mul)
        return false;
    *out = v * mul;
    return true;
}

bool pa_cli_parse_size(const char *s, uint64_t *out) { return parse_scaled(s, out, true); }
bool pa_cli_parse_count(const char *s, uint64_t *out) { return parse_scaled(s, out, false); }

static int progress_state = -1; /* -1 unknown, 0 off, 1 on */
static bool progress_drawn;

bool pa_cli_progress_enabled(void)
{
    if (progress_state < 0)
        progress_state = isatty(STDERR_FILENO) ? 1 : 0;
    return progress_state == 1;
}

void pa_cli_progress(const char *what, uint64_t done, uint64_t total)
{
    if (!pa_cli_progress_enabled())
        return;
    static struct timespec last;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - last.tv_sec) + (double)(now.tv_nsec - last.tv_nsec) * 1e-9;
    if (progress_drawn && dt < 0.1 && done != total)
        return;
    last = now;
    if (total)
        fprintf(stderr, "\r%s: %llu / %llu (%.0f%%)\033[K", what, (unsigned long long)done,
                (unsigned long long)total, 100.0 * (double)done / (double)total);
    else
        fprintf(stderr, "\r%s: %llu\033[K", what, (unsigned long long)done);
    progress_drawn = true;
}

double pa_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* pa_progress_fn for library calls: "<stage>: done / total" (ctx unused). */
void pa_cli_progress_cb(void *ctx, const char *stage, uint64_t done, uint64_t total)
{
    (void)ctx;
    pa_cli_progress(stage, done, total);
}

void pa_cli_progress_end(void)
{
    if (progress_drawn) {
        fputc('\n', stderr);
        progress_drawn = false;
    }
}

const char *pa_cli_opt_name(const struct option *opts, int c)
{
    for (; opts->name; opts++)
        if (opts->val == c)
            return opts->name;
    return "?";
}

void pa_cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

bool pa_cli_backend_option(char *opts, size_t len, const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t used = strlen(opts), need = strlen(arg) + (used ? 1 : 0);
    if (!eq || eq == arg || strchr(arg, ',') || used + need >= len)
        return false;
    snprintf(opts + used, len - used, "%s%s", used ? "," : "", arg);
    return true;
}
