/*
 * groups.c - consumer groups' membership, as Kafka's group coordinator
 * keeps it: JoinGroup (v0-v5), SyncGroup (v0-v3), Heartbeat (v0-v3) and
 * LeaveGroup (v0-v2), so consumers that subscribe() share a topic's
 * partitions and rebalance when one joins, leaves or goes silent.
 *
 * As in Kafka, weir assigns nothing itself: the group's leader (a client)
 * computes the assignment with the protocol all members offer (range,
 * roundrobin, cooperative-sticky ...) and weir hands each member its part.
 * A rebalance waits for every member to rejoin, up to the longest
 * rebalance timeout, then goes on without the absent; a member silent for
 * its session timeout leaves. Membership lives in memory (a restart makes
 * every consumer rejoin); committed offsets are weir's groups (api_group.c).
 * ListGroups and DescribeGroups show both: the groups with members, and
 * those that only keep committed offsets (state Empty).
 *
 * Everything here runs on the listener's thread: no locks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "kafka/proto.h"

#define MAX_MEMBERS 1024         /* per group */
#define MAX_PROTOCOLS 16         /* per member */
#define ID_CAP 128

typedef struct kproto {
    char name[64];
    weir_buf meta;
} kproto;

typedef struct kmember {
    char id[ID_CAP];
    kproto protos[MAX_PROTOCOLS];
    size_t nprotos;
    int32_t session_ms, rebalance_ms;
    int64_t seen_ms;             /* its last request */
    bool waiting_join;           /* a JoinGroup of it waits for the rebalance */
    bool joined;                 /* it rejoined in the rebalance under way (or the last) */
    weir_buf assignment;         /* what the leader gave it */
    char client_id[128];         /* as its requests say, for DescribeGroups */
    char client_host[72];        /* "/address", as Kafka shows it */
} kmember;

typedef enum { G_EMPTY, G_PREPARING, G_COMPLETING, G_STABLE } gstate;

typedef struct kgroup {
    char name[256];
    gstate state;
    int32_t generation;
    char leader[ID_CAP];
    char protocol[64];
    char protocol_type[64];
    kmember **members;
    size_t n;
    int64_t deadline_ms;         /* G_PREPARING: when it goes on without the absent */
    struct kgroup *next;
} kgroup;

struct weir_kgroups {
    kgroup *groups;
    uint64_t next_id;
};

weir_kgroups *weir_kgroups_new(void) { return calloc(1, sizeof(weir_kgroups)); }

static void member_free(kmember *m)
{
    for (size_t i = 0; i < m->nprotos; i++)
        weir_buf_free(&m->protos[i].meta);
    weir_buf_free(&m->assignment);
    free(m);
}

void weir_kgroups_free(weir_kgroups *g)
{
    if (!g)
        return;
    for (kgroup *grp = g->groups, *next; grp; grp = next) {
        next = grp->next;
        for (size_t i = 0; i < grp->n; i++)
            member_free(grp->members[i]);
        free(grp->members);
        free(grp);
    }
    free(g);
}

static kgroup *find_group(weir_kgroups *g, const char *name, bool create)
{
    for (kgroup *grp = g->groups; grp; grp = grp->next)
        if (!strcmp(grp->name, name))
            return grp;
    kgroup *grp = create ? calloc(1, sizeof *grp) : NULL;
    if (grp) {
        snprintf(grp->name, sizeof grp->name, "%s", name);
        grp->next = g->groups;
        g->groups = grp;
    }
    return grp;
}

static kmember *find_member(const kgroup *grp, const char *id)
{
    for (size_t i = 0; grp && i < grp->n; i++)
        if (!strcmp(grp->members[i]->id, id))
            return grp->members[i];
    return NULL;
}

static void start_rebalance(kgroup *grp, int64_t now)
{
    int64_t longest = 1000;
    for (size_t i = 0; i < grp->n; i++) {
        grp->members[i]->joined = grp->members[i]->waiting_join;
        grp->members[i]->assignment.len = 0;
        if (grp->members[i]->rebalance_ms > longest)
            longest = grp->members[i]->rebalance_ms;
    }
    grp->state = grp->n ? G_PREPARING : G_EMPTY;
    grp->deadline_ms = now > INT64_MAX - longest ? INT64_MAX : now + longest;
}

