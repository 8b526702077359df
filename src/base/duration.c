/*
 * duration.c - reading a retention duration as people write it ('7 days',
 * '1 hour', '30 minutes', a number of milliseconds, 'forever'), in one
 * place for the SQL planner's WITH (retention = ...) and serve
 * --retention, so both accept the same words and say the same thing
 * about the rest.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/duration.h"

static const struct unit {
    const char *name;
    int64_t ms;
} units[] = {
    {"ms", 1}, {"millisecond", 1}, {"milliseconds", 1},
    {"s", 1000}, {"sec", 1000}, {"second", 1000}, {"seconds", 1000},
    {"min", 60000}, {"minute", 60000}, {"minutes", 60000},
    {"h", 3600000}, {"hour", 3600000}, {"hours", 3600000},
    {"d", 86400000}, {"day", 86400000}, {"days", 86400000},
    {"week", 604800000}, {"weeks", 604800000},
};

#define ACCEPTED "a duration such as '7 days', '1 hour', '30 minutes', '90 s', a number of milliseconds, " \
                 "or 'forever' (or -1) to keep everything"

bool weir_retention_parse(const char *text, int64_t *ms, char *why, size_t cap)
{
    while (isspace((unsigned char)*text))
        text++;
    if (!strcasecmp(text, "forever") || !strcmp(text, "-1")) {
        *ms = -1;
        return true;
    }
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (end == text || errno || n <= 0 || !isdigit((unsigned char)*text)) {
        snprintf(why, cap, "'%s' is not %s", text, ACCEPTED);
        return false;
    }
    while (isspace((unsigned char)*end))
        end++;
    if (!*end) {
        *ms = n;
        return true;
    }
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcasecmp(end, units[i].name))
            continue;
        if (n > INT64_MAX / units[i].ms) {
            snprintf(why, cap, "'%s' is too long (more than 292 million years)", text);
            return false;
        }
        *ms = n * units[i].ms;
        return true;
    }
    snprintf(why, cap, "'%s' has an unknown unit '%s': it must be %s", text, end, ACCEPTED);
    return false;
}
