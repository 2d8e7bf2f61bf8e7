/* CLI helpers: the option parser, one-line errors and exit codes, size parsing, terminal
 * progress and JSON strings. */
#include "tools/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The table pa_cli_parse read last: it maps option fields to flags for the hints. */
static const pa_cli_opt *parsed_opts;
static size_t parsed_num_opts;

int pa_cli_exit_code(pa_status st)
{
    int err = pa_last_error_errno();
    switch (st) {
    case PA_ERR_IO: /* the environment: the operating system refused a read, write, ... */
        /* ... but a path that names nothing is a bad input (a missing file, or a file missing
         * inside a dataset or index) */
        return err == ENOENT || err == ENOTDIR ? PA_CLI_EXIT_USAGE : PA_CLI_EXIT_RUNTIME;
    case PA_ERR_NOMEM:
    case PA_ERR_STATE: /* a call out of order: partifact's own fault */ return PA_CLI_EXIT_RUNTIME;
    default: return PA_CLI_EXIT_USAGE;
    }
}

/* The flag of the option whose library field is field (one of a row's comma-separated fields). */
static const char *flag_of_field(const char *field, size_t len)
{
    for (size_t i = 0; i < parsed_num_opts; i++) {
        const char *f = parsed_opts[i].field;
        while (f && *f) {
            size_t n = strcspn(f, ",");
            if (n == len && !strncmp(f, field, len))
                return parsed_opts[i].name;
            f += n + (f[n] == ',');
        }
    }
    return NULL;
}

int pa_cli_fail(const char *cmd, pa_status st)
{
    const char *msg = pa_last_error(), *fields = pa_last_error_field();
    fprintf(stderr, "partifact %s: %s", cmd, msg[0] ? msg : pa_status_name(st));
    /* the option fields the library names, as this command's flags */
    const char *sep = " (";
    for (const char *f = fields; f && *f;) {
        size_t n = strcspn(f, ",");
        const char *flag = flag_of_field(f, n);
        if (flag) {
            fprintf(stderr, "%s--%s", sep, flag);
            sep = ", ";
        }
        f += n + (f[n] == ',');
    }
    const char *replace = flag_of_field("replace", 7);
    if (sep[0] == ',')
        fputc(')', stderr);
    else if (st == PA_ERR_EXISTS && replace) /* the status names the field: replace */
        fprintf(stderr, " (--%s replaces it)", replace);
    fputc('\n', stderr);
    return pa_cli_exit_code(st);
}

int pa_cli_check_output(const char *cmd, const char *out, bool force, const char *dir_kind,
                        const char *const *inputs, size_t n)
{
    pa_status st = pa_output_check(out, force, dir_kind, inputs, n);
    return st == PA_OK ? 0 : pa_cli_fail(cmd, st);
}

static int error_line(int code, const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "partifact %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return code;
}

int pa_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int code = error_line(PA_CLI_EXIT_USAGE, cmd, fmt, ap);
    va_end(ap);
    return code;
}

int pa_cli_errorf(int code, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_line(code, cmd, fmt, ap);
    va_end(ap);
    return code;
}

bool pa_cli_given(const pa_cli_opt *opts, size_t num_opts, const char *name)
{
    for (size_t i = 0; i < num_opts; i++)
        if (!strcmp(opts[i].name, name))
            return opts[i].given;
    return false;
}