static void remove_member(kgroup *grp, const char *id, int64_t now)
{
    for (size_t i = 0; i < grp->n; i++)
        if (!strcmp(grp->members[i]->id, id)) {
            member_free(grp->members[i]);
            grp->members[i] = grp->members[--grp->n];
            if (!strcmp(grp->leader, id))
                grp->leader[0] = '\0';
            start_rebalance(grp, now);
            return;
        }
}

/* The first protocol of the leader's that every member offers, or NULL. */
static const char *common_protocol(const kgroup *grp, const kmember *leader)
{
    for (size_t p = 0; p < leader->nprotos; p++) {
        bool all = true;
        for (size_t i = 0; i < grp->n && all; i++) {
            bool has = false;
            for (size_t q = 0; q < grp->members[i]->nprotos && !has; q++)
                has = !strcmp(grp->members[i]->protos[q].name, leader->protos[p].name);
            all = has;
        }
        if (all)
            return leader->protos[p].name;
    }
    return NULL;
}

/* Ends a rebalance once every member rejoined or its time is up. */
static void maybe_complete(kgroup *grp, int64_t now)
{
    if (grp->state != G_PREPARING)
        return;
    bool all = true;
    for (size_t i = 0; i < grp->n; i++)
        all &= grp->members[i]->joined;
    if (!all && now < grp->deadline_ms)
        return;
    for (size_t i = 0; i < grp->n;) /* the absent leave */
        if (!grp->members[i]->joined) {
            member_free(grp->members[i]);
            grp->members[i] = grp->members[--grp->n];
        } else {
            i++;
        }
    if (grp->n == 0) {
        grp->state = G_EMPTY;
        grp->leader[0] = '\0';
        return;
    }
    const kmember *leader = find_member(grp, grp->leader);
    if (!leader)
        leader = grp->members[0];
    snprintf(grp->leader, sizeof grp->leader, "%s", leader->id);
    const char *proto = common_protocol(grp, leader);
    snprintf(grp->protocol, sizeof grp->protocol, "%s", proto ? proto : "");
    grp->generation++;
    grp->state = G_COMPLETING;
}

bool weir_kgroups_tick(weir_kgroups *g, int64_t now_ms)
{
    bool any = false;
    for (kgroup *grp = g->groups; grp; grp = grp->next) {
        for (size_t i = 0; i < grp->n;) {
            kmember *m = grp->members[i];
            if (!m->waiting_join && now_ms - m->seen_ms > m->session_ms) {
                char id[ID_CAP];
                snprintf(id, sizeof id, "%s", m->id);
                remove_member(grp, id, now_ms); /* moves the last member here */
            } else {
                i++;
            }
        }
        maybe_complete(grp, now_ms);
        any |= grp->n > 0;
    }
    return any;
}

/* ---- JoinGroup ---- */

typedef struct join_wait {
    weir_kwait base;
    weir_kgroups *groups;
    char group[256];
    char member[ID_CAP];
    int16_t version;
} join_wait;

static void join_answer(weir_kw *w, int16_t v, int16_t error, const kgroup *grp, const char *member)
{
    bool ok = error == KERR_NONE;
    if (v >= 2)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_i16(w, error);
    weir_kw_i32(w, ok ? grp->generation : -1);
    weir_kw_string(w, false, ok ? grp->protocol : "");
    weir_kw_string(w, false, ok ? grp->leader : "");
    weir_kw_string(w, false, member);
    bool leader = ok && !strcmp(grp->leader, member);
    weir_kw_array(w, false, leader ? (int32_t)grp->n : 0);
    for (size_t i = 0; leader && i < grp->n; i++) {
        const kmember *m = grp->members[i];
        weir_kw_string(w, false, m->id);
        if (v >= 5)
            weir_kw_string(w, false, NULL); /* group_instance_id */
        const weir_buf *meta = NULL;
        for (size_t p = 0; p < m->nprotos && !meta; p++)
            if (!strcmp(m->protos[p].name, grp->protocol))
                meta = &m->protos[p].meta;
        weir_kw_i32(w, meta ? (int32_t)meta->len : 0);
        if (meta)
            weir_kw_raw(w, meta->data, meta->len);
    }
}

