/*
 * name.h - the names weir gives things that live as files in the data
 * directory and appear unquoted in URLs: streams (and so tables), consumer
 * groups and schema subjects. One rule for all, checked where a name
 * enters (the planner, the log, the registry).
 */
#ifndef WEIR_NAME_H
#define WEIR_NAME_H

#include <stdbool.h>

/* 1..200 characters of [A-Za-z0-9._-], not starting with '.'. */
bool weir_name_valid(const char *name);

/* Whether name is one of weir's internal streams (__weir_producers): a
 * name starting with "__", as Kafka's __consumer_offsets. Listings leave
 * them out; they stay readable by name. The planner and CreateTopics
 * refuse such names for the streams they make. */
bool weir_name_internal(const char *name);

#endif
