/*
 * sink.c - the table of sink connectors and what they share.
 */
#include "conn/sink.h"

#include <string.h>

static const weir_sink_connector *const connectors[] = {&weir_sink_file, &weir_sink_kafka, &weir_sink_clickhouse};

const weir_sink_connector *weir_sink_connector_find(const char *name)
{
    for (size_t i = 0; i < sizeof connectors / sizeof *connectors; i++)
        if (!strcmp(connectors[i]->name, name))
            return connectors[i];
    return NULL;
}

const char *weir_sink_connector_names(void) { return "file, kafka, clickhouse"; }

const char *weir_sink_text_option(const weir_sink_config *cfg, const char *name, const char *dflt, weir_err *err)
{
    const weir_with_option *o = weir_stmt_option(cfg->decl, name);
    if (o && o->value.type == WEIR_TYPE_TEXT)
        return o->value.s;
    if (o)
        weir_err_set(err, WEIR_EINVAL, "sink %s: option %s must be a string", cfg->decl->name, name);
    else if (!dflt)
        weir_err_set(err, WEIR_EINVAL, "sink %s: option %s is required", cfg->decl->name, name);
    return o ? NULL : dflt;
}
