/*
 * brk_offsets_topic.c - __consumer_offsets keys, values and batches in
 * Kafka's exact format (see brk_offsets_topic.h for the layouts).
 *
 * All wire access goes through kwire; the batch header layout comes from
 * brk_batch.h.  Nothing here allocates except group-value members (arena).
 */
#include "broker/brk_offsets_topic.h"

#include "broker/brk_batch.h"
#include "common/crc32c.h"
#include "common/kwire.h"
#include "common/log.h"

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

/* ---- keys and values ---- */

int brk_offsets_topic_offset_key_encode(struct buf *b, struct bytes group, struct bytes topic, int32_t partition)
{
    int rc = kwire_write_i16(b, BRK_OFFSETS_TOPIC_KEY_OFFSET);
    if (rc == 0)
        rc = kwire_write_string(b, bytes_make(group.ptr ? group.ptr : (const uint8_t *)"", group.len));
    if (rc == 0)
        rc = kwire_write_string(b, bytes_make(topic.ptr ? topic.ptr : (const uint8_t *)"", topic.len));
    if (rc == 0)
        rc = kwire_write_i32(b, partition);
    return rc;
}

int brk_offsets_topic_group_key_encode(struct buf *b, struct bytes group)
{
    int rc = kwire_write_i16(b, BRK_OFFSETS_TOPIC_KEY_GROUP);
    if (rc == 0)
        rc = kwire_write_string(b, bytes_make(group.ptr ? group.ptr : (const uint8_t *)"", group.len));
    return rc;
}

static struct bytes non_null(struct bytes s)
{
    return s.ptr ? s : bytes_make("", 0);
}

int brk_offsets_topic_offset_value_encode(struct buf *b, const struct brk_offsets_topic_offset *v)
{
    bool v1 = v->expire_timestamp_ms >= 0;
    int rc = kwire_write_i16(b, v1 ? 1 : 3);
    if (rc == 0)
        rc = kwire_write_i64(b, v->offset);
    if (rc == 0 && !v1)
        rc = kwire_write_i32(b, v->leader_epoch);
    if (rc == 0)
        rc = kwire_write_string(b, non_null(v->metadata));
    if (rc == 0)
        rc = kwire_write_i64(b, v->commit_timestamp_ms);
    if (rc == 0 && v1)
        rc = kwire_write_i64(b, v->expire_timestamp_ms);
    return rc;
}

int brk_offsets_topic_group_value_encode(struct buf *b, const struct brk_offsets_topic_group *g)
{
    int rc = kwire_write_i16(b, BRK_OFFSETS_TOPIC_GROUP_VALUE_VERSION);
    if (rc == 0)
        rc = kwire_write_string(b, non_null(g->protocol_type));
    if (rc == 0)
        rc = kwire_write_i32(b, g->generation);
    if (rc == 0)
        rc = kwire_write_string(b, g->protocol);
    if (rc == 0)
        rc = kwire_write_string(b, g->leader);
    if (rc == 0)
        rc = kwire_write_i64(b, g->current_state_timestamp_ms);
    if (rc == 0)
        rc = kwire_write_array_len(b, g->member_count);
    for (int32_t i = 0; rc == 0 && i < g->member_count; i++) {
        const struct brk_offsets_topic_member *m = &g->members[i];
        rc = kwire_write_string(b, non_null(m->member_id));
        if (rc == 0)
            rc = kwire_write_string(b, m->group_instance_id);
        if (rc == 0)
            rc = kwire_write_string(b, non_null(m->client_id));
        if (rc == 0)
            rc = kwire_write_string(b, non_null(m->client_host));
        if (rc == 0)
            rc = kwire_write_i32(b, m->rebalance_timeout_ms);
        if (rc == 0)
            rc = kwire_write_i32(b, m->session_timeout_ms);
        if (rc == 0)
            rc = kwire_write_bytes(b, non_null(m->subscription));
        if (rc == 0)
            rc = kwire_write_bytes(b, non_null(m->assignment));
    }
    return rc;
}

int brk_offsets_topic_key_decode(struct bytes in, struct brk_offsets_topic_key *out)
{
    struct kwire_reader r;
    kwire_reader_init(&r, in);
    *out = (struct brk_offsets_topic_key){ 0 };
    if (kwire_read_i16(&r, &out->version) < 0)
        goto err_decode;
    if (out->version < 0 || out->version > 2)
        return ERR_UNSUPPORTED;
    if (kwire_read_string(&r, &out->group) < 0 || !out->group.ptr)
        goto err_decode;
    if (out->version <= 1) {
        if (kwire_read_string(&r, &out->topic) < 0 || !out->topic.ptr)
            goto err_decode;
        if (kwire_read_i32(&r, &out->partition) < 0)
            goto err_decode;
    }
    return 0; /* Kafka ignores trailing bytes of older readers' keys too */
err_decode:
    return ERR_DECODE;
}

