/*
 * cli.h - what the weir commands share: a declarative option table per
 * command (from which --help is printed), the data directory convention,
 * error reporting and exit codes.
 *
 * Exit codes: 0 success, 1 failure (bad input, I/O), 2 usage error.
 */
#ifndef WEIR_CLI_H
#define WEIR_CLI_H

#include <stdbool.h>
#include <stdint.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

typedef struct cli_option {
    const char *name;    /* long name, used as --name */
    char short_name;     /* 0 if none */
    const char *arg;     /* argument placeholder ("DIR"), NULL for a flag */
    const char *help;    /* one line; mention the default */
} cli_option;

typedef struct cli_command {
    const char *name;
    const char *usage;   /* after "weir NAME ": "STREAM [FILE]" */
    const char *summary; /* one line for `weir --help` */
    const char *description; /* paragraph for `weir NAME --help`, may be NULL */
    const cli_option *options;
    int noptions;
    int min_args, max_args; /* positional arguments */
    int (*run)(const char **values, int argc, char **argv);
} cli_command;

/* The most options a command has: the size of the values cli_parse fills. */
#define CLI_MAX_OPTIONS 64

/* Parses argv against cmd's options: values[i] gets option i's argument
 * ("1" for a flag) or NULL; positional arguments are left in argv[0..*argc).
 * Returns CLI_OK, CLI_USAGE after printing the problem, or -1 when --help
 * was printed. */
int cli_parse(const cli_command *cmd, int *argc, char **argv, const char **values);
void cli_print_help(const cli_command *cmd);

/* Index of option `name` in cmd's table (a programming error if absent). */
int cli_index(const cli_command *cmd, const char *name);

/* The data directory: --data, else $WEIR_DATA, else ./weir-data. */
const char *cli_data_dir(const char *option_value);

/* Prints "weir CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* If option `name` was given, parses it into *out (left as it was
 * otherwise). False, after printing why, if it is not a whole number from
 * 0 to max. */
bool cli_uint_option(const cli_command *cmd, const char **values, const char *name, uint64_t max, uint64_t *out);

/* Reads and plans a pipeline file into arena a, its sinks' WITH options
 * checked against their connectors' tables; on error prints
 * "weir CMD: FILE:LINE:COL: message" and returns false. */
struct weir_catalog;
struct weir_arena;
bool cli_load_pipeline(const char *cmd, const char *path, struct weir_arena *a, struct weir_catalog *cat);
/* The same with the text of file `then` after path's, when it exists
 * (a data directory's statements added at runtime after its pipeline);
 * line numbers in errors count from path's start. */
bool cli_load_pipelines(const char *cmd, const char *path, const char *then, struct weir_arena *a,
                        struct weir_catalog *cat);

extern const cli_command cli_produce, cli_consume, cli_streams, cli_replay, cli_serve, cli_query, cli_sql, cli_gen,
    cli_connectors;

#endif
