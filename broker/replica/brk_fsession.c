/*
 * brk_fsession.c - the leader's fetch session cache (brk_fsession.h).
 *
 * Invariants: a live session has a non-zero id unique in the cache and an
 * epoch in [1, INT32_MAX]; a session's partitions are unique by (topic id,
 * partition).  Linear scans: the slots are few (Kafka's default is 1000) and a
 * session lists one leader's partitions for one fetcher.
 */
#include "broker/replica/brk_fsession.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int brk_fsession_cache_init(struct brk_fsession_cache *c, int32_t slot_count, uint32_t seed)
{
    memset(c, 0, sizeof *c);
    if (slot_count > 0) {
        c->slots = calloc((size_t)slot_count, sizeof *c->slots);
        if (c->slots == NULL)
            return -ENOMEM;
    }
    c->slot_count = slot_count;
    c->next_id = seed;
    return 0;
}

static void session_clear(struct brk_fsession *s)
{
    free(s->parts);
    memset(s, 0, sizeof *s);
}

void brk_fsession_cache_deinit(struct brk_fsession_cache *c)
{
    for (int32_t i = 0; i < c->slot_count; i++)
        session_clear(&c->slots[i]);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

struct brk_fsession *brk_fsession_find(struct brk_fsession_cache *c, int32_t session_id)
{
    if (session_id == 0)
        return NULL;
    for (int32_t i = 0; i < c->slot_count; i++)
        if (c->slots[i].id == session_id)
            return &c->slots[i];
    return NULL;
}

void brk_fsession_remove(struct brk_fsession_cache *c, int32_t session_id)
{
    struct brk_fsession *s = brk_fsession_find(c, session_id);
    if (s != NULL)
        session_clear(s);
}

int32_t brk_fsession_count(const struct brk_fsession_cache *c)
{
    int32_t n = 0;
    for (int32_t i = 0; i < c->slot_count; i++)
        n += c->slots[i].id != 0;
    return n;
}

static int32_t epoch_next(int32_t epoch)
{
    return epoch == INT32_MAX ? 1 : epoch + 1;
}

/* A slot for a new session: free, else an eviction (header comment). */
static struct brk_fsession *slot_take(struct brk_fsession_cache *c, bool privileged, int64_t now_ns)
{
    struct brk_fsession *idle = NULL, *consumer = NULL;
    for (int32_t i = 0; i < c->slot_count; i++) {
        struct brk_fsession *s = &c->slots[i];
        if (s->id == 0)
            return s;
        if (now_ns - s->used_ns >= BRK_FSESSION_EVICT_IDLE_NS && (idle == NULL || s->used_ns < idle->used_ns))
            idle = s;
        if (!s->privileged && (consumer == NULL || s->used_ns < consumer->used_ns))
            consumer = s;
    }
    struct brk_fsession *victim = idle != NULL ? idle : privileged ? consumer : NULL;
    if (victim != NULL)
        session_clear(victim);
    return victim;
}

static int32_t id_next(struct brk_fsession_cache *c)
{
    for (;;) {
        c->next_id = c->next_id * 1103515245u + 12345u; /* any walk over the ids; 0 and ids in use skipped */
        int32_t id = (int32_t)(c->next_id & 0x7fffffffu);
        if (id != 0 && brk_fsession_find(c, id) == NULL)
            return id;
    }
}

int16_t brk_fsession_open(struct brk_fsession_cache *c, int32_t session_id, int32_t epoch, bool privileged,
                          int64_t now_ns, struct brk_fsession **out)
{
    *out = NULL;
    if (epoch == -1 || epoch == 0) {
        brk_fsession_remove(c, session_id);
        if (epoch == -1)
            return 0;
        struct brk_fsession *s = slot_take(c, privileged, now_ns);
        if (s == NULL)
            return 0; /* no room: sessionless */
        s->id = id_next(c);
        s->epoch = 1;
        s->privileged = privileged;
        s->used_ns = now_ns;
        *out = s;
        return 0;
    }
    struct brk_fsession *s = brk_fsession_find(c, session_id);
    if (s == NULL || epoch < 0)
        return BRK_FSESSION_KERR_ID_NOT_FOUND;
    if (s->epoch != epoch)
        return BRK_FSESSION_KERR_INVALID_EPOCH;
    s->epoch = epoch_next(epoch);
    s->used_ns = now_ns;
    *out = s;
    return 0;
}

struct brk_fsession_part *brk_fsession_part_find(struct brk_fsession *s, const uint8_t topic_id[16],
                                                 int32_t partition)
{
    for (int32_t i = 0; i < s->part_count; i++)
        if (s->parts[i].partition == partition && memcmp(s->parts[i].topic_id, topic_id, 16) == 0)
            return &s->parts[i];
    return NULL;
}

int brk_fsession_part_set(struct brk_fsession *s, const struct brk_fsession_part *p)
{
    ASSERT(s->id != 0);
    struct brk_fsession_part *have = brk_fsession_part_find(s, p->topic_id, p->partition);
    if (have != NULL) {
        int64_t hw = have->sent_hw, ls = have->sent_log_start;
        *have = *p;
        have->sent_hw = hw;
        have->sent_log_start = ls;
        return 0;
    }
    if (s->part_count == s->part_cap) {
        int32_t cap = s->part_cap ? s->part_cap * 2 : 8;
        struct brk_fsession_part *np = realloc(s->parts, (size_t)cap * sizeof *np);
        if (np == NULL)
            return -ENOMEM;
        s->parts = np;
        s->part_cap = cap;
    }
    /* after the topic's last partition, so the session stays grouped by
     * topic and a fetch names it topic by topic in one pass */
    int32_t at = s->part_count;
    for (int32_t i = s->part_count - 1; i >= 0; i--)
        if (memcmp(s->parts[i].topic_id, p->topic_id, 16) == 0) {
            at = i + 1;
            break;
        }
    memmove(&s->parts[at + 1], &s->parts[at], (size_t)(s->part_count - at) * sizeof *s->parts);
    s->part_count++;
    struct brk_fsession_part *n = &s->parts[at];
    *n = *p;
    n->sent_hw = BRK_FSESSION_NEVER_SENT;
    n->sent_log_start = BRK_FSESSION_NEVER_SENT;
    return 0;
}

void brk_fsession_part_forget(struct brk_fsession *s, const uint8_t topic_id[16], int32_t partition)
{
    struct brk_fsession_part *p = brk_fsession_part_find(s, topic_id, partition);
    if (p == NULL)
        return;
    size_t i = (size_t)(p - s->parts);
    memmove(p, p + 1, ((size_t)s->part_count - i - 1) * sizeof *p); /* keeps the topic grouping */
    s->part_count--;
}

bool brk_fsession_part_news(struct brk_fsession_part *p, int64_t hw, int64_t log_start, bool records_or_error)
{
    bool news = records_or_error || p->sent_hw != hw || p->sent_log_start != log_start;
    p->sent_hw = hw;
    p->sent_log_start = log_start;
    return news;
}
