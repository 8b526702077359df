/*
 * kafka_mock.c - a Kafka cluster for tests: librdkafka's mock cluster
 * (rdkafka_mock.h) with 3 brokers on loopback, serving the Kafka protocol
 * to weir and to kcat alike.
 *
 * Usage: kafka_mock FILE [TOPIC:PARTITIONS ...]
 * Creates the topics, writes the bootstrap servers to FILE (atomically,
 * once they listen) and runs until SIGTERM/SIGINT. SIGUSR1 takes every
 * broker down (connections refused: a full outage, data kept), SIGUSR2
 * brings them back, SIGHUP makes the next produce and fetch requests fail
 * with retriable errors (leader changes, timeouts, dropped connections),
 * SIGALRM makes the next produce request fail with
 * TOPIC_AUTHORIZATION_FAILED (a refusal a sink must not retry by itself).
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop, down, up, faults, refuse;
static void on_stop(int sig) { (void)sig; stop = 1; }
static void on_down(int sig) { (void)sig; down = 1; }
static void on_up(int sig) { (void)sig; up = 1; }
static void on_faults(int sig) { (void)sig; faults = 1; }
static void on_refuse(int sig) { (void)sig; refuse = 1; }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: kafka_mock FILE [TOPIC:PARTITIONS ...]\n");
        return 2;
    }
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    rd_kafka_mock_cluster_t *mc = rk ? rd_kafka_mock_cluster_new(rk, 3) : NULL;
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster: %s\n", rk ? "mock" : errstr);
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        char topic[256];
        int parts;
        if (sscanf(argv[i], "%255[^:]:%d", topic, &parts) != 2 || parts < 1 ||
            rd_kafka_mock_topic_create(mc, topic, parts, 3) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka_mock: bad topic '%s' (expected NAME:PARTITIONS)\n", argv[i]);
            return 1;
        }
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", rd_kafka_mock_cluster_bootstraps(mc)) < 0 || fclose(f) || rename(tmp, argv[1])) {
        perror("kafka_mock: bootstrap file");
        return 1;
    }
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    signal(SIGUSR1, on_down);
    signal(SIGUSR2, on_up);
    signal(SIGHUP, on_faults);
    signal(SIGALRM, on_refuse);
    while (!stop) {
        if (down) {
            down = 0;
            for (int b = 1; b <= 3; b++)
                rd_kafka_mock_broker_set_down(mc, b);
        }
        if (faults) { /* Produce is API key 0, Fetch 1 */
            faults = 0;
            rd_kafka_mock_push_request_errors(mc, 0, 6, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                              RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
                                              RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                                              RD_KAFKA_RESP_ERR__TRANSPORT);
            rd_kafka_mock_push_request_errors(mc, 1, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                              RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
        }
        if (refuse) {
            refuse = 0;
            rd_kafka_mock_push_request_errors(mc, 0, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
        }
        if (up) {
            up = 0;
            for (int b = 1; b <= 3; b++)
                rd_kafka_mock_broker_set_up(mc, b);
        }
        usleep(20000);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
