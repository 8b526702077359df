/*
 * name.c - the rule for names of streams, groups and subjects (see name.h).
 */
#include "base/name.h"

#include <string.h>

bool weir_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 200 || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}

bool weir_name_internal(const char *name)
{
    return name[0] == '_' && name[1] == '_';
}
