/*
 * brk_offsets_topic.c - __consumer_offsets keys, values and batches in
 * Kafka's exact format (see brk_offsets_topic.h for the layouts).
 *
 * Keys and values go through the generated codec (proto/kafka/NAME.data ->
 * kmsg.{c,h}); this file only reads/writes their int16 version prefix and
 * picks the schema and version.  Batches are written with kwire (header
 * layout from brk_batch.h) and read through the shared record iterator
 * (brk_records).  Nothing here allocates except group-value members (arena).
 */
#include "broker/group/brk_offsets_topic.h"

#include "broker/log/brk_batch.h"
#include "broker/log/brk_records.h"
#include "common/crc32c.h"
#include "common/kwire.h"
#include "common/log.h"
#include "kmsg.h"

/* ---- Java String.hashCode over UTF-8 input ---- */

/* utf8_next - decode one code point at s[*i]; malformed -> U+FFFD, one byte. */
static uint32_t utf8_next(struct bytes s, size_t *i)
{
    const uint8_t *p = s.ptr + *i;
    size_t left = s.len - *i;
    uint32_t c = p[0];
    size_t n = 0;
    uint32_t min = 0;
    if (c < 0x80) {
        *i += 1;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        n = 1, c &= 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2, c &= 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3, c &= 0x07, min = 0x10000;
    } else {
        *i += 1;
        return 0xFFFD;
    }
    if (left < n + 1) {
        *i += 1;
        return 0xFFFD;
    }
    for (size_t k = 1; k <= n; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            *i += 1;
            return 0xFFFD;
        }
        c = (c << 6) | (p[k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *i += 1;
        return 0xFFFD;
    }
    *i += n + 1;
    return c;
}

int32_t brk_offsets_topic_java_hash(struct bytes s)
{
    uint32_t h = 0; /* Java int arithmetic wraps: do it unsigned */
    size_t i = 0;
    while (s.ptr && i < s.len) {
        uint32_t c = utf8_next(s, &i);
        if (c >= 0x10000) {
            c -= 0x10000;
            h = h * 31u + (0xD800u + (c >> 10));
            h = h * 31u + (0xDC00u + (c & 0x3FF));
        } else {
            h = h * 31u + c;
        }
    }
    return (int32_t)h;
}

int32_t brk_offsets_topic_partition_for(struct bytes group, int32_t partition_count)
{
    ASSERT(partition_count > 0);
    /* Kafka's Utils.abs: (n == Integer.MIN_VALUE) ? 0 : Math.abs(n).  Not
     * n & 0x7fffffff, which maps a negative hash elsewhere. */
    int32_t h = brk_offsets_topic_java_hash(group);
    int32_t abs_h = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    int32_t p = abs_h % partition_count;
    ASSERT(p >= 0 && p < partition_count);
    return p;
}

/* ---- keys and values ----
 *
 * A key or value is Kafka's "version-prefixed" form: an int16 version, then
 * the schema's struct in that version (proto/kafka/<Name>.data, generated
 * into kmsg.{c,h}).  Only the prefix and the choice of schema are here. */

/* prefix_read - the int16 version in front of a key or value. */
static int prefix_read(struct kwire_reader *r, struct bytes in, int16_t *version)
{
    kwire_reader_init(r, in);
    return kwire_read_i16(r, version) < 0 ? ERR_DECODE : 0;
}

/* decode_rc - what a generated decoder's failure means to our callers:
 * malformed bytes are ERR_DECODE, an arena past its ceiling is ERR_LIMIT. */
static int decode_rc(int rc)
{
    ASSERT(rc != ERR_UNSUPPORTED); /* versions are checked before decoding */
    return rc == ERR_LIMIT ? ERR_LIMIT : ERR_DECODE;
}

int brk_offsets_topic_offset_key_encode(struct buf *b, struct bytes group, struct bytes topic, int32_t partition)
{
    struct kmsg_offset_commit_key k;
    kmsg_offset_commit_key_init(&k);
    k.group = group; /* a NULL string is written as "" (non-nullable) */
    k.topic = topic;
    k.partition = partition;
    int rc = kwire_write_i16(b, BRK_OFFSETS_TOPIC_KEY_OFFSET);
    if (rc == 0)
        rc = kmsg_offset_commit_key_encode(b, BRK_OFFSETS_TOPIC_KEY_OFFSET, &k);
    return rc;
}

int brk_offsets_topic_group_key_encode(struct buf *b, struct bytes group)
{
    struct kmsg_group_metadata_key k;
    kmsg_group_metadata_key_init(&k);
    k.group = group;
    int rc = kwire_write_i16(b, BRK_OFFSETS_TOPIC_KEY_GROUP);
    if (rc == 0)
        rc = kmsg_group_metadata_key_encode(b, BRK_OFFSETS_TOPIC_KEY_GROUP, &k);
    return rc;
}

int brk_offsets_topic_offset_value_encode(struct buf *b, const struct brk_offsets_topic_offset *v)
{
    /* Kafka's rule: v1 when the commit carried a retention time, else v3 */
    int16_t version = v->expire_timestamp_ms >= 0 ? 1 : 3;
    struct kmsg_offset_commit_value m;
    kmsg_offset_commit_value_init(&m);
    m.offset = v->offset;
    m.leader_epoch = v->leader_epoch;
    m.metadata = v->metadata;
    m.commit_timestamp = v->commit_timestamp_ms;
    m.expire_timestamp = v->expire_timestamp_ms;
    int rc = kwire_write_i16(b, version);
    if (rc == 0)
        rc = kmsg_offset_commit_value_encode(b, version, &m);
    return rc;
}

int brk_offsets_topic_group_value_encode(struct buf *b, const struct brk_offsets_topic_group *g)
{
    ASSERT(g->member_count >= 0);
    ASSERT(g->members || g->member_count == 0);
    if (g->member_count > BRK_OFFSETS_TOPIC_MEMBERS_MAX)
        return ERR_LIMIT;
    struct kmsg_group_metadata_value m;
    kmsg_group_metadata_value_init(&m);
    m.protocol_type = g->protocol_type;
    m.generation = g->generation;
    m.protocol = g->protocol; /* nullable */
    m.leader = g->leader;     /* nullable */
    m.current_state_timestamp = g->current_state_timestamp_ms;
    /* The members are copied into the generated layout: a group write is a
     * rebalance, not a hot path, and the scratch lives only for this call. */
    struct arena a;
    arena_init(&a, 4096, (size_t)g->member_count * sizeof *m.members + 4096);
    m.members = arena_alloc_array(&a, (size_t)g->member_count, sizeof *m.members);
    m.members_count = g->member_count;
    int rc = m.members || g->member_count == 0 ? 0 : ERR_LIMIT;
    for (int32_t i = 0; rc == 0 && i < g->member_count; i++) {
        const struct brk_offsets_topic_member *gm = &g->members[i];
        struct kmsg_group_metadata_value_member_metadata *mm = &m.members[i];
        kmsg_group_metadata_value_member_metadata_init(mm);
        mm->member_id = gm->member_id;
        mm->group_instance_id = gm->group_instance_id; /* nullable */
        mm->client_id = gm->client_id;
        mm->client_host = gm->client_host;
        mm->rebalance_timeout = gm->rebalance_timeout_ms;
        mm->session_timeout = gm->session_timeout_ms;
        mm->subscription = gm->subscription;
        mm->assignment = gm->assignment;
    }
    if (rc == 0)
        rc = kwire_write_i16(b, BRK_OFFSETS_TOPIC_GROUP_VALUE_VERSION);
    if (rc == 0)
        rc = kmsg_group_metadata_value_encode(b, BRK_OFFSETS_TOPIC_GROUP_VALUE_VERSION, &m);
    arena_deinit(&a);
    return rc;
}

int brk_offsets_topic_key_decode(struct bytes in, struct brk_offsets_topic_key *out)
{
    struct kwire_reader r;
    *out = (struct brk_offsets_topic_key){ 0 };
    int rc = prefix_read(&r, in, &out->version);
    if (rc < 0)
        return rc;
    if (out->version < 0 || out->version > BRK_OFFSETS_TOPIC_KEY_GROUP)
        return ERR_UNSUPPORTED; /* KIP-848 / share-group records */
    /* Kafka ignores trailing bytes of older readers' keys too */
    if (out->version == BRK_OFFSETS_TOPIC_KEY_GROUP) {
        struct kmsg_group_metadata_key k;
        rc = kmsg_group_metadata_key_decode(&r, out->version, NULL, &k);
        if (rc < 0)
            return decode_rc(rc);
        out->group = k.group;
        return 0;
    }
    struct kmsg_offset_commit_key k;
    rc = kmsg_offset_commit_key_decode(&r, out->version, NULL, &k);
    if (rc < 0)
        return decode_rc(rc);
    out->group = k.group;
    out->topic = k.topic;
    out->partition = k.partition;
    return 0;
}

int brk_offsets_topic_offset_value_decode(struct bytes in, struct brk_offsets_topic_offset *out)
{
    struct kwire_reader r;
    int16_t version;
    *out = (struct brk_offsets_topic_offset){ .leader_epoch = -1, .expire_timestamp_ms = -1 };
    int rc = prefix_read(&r, in, &version);
    if (rc < 0)
        return rc;
    if (version < 0 || version > BRK_OFFSETS_TOPIC_VALUE_VERSION_MAX)
        return ERR_UNSUPPORTED;
    struct kmsg_offset_commit_value m;
    rc = kmsg_offset_commit_value_decode(&r, version, NULL, &m);
    if (rc < 0)
        return decode_rc(rc);
    *out = (struct brk_offsets_topic_offset){ .offset = m.offset, .leader_epoch = m.leader_epoch,
                                              .metadata = m.metadata, .commit_timestamp_ms = m.commit_timestamp,
                                              .expire_timestamp_ms = m.expire_timestamp };
    return 0;
}

int brk_offsets_topic_group_value_decode(struct bytes in, struct arena *a, struct brk_offsets_topic_group *out)
{
    struct kwire_reader r;
    int16_t version;
    *out = (struct brk_offsets_topic_group){ .current_state_timestamp_ms = -1 };
    int rc = prefix_read(&r, in, &version);
    if (rc < 0)
        return rc;
    if (version < 0 || version > BRK_OFFSETS_TOPIC_VALUE_VERSION_MAX)
        return ERR_UNSUPPORTED;
    struct kmsg_group_metadata_value m;
    rc = kmsg_group_metadata_value_decode(&r, version, a, &m);
    if (rc < 0)
        return decode_rc(rc);
    ASSERT(m.members_count >= 0); /* the field is not nullable */
    if (m.members_count > BRK_OFFSETS_TOPIC_MEMBERS_MAX)
        return ERR_LIMIT;
    struct brk_offsets_topic_member *ms = arena_alloc_array(a, (size_t)m.members_count, sizeof *ms);
    if (!ms && m.members_count > 0)
        return ERR_LIMIT;
    for (int32_t i = 0; i < m.members_count; i++) {
        const struct kmsg_group_metadata_value_member_metadata *mm = &m.members[i];
        ms[i] = (struct brk_offsets_topic_member){
            .member_id = mm->member_id, .group_instance_id = mm->group_instance_id,
            .client_id = mm->client_id, .client_host = mm->client_host,
            .rebalance_timeout_ms = mm->rebalance_timeout, .session_timeout_ms = mm->session_timeout,
            .subscription = mm->subscription, .assignment = mm->assignment,
        };
    }
    *out = (struct brk_offsets_topic_group){
        .protocol_type = m.protocol_type, .generation = m.generation, .protocol = m.protocol,
        .leader = m.leader, .current_state_timestamp_ms = m.current_state_timestamp,
        .member_count = m.members_count, .members = ms,
    };
    return 0;
}

/* ---- batches ---- */

int brk_offsets_topic_batch_encode(struct buf *out, const struct brk_offsets_topic_record *recs, int32_t n,
                                   int64_t now_ms)
{
    size_t start = 0;
    int rc = brk_batch_write_begin(out, n, now_ms, now_ms, &start);
    for (int32_t i = 0; rc == 0 && i < n; i++)
        rc = brk_batch_write_record(out, 0, i, recs[i].key.ptr ? recs[i].key : bytes_make("", 0), recs[i].value);
    if (rc == 0)
        rc = brk_batch_write_end(out, start);
    return rc;
}

/* records_decode - every keyed record of one uncompressed batch, through the
 * shared record iterator (brk_records). */
static int records_decode(struct bytes batch, struct buf *scratch, void *arg, brk_offsets_topic_record_cb cb)
{
    struct brk_records_iter it;
    int rc = brk_records_iter_init(&it, batch, scratch);
    if (rc < 0)
        return rc;
    for (;;) { /* bounded: the iterator ends after the batch's declared count */
        struct brk_record r;
        rc = brk_records_next(&it, &r);
        if (rc <= 0)
            return rc;
        /* offsetDelta within the batch's declared range, as Kafka requires */
        if (r.offset < it.hdr.base_offset || r.offset - it.hdr.base_offset > it.hdr.last_offset_delta)
            return ERR_DECODE;
        if (!r.key.ptr)
            continue; /* Kafka fails the load on a keyless record; skipping is safer */
        struct brk_offsets_topic_record rec = { r.key, r.value };
        rc = cb(arg, r.offset, &rec);
        if (rc < 0)
            return rc;
    }
}

int brk_offsets_topic_batches_decode(struct bytes batches, void *arg, brk_offsets_topic_record_cb cb)
{
    size_t at = 0;
    while (at < batches.len) {
        struct brk_batch_hdr h;
        int n = brk_batch_parse(batches.ptr + at, batches.len - at, &h);
        if (n <= 0)
            return n == 0 ? ERR_CORRUPT : n;
        if (h.size_bytes > batches.len - at)
            return ERR_CORRUPT;
        if (!brk_batch_crc_ok(batches.ptr + at, &h))
            return ERR_CORRUPT;
        if ((h.attributes & BRK_BATCH_ATTR_CODEC_MASK) != BRK_BATCH_CODEC_NONE)
            return ERR_UNSUPPORTED;
        if (!(h.attributes & BRK_BATCH_ATTR_CONTROL)) {
            struct buf scratch; /* never filled: compressed batches were refused above */
            buf_init(&scratch, 0);
            int rc = records_decode(bytes_make(batches.ptr + at, h.size_bytes), &scratch, arg, cb);
            buf_deinit(&scratch);
            if (rc < 0)
                return rc;
        }
        at += h.size_bytes;
    }
    return 0;
}