static int join_poll(weir_kwait *wt, const weir_kctx *c, weir_kw *w, int64_t now)
{
    (void)c;
    join_wait *j = (join_wait *)wt;
    kgroup *grp = find_group(j->groups, j->group, false);
    kmember *m = find_member(grp, j->member);
    if (!m) {
        join_answer(w, j->version, KERR_UNKNOWN_MEMBER_ID, NULL, j->member);
        return 1;
    }
    m->seen_ms = now < INT64_MAX ? now : m->seen_ms;
    maybe_complete(grp, now);
    if (grp->state == G_PREPARING)
        return 0;
    m->waiting_join = false;
    join_answer(w, j->version, KERR_NONE, grp, j->member);
    return 1;
}

static void plain_free(weir_kwait *wt) { free(wt); }

/* A member's protocols, read from the request. */
static bool read_protocols(weir_kr *r, kproto *protos, size_t *n)
{
    int32_t count = weir_kr_array(r, false, false, 6, "protocols");
    if (count > MAX_PROTOCOLS)
        weir_kr_fail(r, "protocols: %d offered, weir takes at most %d", count, MAX_PROTOCOLS);
    *n = 0;
    for (int32_t i = 0; i < count && weir_kr_ok(r); i++) {
        kproto *p = &protos[(*n)++];
        weir_kafka_name(r, false, p->name, sizeof p->name, "protocol name");
        weir_kslice meta = weir_kr_bytes(r, false, false, "protocol metadata");
        p->meta.len = 0;
        if (weir_kr_ok(r) && weir_buf_append(&p->meta, meta.data, meta.len))
            weir_kr_fail(r, "out of memory");
    }
    return weir_kr_ok(r);
}

weir_kresult weir_kafka_join_group(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    weir_kr *r = &q->body;
    int16_t v = q->version;
    char group[256], member[ID_CAP], type[64];
    weir_kafka_name(r, false, group, sizeof group, "group_id");
    int32_t session = weir_kr_i32(r, "session_timeout_ms");
    int32_t rebalance = v >= 1 ? weir_kr_i32(r, "rebalance_timeout_ms") : session;
    weir_kafka_name(r, false, member, sizeof member, "member_id");
    if (v >= 5)
        weir_kr_string(r, false, true, "group_instance_id");
    weir_kafka_name(r, false, type, sizeof type, "protocol_type");
    kmember *fresh = calloc(1, sizeof *fresh);
    if (!fresh) {
        weir_kr_fail(r, "out of memory");
        return KAFKA_MALFORMED;
    }
    if (!read_protocols(r, fresh->protos, &fresh->nprotos)) {
        member_free(fresh);
        return KAFKA_MALFORMED;
    }
    kgroup *grp = c->groups ? find_group(c->groups, group, true) : NULL;
    int16_t error = !grp                                                  ? KERR_COORDINATOR_NOT_AVAILABLE
                  : !fresh->nprotos || (grp->n && strcmp(grp->protocol_type, type)) ? KERR_INCONSISTENT_GROUP_PROTOCOL
                  : grp->n >= MAX_MEMBERS && !find_member(grp, member) ? KERR_UNKNOWN_SERVER_ERROR
                                                                       : KERR_NONE;
    if (!error && !member[0]) { /* a new member: its id, which v4 and later clients must rejoin with */
        snprintf(member, sizeof member, "%.*s-%llu", (int)(q->client_id.len < 64 ? q->client_id.len : 64),
                 q->client_id.data ? (const char *)q->client_id.data : "", (unsigned long long)++c->groups->next_id);
        if (v >= 4)
            error = KERR_MEMBER_ID_REQUIRED;
    }
    join_wait *j = error ? NULL : calloc(1, sizeof *j);
    if (error || !j) {
        member_free(fresh);
        join_answer(w, v, error ? error : KERR_UNKNOWN_SERVER_ERROR, NULL, member);
        return KAFKA_ANSWER;
    }
    int64_t now = weir_wall_ms();
    kmember *m = find_member(grp, member);
    if (m) { /* a member rejoining: its protocols afresh */
        for (size_t i = 0; i < m->nprotos; i++)
            weir_buf_free(&m->protos[i].meta);
        memcpy(m->protos, fresh->protos, sizeof m->protos);
        m->nprotos = fresh->nprotos;
        fresh->nprotos = 0;
        member_free(fresh);
    } else {
        kmember **grown = realloc(grp->members, (grp->n + 1) * sizeof *grown);
        if (!grown) {
            member_free(fresh);
            free(j);
            join_answer(w, v, KERR_UNKNOWN_SERVER_ERROR, NULL, member);
            return KAFKA_ANSWER;
        }
        grp->members = grown;
        m = grp->members[grp->n++] = fresh;
        snprintf(m->id, sizeof m->id, "%s", member);
    }
    snprintf(grp->protocol_type, sizeof grp->protocol_type, "%s", type);
    snprintf(m->client_id, sizeof m->client_id, "%.*s", (int)(q->client_id.len < 127 ? q->client_id.len : 127),
             q->client_id.data ? (const char *)q->client_id.data : "");
    const char *colon = c->peer ? strrchr(c->peer, ':') : NULL;
    snprintf(m->client_host, sizeof m->client_host, "/%.*s", colon ? (int)(colon - c->peer) : 0, c->peer ? c->peer : "");
    m->session_ms = session > 0 ? session : 10000;
    m->rebalance_ms = rebalance > 0 ? rebalance : m->session_ms;
    m->seen_ms = now;
    m->waiting_join = m->joined = true;
    if (grp->state != G_PREPARING)
        start_rebalance(grp, now);
    *j = (join_wait){{join_poll, plain_free, grp->deadline_ms, false}, c->groups, "", "", v};
    snprintf(j->group, sizeof j->group, "%s", group);
    snprintf(j->member, sizeof j->member, "%s", member);
    if (join_poll(&j->base, c, w, now)) {
        free(j);
        return KAFKA_ANSWER;
    }
    *wait = &j->base;
    return KAFKA_WAIT;
}

