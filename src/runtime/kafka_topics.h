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

#endif
