/*
 * streams.c - `weir streams`: lists the streams of a data directory with
 * their partitions, offsets and sizes, but for weir's internal ones
 * (base/name.h). Read-only, so it runs beside a writer.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "log/log.h"

static const cli_option options[] = {
    {"data", 'd', "DIR", "data directory (default ./weir-data or $WEIR_DATA)"},
    {"json", 'j', NULL, "print one JSON object per stream instead of a table"},
};

static int run_streams(const char **v, int argc, char **argv);

const cli_command cli_streams = {
    .name = "streams",
    .usage = "",
    .summary = "list streams with their partitions, offsets and bytes",
    .description = "RECORDS counts retained records (end - start offset, summed over partitions);\n"
                   "OFFSETS gives start-end per partition.",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .min_args = 0,
    .max_args = 0,
    .run = run_streams,
};

static int show(weir_log *log, const char *name, bool json, weir_err *err)
{
    weir_stream *s;
    int rc = weir_stream_open(log, name, &s, err);
    if (rc)
        return rc;
    uint32_t n = weir_stream_get_config(s)->partitions;
    weir_partition_stats *st = calloc(n, sizeof *st);
    if (!st)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    uint64_t records = 0, bytes = 0;
    for (uint32_t p = 0; p < n && rc == WEIR_OK; p++) {
        rc = weir_stream_partition_stats(s, p, &st[p], err);
        records += st[p].end_offset - st[p].start_offset;
        bytes += st[p].bytes;
    }
    if (rc == WEIR_OK) {
        if (json)
            printf("{\"stream\":\"%s\",\"partitions\":%u,\"records\":%llu,\"bytes\":%llu,\"offsets\":[", name, n,
                   (unsigned long long)records, (unsigned long long)bytes);
        else
            printf("%-32s %10u %12llu %14llu  ", name, n, (unsigned long long)records, (unsigned long long)bytes);
        for (uint32_t p = 0; p < n; p++) {
            if (json)
                printf("%s{\"start\":%llu,\"end\":%llu}", p ? "," : "", (unsigned long long)st[p].start_offset,
                       (unsigned long long)st[p].end_offset);
            else
                printf("%s%u:%llu-%llu", p ? " " : "", p, (unsigned long long)st[p].start_offset,
                       (unsigned long long)st[p].end_offset);
        }
        printf(json ? "]}\n" : "\n");
    }
    free(st);
    return rc;
}

static int run_streams(const char **v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    bool json = v[cli_index(&cli_streams, "json")] != NULL;
    weir_log_options lo = {.read_only = true};
    weir_log *log;
    weir_err err = {0};
    char **names = NULL;
    size_t n = 0;
    if (weir_log_open(cli_data_dir(v[cli_index(&cli_streams, "data")]), &lo, &log, &err) != WEIR_OK) {
        cli_error("streams", "%s", err.msg);
        return CLI_FAIL;
    }
    int rc = weir_log_list_streams(log, &names, &n, &err);
    if (rc == WEIR_OK && !json)
        printf("%-32s %10s %12s %14s  %s\n", "STREAM", "PARTITIONS", "RECORDS", "BYTES", "OFFSETS");
    for (size_t i = 0; i < n && rc == WEIR_OK; i++)
        if (!weir_name_internal(names[i])) /* weir's own, such as __weir_producers */
            rc = show(log, names[i], json, &err);
    if (rc != WEIR_OK)
        cli_error("streams", "%s", err.msg);
    weir_names_free(names, n);
    weir_log_close(log, NULL);
    return rc == WEIR_OK ? CLI_OK : CLI_FAIL;
}
