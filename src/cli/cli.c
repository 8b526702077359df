/*
 * cli.c - option parsing and help for every command, from its table.
 */
#include "cli/cli.h"

#include "base/io.h"
#include "conn/connectors.h"
#include "sql/plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_print_help(const cli_command *cmd)
{
    printf("usage: weir %s [options] %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    if (cmd->description)
        printf("\n%s\n", cmd->description);
    printf("\noptions:\n");
    for (int i = 0; i < cmd->noptions; i++) {
        const cli_option *o = &cmd->options[i];
        char left[64];
        snprintf(left, sizeof left, "%s%c%s--%s%s%s", o->short_name ? "-" : "", o->short_name ? o->short_name : ' ',
                 o->short_name ? ", " : "  ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-26s %s\n", o->short_name ? left : left + 2, o->help);
    }
    printf("  %-26s %s\n", "-h, --help", "show this help");
}

int cli_index(const cli_command *cmd, const char *name)
{
    for (int i = 0; i < cmd->noptions; i++)
        if (!strcmp(cmd->options[i].name, name))
            return i;
    fprintf(stderr, "weir: internal error: command %s has no option %s\n", cmd->name, name);
    abort();
}

static int usage_error(const cli_command *cmd, const char *fmt, const char *what)
{
    fprintf(stderr, "weir %s: ", cmd->name);
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\nTry 'weir %s --help'.\n", cmd->name);
    return CLI_USAGE;
}

int cli_parse(const cli_command *cmd, int *argc, char **argv, const char **values)
{
    int npos = 0;
    bool only_positional = false;
    if (cmd->noptions > CLI_MAX_OPTIONS) {
        fprintf(stderr, "weir: internal error: command %s has %d options, more than CLI_MAX_OPTIONS\n", cmd->name,
                cmd->noptions);
        abort();
    }
    for (int i = 0; i < cmd->noptions; i++)
        values[i] = NULL;
    for (int i = 0; i < *argc; i++) {
        char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            argv[npos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_positional = true;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli_print_help(cmd);
            return -1;
        }
        const cli_option *o = NULL;
        int idx = -1;
        const char *inline_arg = NULL;
        for (int k = 0; k < cmd->noptions && !o; k++) {
            const cli_option *c = &cmd->options[k];
            size_t n = strlen(c->name);
            if (a[1] == '-' && !strncmp(a + 2, c->name, n) && (a[2 + n] == '\0' || a[2 + n] == '=')) {
                o = c;
                inline_arg = a[2 + n] == '=' ? a + 3 + n : NULL;
            } else if (a[1] != '-' && c->short_name && a[1] == c->short_name && a[2] == '\0') {
                o = c;
            }
            if (o)
                idx = k;
        }
        if (!o)
            return usage_error(cmd, "unknown option %s", a);
        if (!o->arg) {
            if (inline_arg)
                return usage_error(cmd, "option %s takes no value", a);
            values[idx] = "1";
        } else if (inline_arg) {
            values[idx] = inline_arg;
        } else if (i + 1 < *argc) {
            values[idx] = argv[++i];
        } else {
            return usage_error(cmd, "option %s needs a value", a);
        }
    }
    *argc = npos;
    if (npos < cmd->min_args)
        return usage_error(cmd, "missing argument (usage: weir %s)", cmd->name);
    if (npos > cmd->max_args)
        return usage_error(cmd, "unexpected argument '%s'", argv[cmd->max_args]);
    return CLI_OK;
}

const char *cli_data_dir(const char *option_value)
{
    if (option_value)
        return option_value;
    const char *env = getenv("WEIR_DATA");
    return env && *env ? env : "./weir-data";
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "weir %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool cli_uint_option(const cli_command *cmd, const char **values, const char *name, uint64_t max, uint64_t *out)
{
    const char *text = values[cli_index(cmd, name)];
    if (!text)
        return true;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v > max) {
        cli_error(cmd->name, "--%s: '%s' is not a whole number from 0 to %llu", name, text, (unsigned long long)max);
        return false;
    }
    *out = v;
    return true;
}

bool cli_load_pipeline(const char *cmd, const char *path, weir_arena *a, weir_catalog *cat)
{
    return cli_load_pipelines(cmd, path, NULL, a, cat);
}

bool cli_load_pipelines(const char *cmd, const char *path, const char *then, weir_arena *a, weir_catalog *cat)
{
    char *text, *more = NULL;
    size_t len, more_len = 0;
    weir_err err;
    if (weir_io_read_file(&weir_io_posix, path, &text, &len, &err) != WEIR_OK) {
        cli_error(cmd, "%s", err.msg);
        return false;
    }
    int got = then ? weir_io_read_file(&weir_io_posix, then, &more, &more_len, &err) : WEIR_ENOENT;
    char *both = got == WEIR_OK ? realloc(text, len + more_len + 2) : text;
    if (got != WEIR_OK && got != WEIR_ENOENT) {
        cli_error(cmd, "%s", err.msg);
        free(text);
        return false;
    }
    if (!both) {
        cli_error(cmd, "out of memory");
        free(text);
        free(more);
        return false;
    }
    text = both;
    if (more) { /* the statements added at runtime come after the file, on lines of their own */
        text[len++] = '\n';
        memcpy(text + len, more, more_len);
        len += more_len;
        text[len] = '\0';
        free(more);
    }
    weir_stmt **stmts;
    size_t n;
    weir_sql_error e;
    bool ok = weir_sql_parse(text, len, a, &stmts, &n, &e) == 0 && weir_catalog_build(stmts, n, a, cat, &e) == 0 &&
              weir_connectors_check(cat, a, &e) == 0;
    if (!ok)
        cli_error(cmd, "%s:%u:%u: %s", path, e.line, e.col, e.msg);
    free(text);
    return ok;
}