/* "256MiB" for a size default, as the help shows it. */
static void print_size(uint64_t v)
{
    static const char *units[] = {"", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (u < 4 && v >= 1024 && v % 1024 == 0)
        v /= 1024, u++;
    printf("%" PRIu64 "%s", v, units[u]);
}

/* --help: the usage line (the positional argument and the required options), the command's
 * about text, and a line per option. */
static void print_help(const struct pa_cli_command *c, const pa_cli_opt *opts, size_t n)
{
    printf("usage: partifact %s%s%s", c->name, c->pos ? " " : "", c->pos ? c->pos : "");
    for (size_t i = 0; i < n; i++)
        if (opts[i].required)
            printf(" --%s %s", opts[i].name, opts[i].arg);
    printf(" [options]\n%s", c->about);
    printf("options:\n");
    for (size_t k = 0; k < 2 * n; k++) { /* the required ones first */
        const pa_cli_opt *o = &opts[k % n];
        if (o->required != (k < n))
            continue;
        char left[64];
        snprintf(left, sizeof left, "%s%c%s--%s%s%s", o->short_name ? "-" : "",
                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "", o->name,
                 o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-24s %s", left[0] == ' ' ? left + 1 : left, o->help);
        switch (o->kind) { /* the default: the value the command starts from */
        case PA_CLI_STRING:
            if (*(const char **)o->dest)
                printf(" (default %s)", *(const char **)o->dest);
            break;
        case PA_CLI_COUNT:
            if (*(uint64_t *)o->dest)
                printf(" (default %" PRIu64 ")", *(uint64_t *)o->dest);
            break;
        case PA_CLI_SIZE:
            if (*(uint64_t *)o->dest) {
                printf(" (default ");
                print_size(*(uint64_t *)o->dest);
                printf(")");
            }
            break;
        case PA_CLI_METRIC: printf(" (default %s)", pa_metric_name(*(pa_metric *)o->dest)); break;
        case PA_CLI_REAL: printf(" (default %g)", *(double *)o->dest); break;
        case PA_CLI_BOOL:
        case PA_CLI_LIST: break;
        }
        printf("%s\n", o->required ? " (required)" : "");
    }
    printf("  %-24s %s\n", "-h, --help", "print this help");
    printf("%s", PA_CLI_EXIT_HELP);
}

/* Stores value into o; false if it is not one o accepts. */
static bool set_value(pa_cli_opt *o, const char *value)
{
    uint64_t v = 0;
    switch (o->kind) {
    case PA_CLI_STRING: *(const char **)o->dest = value; return true;
    case PA_CLI_BOOL: *(bool *)o->dest = true; return true;
    case PA_CLI_METRIC: return pa_metric_parse(value, (pa_metric *)o->dest) == PA_OK;
    case PA_CLI_LIST: {
        pa_cli_list *l = o->dest;
        if (l->n == PA_CLI_LIST_MAX)
            return false;
        l->items[l->n++] = value;
        return true;
    }
    case PA_CLI_REAL: {
        char *end = NULL;
        double d = strtod(value, &end);
        if (end == value || *end || !isfinite(d) || d < 0)
            return false;
        *(double *)o->dest = d;
        return true;
    }
    case PA_CLI_COUNT:
    case PA_CLI_SIZE:
        if (!(o->kind == PA_CLI_SIZE ? pa_cli_parse_size(value, &v)
                                     : pa_cli_parse_count(value, &v)) ||
            v < o->min || (o->max && v > o->max))
            return false;
        *(uint64_t *)o->dest = v;
        return true;
    }
    return false;
}

/* The row for "--name" (len characters of it) or "-c", or NULL. */
static pa_cli_opt *lookup(pa_cli_opt *opts, size_t n, const char *name, size_t len, char c)
{
    for (size_t i = 0; i < n; i++) {
        pa_cli_opt *o = &opts[i];
        if (c ? o->short_name == c : strlen(o->name) == len && !strncmp(o->name, name, len))
            return o;
    }
    return NULL;
}

/* "--a, --b and --c are required", naming every required option, if any is missing. */
static int check_required(const char *cmd, const pa_cli_opt *opts, size_t n)
{
    char names[256] = "";
    size_t missing = 0, required = 0, seen = 0;
    for (size_t k = 0; k < n; k++)
        required += opts[k].required;
    for (size_t k = 0; k < n; k++) {
        if (!opts[k].required)
            continue;
        missing += !opts[k].given;
        seen++;
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s--%s",
                 seen == 1          ? ""
                 : seen == required ? " and "
                                    : ", ",
                 opts[k].name);
    }
    if (!missing)
        return PA_CLI_CONTINUE;
    return pa_cli_error(cmd, "%s %s required (see --help)", names, required > 1 ? "are" : "is");
}

/* An unknown option: refused naming the options when they are few, else pointing to --help. */
static int unknown_option(const char *cmd, const pa_cli_opt *opts, size_t n, const char *arg)
{
    if (n > 3)
        return pa_cli_error(cmd, "unknown option \"%s\" (see --help)", arg);
    char names[128] = "";
    for (size_t k = 0; k < n; k++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s--%s", k ? ", " : "",
                 opts[k].name);
    return pa_cli_error(cmd, "unknown option \"%s\" (%s)", arg, names);
}

/* Takes the option argument a (and its value, from a or the next argument) into its row. */
static int take_option(const char *cmd, pa_cli_opt *opts, size_t n, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *value = NULL;
    pa_cli_opt *o;
    if (a[1] == '-') {
        const char *eq = strchr(a + 2, '=');
        o = lookup(opts, n, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), 0);
        value = eq ? eq + 1 : NULL;
    } else {
        o = lookup(opts, n, NULL, 0, a[1]);
        value = a[2] ? a + 2 : NULL;
    }
    if (!o)
        return unknown_option(cmd, opts, n, a);
    if (o->kind == PA_CLI_BOOL && value)
        return pa_cli_error(cmd, "--%s takes no value", o->name);
    if (o->kind != PA_CLI_BOOL && !value) {
        if (*i + 1 == argc)
            return pa_cli_error(cmd, "--%s needs a value (see --help)", o->name);
        value = argv[++*i];
    }
    if (o->given && o->kind != PA_CLI_LIST)
        return pa_cli_error(cmd, "--%s given twice", o->name);
    o->given = true;
    if (set_value(o, value))
        return PA_CLI_CONTINUE;
    if (o->expect)
        return pa_cli_error(cmd, "--%s: \"%s\" is not %s", o->name, value, o->expect);
    return pa_cli_error(cmd, "\"%s\" is not a valid value for --%s", value, o->name);
}

