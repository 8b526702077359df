/*
 * kafka_state.h - the task store of a scale-out group on Kafka (see
 * kafka_state.c and exec/task_store.h).
 */
#ifndef WEIR_KAFKA_STATE_H
#define WEIR_KAFKA_STATE_H

#include "exec/task_store.h"

/* Opens the store of consumer group `group` on the topic "<group>.state"
 * (created compacted if missing). instance: this process's id. With
 * exactly_once (serve --kafka-exactly-once) the store's begin, emit and
 * end are there: each task's rows and saves go in Kafka transactions
 * (kafka_state.c). */
int weir_kafka_state_open(const char *brokers, const char *group, const char *instance, const char *const *config,
                          bool exactly_once, weir_task_store **out, weir_err *err);
/* Where this process answers HTTP (claims made afterwards name it). */
void weir_kafka_state_set_address(weir_task_store *store, const char *address);
void weir_kafka_state_close(weir_task_store *store);

#endif
