/*
 * hash.h - hashes whose exact values are part of weir's contract.
 *
 * weir_murmur2 is Kafka's murmur2 (the Java client's Utils.murmur2, seed
 * 0x9747b28c), and weir_partition_for_key is its default partitioner:
 * (murmur2(key) & 0x7fffffff) % partitions. librdkafka's "murmur2_random"
 * partitioner computes the same for non-null keys, so a stream moved from
 * the embedded log to Kafka keeps every key on the same partition.
 */
#ifndef WEIR_HASH_H
#define WEIR_HASH_H

#include <stddef.h>
#include <stdint.h>

uint32_t weir_murmur2(const void *key, size_t len);

/* Partition of a non-null key among n (> 0) partitions, as Kafka chooses it. */
uint32_t weir_partition_for_key(const void *key, size_t len, uint32_t n);

/* Where a stream keyed by some fields puts a record that has none of them
 * (or only nulls): one partition, the empty key's, so that the one group
 * such records make (GROUP BY a NULL key) is whole in one partition's
 * state, as a key's is. Kafka would spread them; weir's ingest does not. */
uint32_t weir_partition_for_no_key(uint32_t n);

#endif