int brk_offsets_topic_offset_value_decode(struct bytes in, struct brk_offsets_topic_offset *out)
{
    struct kwire_reader r;
    kwire_reader_init(&r, in);
    int16_t version;
    *out = (struct brk_offsets_topic_offset){ .leader_epoch = -1, .expire_timestamp_ms = -1 };
    if (kwire_read_i16(&r, &version) < 0)
        goto err_decode;
    if (version < 0 || version > 4)
        return ERR_UNSUPPORTED;
    if (kwire_read_i64(&r, &out->offset) < 0)
        goto err_decode;
    if (version >= 3 && kwire_read_i32(&r, &out->leader_epoch) < 0)
        goto err_decode;
    int rc = version >= 4 ? kwire_read_compact_string(&r, &out->metadata) : kwire_read_string(&r, &out->metadata);
    if (rc < 0 || !out->metadata.ptr)
        goto err_decode;
    if (kwire_read_i64(&r, &out->commit_timestamp_ms) < 0)
        goto err_decode;
    if (version == 1 && kwire_read_i64(&r, &out->expire_timestamp_ms) < 0)
        goto err_decode;
    if (version >= 4 && kwire_skip_tags(&r) < 0)
        goto err_decode;
    return 0;
err_decode:
    return ERR_DECODE;
}

/* read_str - classic or compact string, by flexibility. */
static int read_str(struct kwire_reader *r, bool flexible, struct bytes *out)
{
    return flexible ? kwire_read_compact_string(r, out) : kwire_read_string(r, out);
}

static int read_bytes(struct kwire_reader *r, bool flexible, struct bytes *out)
{
    return flexible ? kwire_read_compact_bytes(r, out) : kwire_read_bytes(r, out);
}

int brk_offsets_topic_group_value_decode(struct bytes in, struct arena *a, struct brk_offsets_topic_group *out)
{
    struct kwire_reader r;
    kwire_reader_init(&r, in);
    int16_t version;
    *out = (struct brk_offsets_topic_group){ .current_state_timestamp_ms = -1 };
    if (kwire_read_i16(&r, &version) < 0)
        goto err_decode;
    if (version < 0 || version > 4)
        return ERR_UNSUPPORTED;
    bool flex = version >= 4;
    if (read_str(&r, flex, &out->protocol_type) < 0 || !out->protocol_type.ptr)
        goto err_decode;
    if (kwire_read_i32(&r, &out->generation) < 0)
        goto err_decode;
    if (read_str(&r, flex, &out->protocol) < 0 || read_str(&r, flex, &out->leader) < 0)
        goto err_decode;
    if (version >= 2 && kwire_read_i64(&r, &out->current_state_timestamp_ms) < 0)
        goto err_decode;
    int32_t n;
    if ((flex ? kwire_read_compact_array_len(&r, &n) : kwire_read_array_len(&r, &n)) < 0 || n < 0)
        goto err_decode;
    if (n > BRK_OFFSETS_TOPIC_MEMBERS_MAX)
        return ERR_LIMIT;
    struct brk_offsets_topic_member *ms = arena_alloc_array(a, (size_t)n, sizeof *ms);
    if (!ms && n > 0)
        return ERR_LIMIT;
    for (int32_t i = 0; i < n; i++) {
        struct brk_offsets_topic_member *m = &ms[i];
        m->group_instance_id = (struct bytes){ NULL, 0 };
        m->rebalance_timeout_ms = -1;
        if (read_str(&r, flex, &m->member_id) < 0 || !m->member_id.ptr)
            goto err_decode;
        if (version >= 3 && read_str(&r, flex, &m->group_instance_id) < 0)
            goto err_decode;
        if (read_str(&r, flex, &m->client_id) < 0 || !m->client_id.ptr)
            goto err_decode;
        if (read_str(&r, flex, &m->client_host) < 0 || !m->client_host.ptr)
            goto err_decode;
        if (version >= 1 && kwire_read_i32(&r, &m->rebalance_timeout_ms) < 0)
            goto err_decode;
        if (kwire_read_i32(&r, &m->session_timeout_ms) < 0)
            goto err_decode;
        if (read_bytes(&r, flex, &m->subscription) < 0 || !m->subscription.ptr)
            goto err_decode;
        if (read_bytes(&r, flex, &m->assignment) < 0 || !m->assignment.ptr)
            goto err_decode;
        if (flex && kwire_skip_tags(&r) < 0)
            goto err_decode;
    }
    if (flex && kwire_skip_tags(&r) < 0)
        goto err_decode;
    out->member_count = n;
    out->members = ms;
    return 0;
err_decode:
    return ERR_DECODE;
}

/* ---- batches ---- */

