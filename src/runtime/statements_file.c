/*
 * statements_file.c - reading and writing DATA/statements.sql (see
 * statements_file.h).
 */
#include "runtime/statements_file.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARK "-- statement "
#define NEXT "-- next statement s"

void weir_statements_free(added_group *g, int n)
{
    for (int i = 0; g && i < n; i++) {
        free(g[i].name);
        free(g[i].sql);
    }
    free(g);
}

/* Whether the line at p (up to end) is blank or a comment. */
static bool blank_or_comment(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p == end || (end - p >= 2 && p[0] == '-' && p[1] == '-');
}

int weir_statements_parse(const char *text, size_t len, added_group **out, int *n, unsigned *next, weir_err *err)
{
    *out = NULL;
    *n = 0;
    *next = 1;
    int cap = 0;
    const char *p = text, *end = text + len;
    const size_t mark = strlen(MARK);
    unsigned line = 1;
    while (p < end && ((size_t)(end - p) < mark || memcmp(p, MARK, mark))) { /* a header of comments and blank lines */
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        unsigned long taken;
        char tail;
        if ((size_t)(end - p) > strlen(NEXT) && !memcmp(p, NEXT, strlen(NEXT)) &&
            sscanf(p + strlen(NEXT), "%9lu%c", &taken, &tail) == 2 && tail == '\n' && taken > 0)
            *next = (unsigned)taken; /* names once given are never given again */
        if (!blank_or_comment(p, eol ? eol : end))
            return weir_err_set(err, WEIR_ECORRUPT, "line %u: text before the first '%s<name>' line", line, MARK);
        p = eol ? eol + 1 : end;
        line++;
    }
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *name = p + mark;
        const char *name_end = eol ? eol : end, *body = eol ? eol + 1 : end;
        unsigned long id = 0;
        size_t nlen = (size_t)(name_end - name);
        bool ok = nlen >= 2 && nlen <= 11 && name[0] == 's';
        for (size_t i = 1; ok && i < nlen; i++) {
            ok = name[i] >= '0' && name[i] <= '9';
            id = id * 10 + (unsigned long)(name[i] - '0');
        }
        if (!ok || id == 0 || id >= 1000000000ul)
            return weir_err_set(err, WEIR_ECORRUPT, "line %u: '%s' must be followed by a group's name, s1 to s999999999",
                                line, MARK);
        for (int i = 0; i < *n; i++)
            if (strlen((*out)[i].name) == nlen && !memcmp((*out)[i].name, name, nlen))
                return weir_err_set(err, WEIR_ECORRUPT, "line %u: group %.*s appears twice", line, (int)nlen, name);
        const char *found = body < end ? memmem(body, (size_t)(end - body), "\n" MARK, mark + 1) : NULL;
        const char *stop = found ? found + 1 : end;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            added_group *g = realloc(*out, (size_t)cap * sizeof *g);
            if (!g)
                return weir_err_set(err, WEIR_ENOMEM, "out of memory");
            *out = g;
        }
        added_group *g = &(*out)[(*n)++];
        g->len = (size_t)(stop - body);
        g->name = strndup(name, nlen);
        g->sql = malloc(g->len + 1);
        if (!g->name || !g->sql)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        memcpy(g->sql, body, g->len);
        g->sql[g->len] = '\0';
        *next = id + 1 > *next ? (unsigned)id + 1 : *next;
        for (const char *c = p; c < stop; c++)
            line += *c == '\n';
        p = stop;
    }
    return WEIR_OK;
}

int weir_statements_format(const added_group *g, int n, unsigned next, weir_buf *out)
{
    int rc = weir_buf_append_str(out, "-- weir: statements added at runtime (POST /v1/statements, weir sql), applied "
                                      "after the pipeline file; DROP them there rather than editing this file\n") ||
             weir_buf_printf(out, NEXT "%u\n", next);
    for (int i = 0; i < n && !rc; i++)
        rc = weir_buf_printf(out, MARK "%s\n", g[i].name) || weir_buf_append(out, g[i].sql, g[i].len) ||
             (g[i].len && g[i].sql[g[i].len - 1] != '\n' && weir_buf_append_str(out, "\n"));
    return rc ? -1 : 0;
}
