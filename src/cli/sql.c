/*
 * sql.c - `weir sql "CREATE ..."`: applies statements to the weir serve
 * running over the data directory (POST /v1/statements, found through
 * DATA/serve.url as weir produce finds it) and prints its answer.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "cli/http_post.h"
#include "cli/produce_remote.h"
#include "json/json.h"

static const cli_option options[] = {
    {"data", 'd', "DIR", "data directory of the running weir serve (default ./weir-data or $WEIR_DATA)"},
};

static int run_sql(const char **v, int argc, char **argv);

const cli_command cli_sql = {
    .name = "sql",
    .usage = "STATEMENTS",
    .summary = "apply CREATE, CREATE OR REPLACE, INSERT INTO and DROP statements to the running weir serve",
    .description = "The statements are one group: a new query reads its inputs from their earliest retained\n"
                   "record, and the server keeps them for its next start (DATA/statements.sql).\n"
                   "Prints the server's answer: {dropped, group, sql}.",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .min_args = 1,
    .max_args = 1,
    .run = run_sql,
};

static int run_sql(const char **v, int argc, char **argv)
{
    (void)argc;
    const char *data = cli_data_dir(v[cli_index(&cli_sql, "data")]);
    char server[512], ca[4200], url[600];
    if (!serve_url_read(data, server, sizeof server, ca, sizeof ca)) {
        cli_error("sql", "no weir serve runs over %s (%s/serve.url is missing): statements are applied to a running "
                         "server; start one with `weir serve -f PIPELINE --data %s`", data, data, data);
        return CLI_FAIL;
    }
    snprintf(url, sizeof url, "%s/v1/statements", server);
    weir_buf body = {0};
    http_answer answer = {0};
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = serve_headers("application/json");
    int rc = CLI_FAIL;
    if (!curl || !headers || weir_buf_append_str(&body, "{\"sql\":") || weir_json_quote(&body, argv[0], strlen(argv[0])) ||
        weir_buf_append_str(&body, "}")) {
        cli_error("sql", "out of memory");
    } else {
        CURLcode e = http_post(curl, url, ca[0] ? ca : NULL, headers, body.data, body.len, &answer);
        if (e != CURLE_OK)
            cli_error("sql", "POST %s: %s", url, curl_easy_strerror(e));
        else if (answer.status != 200)
            cli_error("sql", "%s answered %ld: %.*s", url, answer.status, (int)answer.body.len,
                      answer.body.data ? (const char *)answer.body.data : "");
        else
            rc = printf("%.*s\n", (int)answer.body.len, (const char *)answer.body.data) < 0 ? CLI_FAIL : CLI_OK;
    }
    curl_slist_free_all(headers);
    if (curl)
        curl_easy_cleanup(curl);
    weir_buf_free(&body);
    weir_buf_free(&answer.body);
    return rc;
}