/* ---- SyncGroup, Heartbeat, LeaveGroup ---- */

/* The error a member's request gets from the group's state, or NONE. */
static int16_t check_member(weir_kgroups *g, const char *group, const char *member, int32_t generation, kgroup **grp,
                            kmember **m, int64_t now)
{
    *grp = g ? find_group(g, group, false) : NULL;
    *m = find_member(*grp, member);
    if (!g)
        return KERR_COORDINATOR_NOT_AVAILABLE;
    if (!*m)
        return KERR_UNKNOWN_MEMBER_ID;
    (*m)->seen_ms = now;
    if ((*grp)->state == G_PREPARING)
        return KERR_REBALANCE_IN_PROGRESS;
    return generation != (*grp)->generation ? KERR_ILLEGAL_GENERATION : KERR_NONE;
}

typedef struct sync_wait {
    weir_kwait base;
    weir_kgroups *groups;
    char group[256];
    char member[ID_CAP];
    int32_t generation;
    int16_t version;
} sync_wait;

static void sync_answer(weir_kw *w, int16_t v, int16_t error, const weir_buf *assignment)
{
    if (v >= 1)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_i16(w, error);
    weir_kw_i32(w, !error && assignment ? (int32_t)assignment->len : 0);
    if (!error && assignment)
        weir_kw_raw(w, assignment->data, assignment->len);
}

static int sync_poll(weir_kwait *wt, const weir_kctx *c, weir_kw *w, int64_t now)
{
    (void)c;
    sync_wait *s = (sync_wait *)wt;
    kgroup *grp;
    kmember *m;
    int16_t error = check_member(s->groups, s->group, s->member, s->generation, &grp, &m, now < INT64_MAX ? now : 0);
    if (!error && grp->state == G_COMPLETING && now < s->base.deadline_ms)
        return 0; /* the leader has not handed out the assignment yet */
    if (!error && grp->state == G_COMPLETING)
        error = KERR_REBALANCE_IN_PROGRESS;
    sync_answer(w, s->version, error, error ? NULL : &m->assignment);
    return 1;
}

