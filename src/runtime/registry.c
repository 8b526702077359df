/*
 * registry.c - the schema registry on disk (see registry.h).
 *
 * Every version in memory has a compiled schema: a saved version that no
 * longer compiles (an older weir accepted what this one refuses, such as
 * a pattern over the limits of json/schema.h) is kept as an unusable
 * schema that refuses every record, and a warning names it. Skipping it
 * instead would make the previous version the latest and let through
 * records the operator meant to refuse; failing the start would take
 * every stream down for one subject.
 */
#include "runtime/registry.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/io.h"
#include "log/log.h"

typedef struct schema_version {
    char *text;
    size_t len;
    weir_jschema *schema;
} schema_version;

typedef struct subject {
    char *name;
    schema_version *versions;         /* [0] is version 1 */
    int n;
} subject;

struct weir_registry {
    char dir[PATH_MAX];
    subject *subjects;         /* sorted by name */
    int n;
    weir_buf warnings;         /* a line per saved version that did not compile (weir_buf_printf keeps a NUL after it) */
};

static subject *find(const weir_registry *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->subjects[i].name, name))
            return &r->subjects[i];
    return NULL;
}

static subject *add_subject(weir_registry *r, const char *name)
{
    subject *grown = realloc(r->subjects, (size_t)(r->n + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    r->subjects = grown;
    int at = 0;
    while (at < r->n && strcmp(r->subjects[at].name, name) < 0)
        at++;
    memmove(&r->subjects[at + 1], &r->subjects[at], (size_t)(r->n - at) * sizeof *grown);
    subject *s = &r->subjects[at];
    *s = (subject){strdup(name), NULL, 0};
    if (!s->name) {
        memmove(&r->subjects[at], &r->subjects[at + 1], (size_t)(r->n - at) * sizeof *grown);
        return NULL;
    }
    r->n++;
    return s;
}

/* Appends a version; it owns text and js once this succeeds. */
static int push_version(subject *s, char *text, size_t len, weir_jschema *js, weir_err *err)
{
    schema_version *grown = realloc(s->versions, (size_t)(s->n + 1) * sizeof *grown);
    if (!grown)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    s->versions = grown;
    s->versions[s->n++] = (schema_version){text, len, js};
    return WEIR_OK;
}

/* A saved version that does not compile: the schema that stands for it
 * (refusing every record, quoting why) and a line in the warnings. */
static int unusable(weir_registry *r, const char *path, const char *name, int v, const char *why, weir_jschema **js,
                    weir_err *err)
{
    char msg[800]; /* short first: a violation's message keeps 200 bytes */
    snprintf(msg, sizeof msg, "version %d of schema subject %s cannot be compiled by this weir: %s", v, name, why);
    if (!(*js = weir_jschema_unusable(msg)) ||
        weir_buf_printf(&r->warnings, "%s (%s); its records are refused until a new version is registered\n", msg, path)) {
        weir_jschema_free(*js);
        *js = NULL;
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    return WEIR_OK;
}

static int load_subject(weir_registry *r, const char *name, weir_err *err)
{
    subject *s = add_subject(r, name);
    if (!s)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (int v = 1;; v++) { /* versions are 1..n without gaps */
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s/%d.json", r->dir, name, v);
        char *text;
        size_t len;
        int rc = weir_io_read_file(&weir_io_posix, path, &text, &len, err);
        if (rc == WEIR_ENOENT)
            return WEIR_OK;
        if (rc)
            return weir_err_wrap(err, "%s", path);
        weir_jschema *js;
        weir_err why = {0};
        if (weir_jschema_compile(text, len, &js, &why) == WEIR_ENOMEM)
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
        else if (!js)
            rc = unusable(r, path, name, v, why.msg, &js, err);
        if (rc == WEIR_OK && (rc = push_version(s, text, len, js, err)))
            weir_jschema_free(js);
        if (rc) {
            free(text);
            return weir_err_wrap(err, "%s", path);
        }
    }
}

int weir_registry_open(const char *dir, weir_registry **out, weir_err *err)
{
    *out = NULL;
    weir_registry *r = calloc(1, sizeof *r);
    if (!r)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    int rc = weir_mkdirs(dir, err);
    DIR *d = rc ? NULL : opendir(dir);
    if (!rc && !d)
        rc = weir_err_errno(err, errno, "opendir %s", dir);
    for (struct dirent *e; !rc && d && (e = readdir(d));)
        if (e->d_name[0] != '.' && weir_name_valid(e->d_name))
            rc = load_subject(r, e->d_name, err);
    if (d)
        closedir(d);
    if (rc) {
        weir_registry_free(r);
        return rc;
    }
    *out = r;
    return WEIR_OK;
}

void weir_registry_free(weir_registry *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n; i++) {
        for (int v = 0; v < r->subjects[i].n; v++) {
            free(r->subjects[i].versions[v].text);
            weir_jschema_free(r->subjects[i].versions[v].schema);
        }
        free(r->subjects[i].versions);
        free(r->subjects[i].name);
    }
    free(r->subjects);
    weir_buf_free(&r->warnings);
    free(r);
}

const char *weir_registry_warnings(const weir_registry *r)
{
    return r->warnings.len ? (const char *)r->warnings.data : "";
}

int weir_registry_count(const weir_registry *r) { return r->n; }

const char *weir_registry_subject(const weir_registry *r, int i, int *versions)
{
    *versions = r->subjects[i].n;
    return r->subjects[i].name;
}

const char *weir_registry_get(const weir_registry *r, const char *name, int v, int *version_out,
                              const weir_jschema **compiled)
{
    subject *s = find(r, name);
    if (!s || v < 0 || v > s->n || s->n == 0)
        return NULL;
    if (v == 0)
        v = s->n;
    if (version_out)
        *version_out = v;
    if (compiled)
        *compiled = s->versions[v - 1].schema;
    return s->versions[v - 1].text;
}

int weir_registry_add(weir_registry *r, const char *name, const char *text, size_t len, int *version, bool *created,
                      weir_err *err)
{
    *created = false;
    if (!weir_name_valid(name))
        return weir_err_set(err, WEIR_EINVAL, "'%s' cannot name a subject: use letters, digits, '.', '_' and '-'", name);
    subject *s = find(r, name);
    if (s && s->n && s->versions[s->n - 1].len == len && !memcmp(s->versions[s->n - 1].text, text, len) &&
        weir_jschema_usable(s->versions[s->n - 1].schema)) {
        *version = s->n;
        return WEIR_OK;
    }
    weir_jschema *js;
    int rc = weir_jschema_compile(text, len, &js, err);
    if (rc)
        return rc;
    char why[300];
    if (s && s->n && !weir_jschema_compatible(s->versions[s->n - 1].schema, js, why, sizeof why)) {
        weir_jschema_free(js);
        return weir_err_set(err, WEIR_EEXIST, "not backward compatible with version %d of %s: %s", s->n, name, why);
    }
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", r->dir, name);
    char *copy = malloc(len + 1);
    if (!copy) {
        weir_jschema_free(js);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (!(rc = weir_mkdirs(path, err))) {
        snprintf(path, sizeof path, "%s/%s/%d.json", r->dir, name, s ? s->n + 1 : 1);
        rc = weir_io_write_file_atomic(&weir_io_posix, path, copy, len, err);
    }
    if (!rc && !s && !(s = add_subject(r, name)))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (!rc)
        rc = push_version(s, copy, len, js, err);
    if (rc) {
        weir_jschema_free(js);
        free(copy);
        return rc;
    }
    *version = s->n;
    *created = true;
    return WEIR_OK;
}
