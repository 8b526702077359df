/*
 * weir.c - the command line: dispatches `weir COMMAND ...` to the commands
 * in src/cli/, and prints the overview for `weir --help`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command *const commands[] = {
    &cli_produce,
    &cli_consume,
    &cli_streams,
    &cli_serve,
    &cli_query,
    &cli_sql,
    &cli_replay,
    &cli_gen,
    &cli_connectors,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

#define WEIR_VERSION "0.2"
#ifndef WEIR_BUILD
#define WEIR_BUILD "unknown" /* the Makefile passes git describe */
#endif

static void overview(FILE *out)
{
    fprintf(out, "weir - a real-time event pipeline in one binary\n\nusage: weir COMMAND [options] [args]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\n'weir COMMAND --help' describes a command. Every command takes --data DIR\n"
                 "(default ./weir-data, or $WEIR_DATA). Exit codes: 0 ok, 1 failure, 2 usage.\n"
                 "'weir --version' prints the version and the build.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        overview(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("weir %s (build %s)\n", WEIR_VERSION, WEIR_BUILD);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (argc > 2)
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (!strcmp(argv[2], commands[i]->name)) {
                    cli_print_help(commands[i]);
                    return CLI_OK;
                }
        overview(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const cli_command *cmd = commands[i];
        if (strcmp(argv[1], cmd->name))
            continue;
        const char *values[CLI_MAX_OPTIONS];
        int n = argc - 2;
        int rc = cli_parse(cmd, &n, argv + 2, values);
        if (rc == -1)
            return CLI_OK;
        if (rc != CLI_OK)
            return rc;
        return cmd->run(values, n, argv + 2);
    }
    fprintf(stderr, "weir: unknown command '%s'\n\n", argv[1]);
    overview(stderr);
    return CLI_USAGE;
}