weir_kresult weir_kafka_sync_group(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    weir_kr *r = &q->body;
    char group[256], member[ID_CAP];
    weir_kafka_name(r, false, group, sizeof group, "group_id");
    int32_t generation = weir_kr_i32(r, "generation_id");
    weir_kafka_name(r, false, member, sizeof member, "member_id");
    if (q->version >= 3)
        weir_kr_string(r, false, true, "group_instance_id");
    int32_t n = weir_kr_array(r, false, false, 6, "assignments");
    const uint8_t *assignments = r->p;
    for (int32_t i = 0; i < n && weir_kr_ok(r); i++) {
        weir_kr_string(r, false, false, "assignment member_id");
        weir_kr_bytes(r, false, false, "assignment");
    }
    if (!weir_kr_ok(r))
        return KAFKA_MALFORMED;
    int64_t now = weir_wall_ms();
    kgroup *grp;
    kmember *m;
    int16_t error = check_member(c->groups, group, member, generation, &grp, &m, now);
    if (!error && grp->state == G_COMPLETING && !strcmp(grp->leader, member)) { /* the leader hands out the parts */
        weir_kr a;
        weir_kr_init(&a, assignments, (size_t)(r->p - assignments));
        for (int32_t i = 0; i < n; i++) {
            char id[ID_CAP];
            weir_kafka_name(&a, false, id, sizeof id, "assignment member_id");
            weir_kslice part = weir_kr_bytes(&a, false, false, "assignment");
            kmember *to = find_member(grp, id);
            if (to && weir_kr_ok(&a)) {
                to->assignment.len = 0;
                if (weir_buf_append(&to->assignment, part.data, part.len))
                    error = KERR_UNKNOWN_SERVER_ERROR;
            }
        }
        grp->state = error ? grp->state : G_STABLE;
    }
    sync_wait *s = error ? NULL : calloc(1, sizeof *s);
    if (!s) {
        sync_answer(w, q->version, error ? error : KERR_UNKNOWN_SERVER_ERROR, NULL);
        return KAFKA_ANSWER;
    }
    int64_t longest = m->rebalance_ms > 0 ? m->rebalance_ms : 10000;
    *s = (sync_wait){{sync_poll, plain_free, now + longest, false}, c->groups, "", "", generation, q->version};
    snprintf(s->group, sizeof s->group, "%s", group);
    snprintf(s->member, sizeof s->member, "%s", member);
    if (sync_poll(&s->base, c, w, now)) {
        free(s);
        return KAFKA_ANSWER;
    }
    *wait = &s->base;
    return KAFKA_WAIT;
}

weir_kresult weir_kafka_heartbeat(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kr *r = &q->body;
    char group[256], member[ID_CAP];
    weir_kafka_name(r, false, group, sizeof group, "group_id");
    int32_t generation = weir_kr_i32(r, "generation_id");
    weir_kafka_name(r, false, member, sizeof member, "member_id");
    if (q->version >= 3)
        weir_kr_string(r, false, true, "group_instance_id");
    if (!weir_kr_ok(r))
        return KAFKA_MALFORMED;
    kgroup *grp;
    kmember *m;
    int16_t error = check_member(c->groups, group, member, generation, &grp, &m, weir_wall_ms());
    if (q->version >= 1)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_i16(w, error);
    return KAFKA_ANSWER;
}

weir_kresult weir_kafka_leave_group(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kr *r = &q->body;
    char group[256], member[ID_CAP];
    weir_kafka_name(r, false, group, sizeof group, "group_id");
    weir_kafka_name(r, false, member, sizeof member, "member_id");
    if (!weir_kr_ok(r))
        return KAFKA_MALFORMED;
    kgroup *grp = c->groups ? find_group(c->groups, group, false) : NULL;
    bool known = find_member(grp, member) != NULL;
    if (known)
        remove_member(grp, member, weir_wall_ms());
    if (q->version >= 1)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_i16(w, !c->groups ? KERR_COORDINATOR_NOT_AVAILABLE : known ? KERR_NONE : KERR_UNKNOWN_MEMBER_ID);
    return KAFKA_ANSWER;
}

/* ---- ListGroups, DescribeGroups ---- */

static const char *state_name(const kgroup *grp)
{
    if (!grp || !grp->n)
        return "Empty";
    switch (grp->state) {
    case G_PREPARING: return "PreparingRebalance";
    case G_COMPLETING: return "CompletingRebalance";
    case G_STABLE: return "Stable";
    default: return "Empty";
    }
}

/* Whether weir keeps committed offsets of group. */
static bool has_offsets(char **names, size_t n, const char *group)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], group))
            return true;
    return false;
}

