/*
 * kafka_topics.h - which streams the pipeline defines, for the files of
 * src/runtime that serve a wire protocol (kafka_topics.c).
 */
#ifndef WEIR_RUNTIME_KAFKA_TOPICS_H
#define WEIR_RUNTIME_KAFKA_TOPICS_H

#include <stdbool.h>

#include "runtime/runtime_internal.h"

/* Whether the pipeline defines name: one of its relations, or the dead
 * letters of one. Any thread. */
bool runtime_of_pipeline(const weir_runtime *s, const char *name);

/* Deletes the topics s->drops lists (weir_runtime_delete_topic), each
 * answered; on the pipeline thread while no request is inside the
 * runtime (statements.c shuts the gate). */
void runtime_drop_topics(weir_runtime *s);
/* Answers the topics still to delete 503-like (EIO: weir stops). */
void runtime_refuse_drops(weir_runtime *s);

#endif
