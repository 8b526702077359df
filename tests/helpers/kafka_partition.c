/*
 * kafka_partition.c - prints, for each key read from stdin (one per line),
 * the partition librdkafka's murmur2_random partitioner picks among N
 * (argv[1]): the independent oracle for weir's partitioning in shell tests.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: kafka_partition N < keys\n");
        return 2;
    }
    int n = atoi(argv[1]);
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        size_t len = strcspn(line, "\n");
        printf("%d\n", rd_kafka_msg_partitioner_murmur2_random(NULL, line, len, n, NULL, NULL));
    }
    return 0;
}