void pa_cli_parse(const char *cmd, pa_cli_opt *opts, size_t num_opts, const char **pos, int argc,
                  char **argv)
{
    const struct pa_cli_command *c = pa_cli_commands;
    while (c->name && strcmp(c->name, cmd))
        c++;
    bool options_end = false;
    int rc = PA_CLI_CONTINUE;
    parsed_opts = opts, parsed_num_opts = num_opts;
    for (int i = 1; i < argc && rc == PA_CLI_CONTINUE; i++) {
        const char *a = argv[i];
        if (options_end || a[0] != '-' || !a[1]) { /* a positional argument */
            if (!pos)
                rc = pa_cli_error(cmd, "unexpected argument \"%s\" (see --help)", a);
            else if (*pos)
                rc = pa_cli_error(cmd, "unexpected argument \"%s\": expected one %s", a,
                                  c->pos_what);
            else
                *pos = a;
        } else if (!strcmp(a, "--")) {
            options_end = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_help(c, opts, num_opts);
            exit(0);
        } else {
            rc = take_option(cmd, opts, num_opts, argc, argv, &i);
        }
    }
    if (rc == PA_CLI_CONTINUE)
        rc = check_required(cmd, opts, num_opts);
    if (rc == PA_CLI_CONTINUE && pos && !*pos)
        rc = pa_cli_error(cmd, "expected one %s (see --help)", c->pos_what);
    if (rc != PA_CLI_CONTINUE)
        exit(rc);
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
        case 'k':
        case 'K': mul = k; break;
        case 'm':
        case 'M': mul = k * k; break;
        case 'g':
        case 'G': mul = k * k * k; break;
        case 't':
        case 'T': mul = k * k * k * k; break;
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

pa_status pa_cli_json_print(pa_status packed, json_t **v)
{
    /* *v read here, after pa_json_pack (the argument) filled it; consumed either way */
    if (packed != PA_OK) {
        json_decref(*v);
        return packed;
    }
    return pa_json_print(stdout, *v, PA_JSON_COMPACT);
}

int pa_cli_backend_options(const char *cmd, const pa_cli_list *l, char *opts, size_t len)
{
    opts[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        const char *arg = l->items[i], *eq = strchr(arg, '=');
        size_t used = strlen(opts), need = strlen(arg) + (used ? 1 : 0);
        if (!eq || eq == arg || strchr(arg, ',') || used + need >= len)
            return pa_cli_error(cmd, "\"%s\" is not a valid value for --backend-option", arg);
        snprintf(opts + used, len - used, "%s%s", used ? "," : "", arg);
    }
    return 0;
}
