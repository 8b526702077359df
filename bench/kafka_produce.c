/*
 * kafka_produce.c (bench) - a librdkafka producer as fast as librdkafka
 * goes, for bench/kafka_listen.sh: kcat reads its records from stdin line
 * by line and sets the pace itself (about 200k records/s here), which
 * hides the server's. N records of 100 bytes (a JSON object, as the
 * script's file holds) made in memory, no key, acks=all, linger.ms=5, to
 * every partition of the topic; waits until each is acknowledged.
 * Usage: kafka_produce BOOTSTRAP TOPIC N. Prints "records/s" on stdout;
 * exits 1 if any record failed.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err && failed++ == 0)
        fprintf(stderr, "kafka_produce: %s\n", rd_kafka_err2str(m->err));
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: kafka_produce BOOTSTRAP TOPIC N\n");
        return 2;
    }
    long n = atol(argv[3]);
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[][2] = {{"bootstrap.servers", argv[1]}, {"acks", "all"}, {"linger.ms", "5"},
                              {"queue.buffering.max.messages", "2000000"},
                              {"queue.buffering.max.kbytes", "2097151"}, {"batch.num.messages", "100000"}};
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "kafka_produce: %s\n", err);
            return 2;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_produce: %s\n", err);
        return 2;
    }
    char pad[100];
    memset(pad, 'x', sizeof pad);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 1; i <= n; i++) {
        char v[128];
        int len = snprintf(v, sizeof v, "{\"id\":%ld,\"pad\":\"%.*s\"}", i, 82 - snprintf(NULL, 0, "%ld", i) + 1, pad);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_VALUE(v, (size_t)len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (e) {
            fprintf(stderr, "kafka_produce: %s\n", rd_kafka_err2str(e));
            rd_kafka_destroy(rk);
            return 1;
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    while (rd_kafka_outq_len(rk) > 0)
        rd_kafka_poll(rk, 50);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rd_kafka_destroy(rk);
    printf("%.0f\n", (double)n / ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9));
    return failed ? 1 : 0;
}