static int record_encode(struct buf *out, const struct brk_offsets_topic_record *rec, int32_t offset_delta)
{
    size_t start = out->len;
    int rc = kwire_write_i8(out, 0); /* attributes */
    if (rc == 0)
        rc = kwire_write_varlong(out, 0); /* timestampDelta */
    if (rc == 0)
        rc = kwire_write_varint(out, offset_delta);
    if (rc == 0 && rec->key.len > INT32_MAX)
        rc = ERR_LIMIT;
    if (rc == 0)
        rc = kwire_write_varint(out, (int32_t)rec->key.len);
    if (rc == 0)
        rc = kwire_write_raw(out, rec->key.ptr, rec->key.len);
    if (rc == 0 && rec->value.len > INT32_MAX)
        rc = ERR_LIMIT;
    if (rc == 0)
        rc = kwire_write_varint(out, rec->value.ptr ? (int32_t)rec->value.len : -1);
    if (rc == 0 && rec->value.ptr)
        rc = kwire_write_raw(out, rec->value.ptr, rec->value.len);
    if (rc == 0)
        rc = kwire_write_varint(out, 0); /* headers */
    if (rc < 0)
        return rc;
    size_t body = out->len - start;
    if (body > INT32_MAX / 2)
        return ERR_LIMIT;
    /* the record's length is a zigzag varint: for len >= 0 that is uvarint(2*len) */
    return kwire_insert_uvarint(out, start, (uint32_t)body * 2u);
}

int brk_offsets_topic_batch_encode(struct buf *out, const struct brk_offsets_topic_record *recs, int32_t n,
                                   int64_t now_ms)
{
    ASSERT(n >= 1);
    size_t start = out->len;
    int rc = kwire_write_i64(out, 0); /* baseOffset: assigned by brk_plog_append */
    size_t len_pos = 0;
    if (rc == 0)
        rc = kwire_reserve_i32(out, &len_pos);
    if (rc == 0)
        rc = kwire_write_i32(out, -1); /* partitionLeaderEpoch: patched on append */
    if (rc == 0)
        rc = kwire_write_i8(out, BRK_BATCH_MAGIC_V2);
    size_t crc_pos = 0;
    if (rc == 0)
        rc = kwire_reserve_i32(out, &crc_pos);
    if (rc == 0)
        rc = kwire_write_i16(out, 0); /* attributes: no codec, CreateTime */
    if (rc == 0)
        rc = kwire_write_i32(out, n - 1);
    if (rc == 0)
        rc = kwire_write_i64(out, now_ms);
    if (rc == 0)
        rc = kwire_write_i64(out, now_ms);
    if (rc == 0)
        rc = kwire_write_i64(out, -1); /* producerId */
    if (rc == 0)
        rc = kwire_write_i16(out, -1);
    if (rc == 0)
        rc = kwire_write_i32(out, -1); /* baseSequence */
    if (rc == 0)
        rc = kwire_write_i32(out, n);
    for (int32_t i = 0; rc == 0 && i < n; i++)
        rc = record_encode(out, &recs[i], i);
    if (rc == 0)
        rc = kwire_patch_size(out, len_pos);
    if (rc < 0)
        return rc;
    ASSERT(out->len - start >= BRK_BATCH_HDR_BYTES);
    uint32_t crc = crc32c(0, out->ptr + start + BRK_BATCH_OFF_ATTRIBUTES,
                          out->len - start - BRK_BATCH_OFF_ATTRIBUTES);
    kwire_patch_i32(out, crc_pos, (int32_t)crc);
    return 0;
}

static int records_decode(struct bytes body, const struct brk_batch_hdr *h, void *arg,
                          brk_offsets_topic_record_cb cb)
{
    struct kwire_reader r;
    kwire_reader_init(&r, body);
    for (int32_t i = 0; i < h->records_count; i++) {
        int32_t len;
        if (kwire_read_varint(&r, &len) < 0 || len < 0 || (size_t)len > kwire_remaining(&r))
            goto err_decode;
        struct bytes rb;
        if (kwire_read_raw(&r, (size_t)len, &rb) < 0)
            goto err_decode;
        struct kwire_reader rr;
        kwire_reader_init(&rr, rb);
        int8_t attr;
        int64_t ts_delta;
        int32_t off_delta, klen, vlen, nh;
        struct brk_offsets_topic_record rec = { { NULL, 0 }, { NULL, 0 } };
        if (kwire_read_i8(&rr, &attr) < 0 || kwire_read_varlong(&rr, &ts_delta) < 0 ||
            kwire_read_varint(&rr, &off_delta) < 0 || kwire_read_varint(&rr, &klen) < 0)
            goto err_decode;
        if (klen >= 0 && kwire_read_raw(&rr, (size_t)klen, &rec.key) < 0)
            goto err_decode;
        if (kwire_read_varint(&rr, &vlen) < 0)
            goto err_decode;
        if (vlen >= 0 && kwire_read_raw(&rr, (size_t)vlen, &rec.value) < 0)
            goto err_decode;
        if (kwire_read_varint(&rr, &nh) < 0 || nh < 0)
            goto err_decode;
        if (off_delta < 0 || off_delta > h->last_offset_delta)
            goto err_decode;
        if (!rec.key.ptr)
            continue; /* Kafka fails the load on a keyless record; skipping is safer */
        int rc = cb(arg, h->base_offset + off_delta, &rec);
        if (rc < 0)
            return rc;
    }
    return 0;
err_decode:
    return ERR_DECODE;
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
            struct bytes body = bytes_make(batches.ptr + at + BRK_BATCH_HDR_BYTES, h.size_bytes - BRK_BATCH_HDR_BYTES);
            int rc = records_decode(body, &h, arg, cb);
            if (rc < 0)
                return rc;
        }
        at += h.size_bytes;
    }
    return 0;
}
