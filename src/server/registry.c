/*
 * registry.c - the schema registry on disk (see registry.h).
 */
#include "server/registry.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Appends a compiled version (takes text). */
static int push_version(subject *s, char *text, size_t len, weir_err *err)
{
    weir_jschema *js;
    int rc = weir_jschema_compile(text, len, &js, err);
    if (rc)
        return rc;
    schema_version *grown = realloc(s->versions, (size_t)(s->n + 1) * sizeof *grown);
    if (!grown) {
        weir_jschema_free(js);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    s->versions = grown;
    s->versions[s->n++] = (schema_version){text, len, js};
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
        if (rc == WEIR_OK && (rc = push_version(s, text, len, err)))
            free(text);
        if (rc)
            return weir_err_wrap(err, "%s", path);
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
        if (e->d_name[0] != '.' && weir_stream_name_valid(e->d_name))
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
    free(r);
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
    if (!weir_stream_name_valid(name))
        return weir_err_set(err, WEIR_EINVAL, "'%s' cannot name a subject: use letters, digits, '.', '_' and '-'", name);
    subject *s = find(r, name);
    if (s && s->n && s->versions[s->n - 1].len == len && !memcmp(s->versions[s->n - 1].text, text, len)) {
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
    weir_jschema_free(js);
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", r->dir, name);
    char *copy = malloc(len + 1);
    if (!copy)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';
    if ((rc = weir_mkdirs(path, err))) {
        free(copy);
        return rc;
    }
    snprintf(path, sizeof path, "%s/%s/%d.json", r->dir, name, s ? s->n + 1 : 1);
    if ((rc = weir_io_write_file_atomic(&weir_io_posix, path, copy, len, err))) {
        free(copy);
        return rc;
    }
    if (!s && !(s = add_subject(r, name))) {
        free(copy);
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    if ((rc = push_version(s, copy, len, err))) {
        free(copy);
        return rc;
    }
    *version = s->n;
    *created = true;
    return WEIR_OK;
}