weir_kresult weir_kafka_list_groups(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    char **names = NULL;
    size_t n = 0;
    weir_err err = {0};
    int rc = weir_runtime_group_names(c->rt, &names, &n, &err);
    if (q->version >= 1)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_i16(w, rc ? weir_kafka_error_of(rc) : KERR_NONE);
    int32_t count = (int32_t)n;
    for (kgroup *grp = c->groups ? c->groups->groups : NULL; grp; grp = grp->next)
        count += grp->n && !has_offsets(names, n, grp->name);
    weir_kw_array(w, false, count);
    for (size_t i = 0; i < n; i++) { /* offsets kept: consumer groups, whether members are there or not */
        weir_kw_string(w, false, names[i]);
        weir_kw_string(w, false, "consumer");
    }
    for (kgroup *grp = c->groups ? c->groups->groups : NULL; grp; grp = grp->next)
        if (grp->n && !has_offsets(names, n, grp->name)) {
            weir_kw_string(w, false, grp->name);
            weir_kw_string(w, false, grp->protocol_type);
        }
    weir_runtime_names_free(names, n);
    return KAFKA_ANSWER;
}

/* The member's metadata for the protocol its group chose. */
static const weir_buf *chosen_meta(const kgroup *grp, const kmember *m)
{
    for (size_t i = 0; i < m->nprotos; i++)
        if (!strcmp(m->protos[i].name, grp->protocol))
            return &m->protos[i].meta;
    return NULL;
}

static void describe_group(const weir_kctx *c, int16_t v, const char *name, char **names, size_t n, weir_kw *w)
{
    const kgroup *grp = c->groups ? find_group(c->groups, name, false) : NULL;
    bool live = grp && grp->n;
    weir_kw_i16(w, c->groups ? KERR_NONE : KERR_COORDINATOR_NOT_AVAILABLE);
    weir_kw_string(w, false, name);
    /* A group weir knows nothing of is Dead, as Kafka answers it. */
    weir_kw_string(w, false, live || has_offsets(names, n, name) ? state_name(grp) : "Dead");
    weir_kw_string(w, false, live ? grp->protocol_type : has_offsets(names, n, name) ? "consumer" : "");
    weir_kw_string(w, false, live && grp->state == G_STABLE ? grp->protocol : "");
    weir_kw_array(w, false, live ? (int32_t)grp->n : 0);
    for (size_t i = 0; live && i < grp->n; i++) {
        const kmember *m = grp->members[i];
        const weir_buf *meta = chosen_meta(grp, m);
        weir_kw_string(w, false, m->id);
        if (v >= 4)
            weir_kw_string(w, false, NULL); /* group_instance_id: static membership is not kept */
        weir_kw_string(w, false, m->client_id);
        weir_kw_string(w, false, m->client_host);
        weir_kw_i32(w, meta ? (int32_t)meta->len : 0);
        if (meta)
            weir_kw_raw(w, meta->data, meta->len);
        weir_kw_i32(w, grp->state == G_STABLE ? (int32_t)m->assignment.len : 0);
        if (grp->state == G_STABLE)
            weir_kw_raw(w, m->assignment.data, m->assignment.len);
    }
    if (v >= 3)
        weir_kw_i32(w, INT32_MIN); /* authorized_operations: not asked for, or no ACLs */
}

weir_kresult weir_kafka_describe_groups(const weir_kctx *c, weir_kreq *q, weir_kw *w, weir_kwait **wait)
{
    (void)wait;
    weir_kr *r = &q->body;
    int32_t ng = weir_kr_array(r, false, false, 2, "groups");
    char (*groups)[256] = calloc(ng > 0 ? (size_t)ng : 1, sizeof *groups);
    if (!groups) {
        weir_kr_fail(r, "out of memory");
        return KAFKA_MALFORMED;
    }
    for (int32_t i = 0; i < ng && weir_kr_ok(r); i++)
        weir_kafka_name(r, false, groups[i], sizeof groups[i], "group id");
    if (q->version >= 3)
        weir_kr_i8(r, "include_authorized_operations");
    if (!weir_kr_ok(r)) {
        free(groups);
        return KAFKA_MALFORMED;
    }
    char **names = NULL;
    size_t n = 0;
    weir_err err = {0};
    if (weir_runtime_group_names(c->rt, &names, &n, &err))
        n = 0; /* groups with offsets are then not told apart from unknown ones */
    if (q->version >= 1)
        weir_kw_i32(w, 0); /* throttle_time_ms */
    weir_kw_array(w, false, ng);
    for (int32_t i = 0; i < ng; i++)
        describe_group(c, q->version, groups[i], names, n, w);
    weir_runtime_names_free(names, n);
    free(groups);
    return KAFKA_ANSWER;
}
