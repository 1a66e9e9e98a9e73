/*
 * kwire_test.c - golden bytes for every Kafka wire primitive, both
 * directions, and every malformed case a reader must reject: short input,
 * overlong varints, negative lengths other than -1, lengths and counts
 * beyond the bytes remaining, and buf ceilings on the write side.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/kwire.h"

#define RD(arr) kwire_rd((arr), sizeof(arr))

static struct kwire_reader kwire_rd(const uint8_t *p, size_t n)
{
    struct kwire_reader r;
    kwire_reader_init(&r, bytes_make(p, n));
    return r;
}

/* Asserts the buf holds exactly the expected bytes, then clears it. */
static void expect_buf(struct buf *b, const uint8_t *want, size_t n)
{
    ck_assert_uint_eq(b->len, n);
    ck_assert_int_eq(memcmp(b->ptr, want, n), 0);
    buf_reset(b);
}
#define EXPECT(b, ...)                                                                             \
    do {                                                                                           \
        static const uint8_t want_[] = { __VA_ARGS__ };                                            \
        expect_buf((b), want_, sizeof(want_));                                                     \
    } while (0)

START_TEST(test_fixed_golden)
{
    static const uint8_t in[] = { 0xfe, 0x12, 0x34, 0x80, 0x00, 0x00, 0x01, 0x01, 0x02, 0x03,
                                  0x04, 0x05, 0x06, 0x07, 0x08, 0xff, 0xfe, 0xde, 0xad, 0xbe,
                                  0xef, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x02, 0x00 };
    struct kwire_reader r = RD(in);
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint16_t u16;
    uint32_t u32;
    double f64;
    bool bo;
    ck_assert_int_eq(kwire_read_i8(&r, &i8), 0);
    ck_assert_int_eq(i8, -2);
    ck_assert_int_eq(kwire_read_i16(&r, &i16), 0);
    ck_assert_int_eq(i16, 0x1234);
    ck_assert_int_eq(kwire_read_i32(&r, &i32), 0);
    ck_assert_int_eq(i32, INT32_MIN + 1);
    ck_assert_int_eq(kwire_read_i64(&r, &i64), 0);
    ck_assert(i64 == 0x0102030405060708LL);
    ck_assert_int_eq(kwire_read_u16(&r, &u16), 0);
    ck_assert_uint_eq(u16, 0xfffe);
    ck_assert_int_eq(kwire_read_u32(&r, &u32), 0);
    ck_assert_uint_eq(u32, 0xdeadbeefu);
    ck_assert_int_eq(kwire_read_f64(&r, &f64), 0);
    ck_assert(f64 == 1.5);
    ck_assert_int_eq(kwire_read_bool(&r, &bo), 0);
    ck_assert(bo); /* any non-zero byte */
    ck_assert_int_eq(kwire_read_bool(&r, &bo), 0);
    ck_assert(!bo);
    ck_assert_uint_eq(kwire_remaining(&r), 0);
    ck_assert_int_eq(kwire_read_i8(&r, &i8), ERR_DECODE);

    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(kwire_write_i8(&b, -2), 0);
    EXPECT(&b, 0xfe);
    ck_assert_int_eq(kwire_write_i16(&b, 0x1234), 0);
    EXPECT(&b, 0x12, 0x34);
    ck_assert_int_eq(kwire_write_i32(&b, INT32_MIN + 1), 0);
    EXPECT(&b, 0x80, 0, 0, 1);
    ck_assert_int_eq(kwire_write_i64(&b, -2), 0);
    EXPECT(&b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe);
    ck_assert_int_eq(kwire_write_u16(&b, 0xfffe), 0);
    EXPECT(&b, 0xff, 0xfe);
    ck_assert_int_eq(kwire_write_u32(&b, 0xdeadbeefu), 0);
    EXPECT(&b, 0xde, 0xad, 0xbe, 0xef);
    ck_assert_int_eq(kwire_write_f64(&b, 1.5), 0);
    EXPECT(&b, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0);
    ck_assert_int_eq(kwire_write_bool(&b, true), 0);
    ck_assert_int_eq(kwire_write_bool(&b, false), 0);
    EXPECT(&b, 1, 0);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_fixed_short)
{
    static const uint8_t in[8] = { 0 };
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint16_t u16;
    uint32_t u32;
    double f64;
    bool bo;
    uint8_t uuid[16];
    struct kwire_reader r = kwire_rd(in, 0);
    ck_assert_int_eq(kwire_read_i8(&r, &i8), ERR_DECODE);
    ck_assert_int_eq(kwire_read_bool(&r, &bo), ERR_DECODE);
    r = kwire_rd(in, 1);
    ck_assert_int_eq(kwire_read_i16(&r, &i16), ERR_DECODE);
    ck_assert_int_eq(kwire_read_u16(&r, &u16), ERR_DECODE);
    r = kwire_rd(in, 3);
    ck_assert_int_eq(kwire_read_i32(&r, &i32), ERR_DECODE);
    ck_assert_int_eq(kwire_read_u32(&r, &u32), ERR_DECODE);
    r = kwire_rd(in, 7);
    ck_assert_int_eq(kwire_read_i64(&r, &i64), ERR_DECODE);
    ck_assert_int_eq(kwire_read_f64(&r, &f64), ERR_DECODE);
    r = kwire_rd(in, 8);
    ck_assert_int_eq(kwire_read_uuid(&r, uuid), ERR_DECODE);
    /* a NULL input is an empty input */
    kwire_reader_init(&r, bytes_make(NULL, 0));
    ck_assert_uint_eq(kwire_remaining(&r), 0);
    ck_assert_int_eq(kwire_read_i8(&r, &i8), ERR_DECODE);
}
END_TEST

START_TEST(test_uuid)
{
    uint8_t in[16], out[16];
    for (int i = 0; i < 16; i++)
        in[i] = (uint8_t)(i * 17);
    struct kwire_reader r = RD(in);
    ck_assert_int_eq(kwire_read_uuid(&r, out), 0);
    ck_assert_int_eq(memcmp(in, out, 16), 0);
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(kwire_write_uuid(&b, in), 0);
    expect_buf(&b, in, 16);
    buf_deinit(&b);
}
END_TEST

struct uvar_case {
    uint32_t v;
    uint8_t bytes[5];
    size_t n;
};

START_TEST(test_uvarint_golden)
{
    static const struct uvar_case cases[] = {
        { 0, { 0x00 }, 1 },
        { 1, { 0x01 }, 1 },
        { 127, { 0x7f }, 1 },
        { 128, { 0x80, 0x01 }, 2 },
        { 300, { 0xac, 0x02 }, 2 },
        { 16384, { 0x80, 0x80, 0x01 }, 3 },
        { UINT32_MAX, { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5 },
    };
    struct buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kwire_reader r = kwire_rd(cases[i].bytes, cases[i].n);
        uint32_t v;
        ck_assert_int_eq(kwire_read_uvarint(&r, &v), 0);
        ck_assert_uint_eq(v, cases[i].v);
        ck_assert_uint_eq(kwire_remaining(&r), 0);
        ck_assert_int_eq(kwire_write_uvarint(&b, cases[i].v), 0);
        ck_assert_uint_eq(kwire_uvarint_bytes(cases[i].v), cases[i].n);
        expect_buf(&b, cases[i].bytes, cases[i].n);
    }
    buf_deinit(&b);
}
END_TEST

START_TEST(test_varint_zigzag_golden)
{
    struct buf b;
    buf_init(&b, 0);
    int32_t v32;
    int64_t v64;
    struct kwire_reader r;
    /* zigzag: 0->0, -1->1, 1->2, -2->3, 63->126, -64->127, 64->128 */
    ck_assert_int_eq(kwire_write_varint(&b, 0), 0);
    ck_assert_int_eq(kwire_write_varint(&b, -1), 0);
    ck_assert_int_eq(kwire_write_varint(&b, 1), 0);
    ck_assert_int_eq(kwire_write_varint(&b, -2), 0);
    ck_assert_int_eq(kwire_write_varint(&b, 64), 0);
    EXPECT(&b, 0x00, 0x01, 0x02, 0x03, 0x80, 0x01);
    ck_assert_int_eq(kwire_write_varint(&b, INT32_MIN), 0);
    EXPECT(&b, 0xff, 0xff, 0xff, 0xff, 0x0f);
    ck_assert_int_eq(kwire_write_varint(&b, INT32_MAX), 0);
    EXPECT(&b, 0xfe, 0xff, 0xff, 0xff, 0x0f);
    ck_assert_int_eq(kwire_write_varlong(&b, INT64_MIN), 0);
    EXPECT(&b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    ck_assert_int_eq(kwire_write_varlong(&b, -65), 0);
    EXPECT(&b, 0x81, 0x01);

    static const uint8_t s1[] = { 0x03, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xfe, 0xff, 0xff, 0xff, 0x0f };
    r = RD(s1);
    ck_assert_int_eq(kwire_read_varint(&r, &v32), 0);
    ck_assert_int_eq(v32, -2);
    ck_assert_int_eq(kwire_read_varint(&r, &v32), 0);
    ck_assert_int_eq(v32, INT32_MIN);
    ck_assert_int_eq(kwire_read_varint(&r, &v32), 0);
    ck_assert_int_eq(v32, INT32_MAX);
    static const uint8_t s2[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                                  0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                                  0x81, 0x01 };
    r = RD(s2);
    ck_assert_int_eq(kwire_read_varlong(&r, &v64), 0);
    ck_assert(v64 == INT64_MIN);
    ck_assert_int_eq(kwire_read_varlong(&r, &v64), 0);
    ck_assert(v64 == INT64_MAX);
    ck_assert_int_eq(kwire_read_varlong(&r, &v64), 0);
    ck_assert(v64 == -65);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_varint_malformed)
{
    uint32_t u;
    int32_t v32;
    int64_t v64;
    struct kwire_reader r;
    /* short: continuation bit with nothing after */
    static const uint8_t shortv[] = { 0x80 };
    r = RD(shortv);
    ck_assert_int_eq(kwire_read_uvarint(&r, &u), ERR_DECODE);
    r = RD(shortv);
    ck_assert_int_eq(kwire_read_varlong(&r, &v64), ERR_DECODE);
    r = kwire_rd(shortv, 0);
    ck_assert_int_eq(kwire_read_varint(&r, &v32), ERR_DECODE);
    /* overlong: 6 bytes for a 32-bit varint */
    static const uint8_t six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    r = RD(six);
    ck_assert_int_eq(kwire_read_uvarint(&r, &u), ERR_DECODE);
    /* 5th byte carries bits beyond 32 */
    static const uint8_t wide[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };
    r = RD(wide);
    ck_assert_int_eq(kwire_read_uvarint(&r, &u), ERR_DECODE);
    r = RD(wide);
    ck_assert_int_eq(kwire_read_varint(&r, &v32), ERR_DECODE);
    /* 11 bytes for a varlong */
    static const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                      0x80, 0x80, 0x80, 0x80, 0x00 };
    r = RD(eleven);
    ck_assert_int_eq(kwire_read_varlong(&r, &v64), ERR_DECODE);
    /* 10th byte with bits beyond 64 */
    static const uint8_t wide64[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
    r = RD(wide64);
    ck_assert_int_eq(kwire_read_varlong(&r, &v64), ERR_DECODE);
}
END_TEST

START_TEST(test_strings_golden)
{
    static const uint8_t in[] = { 0x00, 0x02, 'h', 'i', 0xff, 0xff, 0x00, 0x00, /* classic */
                                  0x03, 'h', 'i', 0x00, 0x01,                  /* compact */
                                  0x00, 0x00, 0x00, 0x01, 'x', 0xff, 0xff, 0xff, 0xff,
                                  0x02, 'y', 0x00 };
    struct kwire_reader r = RD(in);
    struct bytes s;
    ck_assert_int_eq(kwire_read_string(&r, &s), 0);
    ck_assert(bytes_eq_cstr(s, "hi"));
    ck_assert_ptr_eq(s.ptr, in + 2); /* borrowed, not copied */
    ck_assert_int_eq(kwire_read_string(&r, &s), 0);
    ck_assert_ptr_null(s.ptr);
    ck_assert_int_eq(kwire_read_string(&r, &s), 0);
    ck_assert_ptr_nonnull(s.ptr);
    ck_assert_uint_eq(s.len, 0);
    ck_assert_int_eq(kwire_read_compact_string(&r, &s), 0);
    ck_assert(bytes_eq_cstr(s, "hi"));
    ck_assert_int_eq(kwire_read_compact_string(&r, &s), 0);
    ck_assert_ptr_null(s.ptr);
    ck_assert_int_eq(kwire_read_compact_string(&r, &s), 0);
    ck_assert_ptr_nonnull(s.ptr);
    ck_assert_uint_eq(s.len, 0);
    ck_assert_int_eq(kwire_read_bytes(&r, &s), 0);
    ck_assert(bytes_eq_cstr(s, "x"));
    ck_assert_int_eq(kwire_read_bytes(&r, &s), 0);
    ck_assert_ptr_null(s.ptr);
    ck_assert_int_eq(kwire_read_compact_bytes(&r, &s), 0);
    ck_assert(bytes_eq_cstr(s, "y"));
    ck_assert_int_eq(kwire_read_compact_bytes(&r, &s), 0);
    ck_assert_ptr_null(s.ptr);
    ck_assert_uint_eq(kwire_remaining(&r), 0);

    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(kwire_write_string(&b, bytes_cstr("hi")), 0);
    ck_assert_int_eq(kwire_write_string(&b, bytes_make(NULL, 0)), 0);
    ck_assert_int_eq(kwire_write_string(&b, bytes_cstr("")), 0);
    EXPECT(&b, 0x00, 0x02, 'h', 'i', 0xff, 0xff, 0x00, 0x00);
    ck_assert_int_eq(kwire_write_compact_string(&b, bytes_cstr("hi")), 0);
    ck_assert_int_eq(kwire_write_compact_string(&b, bytes_make(NULL, 0)), 0);
    ck_assert_int_eq(kwire_write_compact_string(&b, bytes_cstr("")), 0);
    EXPECT(&b, 0x03, 'h', 'i', 0x00, 0x01);
    ck_assert_int_eq(kwire_write_bytes(&b, bytes_cstr("x")), 0);
    ck_assert_int_eq(kwire_write_bytes(&b, bytes_make(NULL, 0)), 0);
    ck_assert_int_eq(kwire_write_compact_bytes(&b, bytes_cstr("y")), 0);
    ck_assert_int_eq(kwire_write_compact_bytes(&b, bytes_make(NULL, 0)), 0);
    EXPECT(&b, 0x00, 0x00, 0x00, 0x01, 'x', 0xff, 0xff, 0xff, 0xff, 0x02, 'y', 0x00);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_strings_malformed)
{
    struct bytes s;
    struct kwire_reader r;
    static const uint8_t neg2[] = { 0xff, 0xfe, 'a', 'b' };
    r = RD(neg2);
    ck_assert_int_eq(kwire_read_string(&r, &s), ERR_DECODE);
    static const uint8_t neg2_32[] = { 0xff, 0xff, 0xff, 0xfe, 'a', 'b' };
    r = RD(neg2_32);
    ck_assert_int_eq(kwire_read_bytes(&r, &s), ERR_DECODE);
    static const uint8_t min32[] = { 0x80, 0x00, 0x00, 0x00 };
    r = RD(min32);
    ck_assert_int_eq(kwire_read_bytes(&r, &s), ERR_DECODE);
    static const uint8_t beyond[] = { 0x00, 0x05, 'a', 'b' };
    r = RD(beyond);
    ck_assert_int_eq(kwire_read_string(&r, &s), ERR_DECODE);
    static const uint8_t beyond32[] = { 0x00, 0x00, 0x00, 0x03, 'a', 'b' };
    r = RD(beyond32);
    ck_assert_int_eq(kwire_read_bytes(&r, &s), ERR_DECODE);
    static const uint8_t cbeyond[] = { 0x04, 'a', 'b' };
    r = RD(cbeyond);
    ck_assert_int_eq(kwire_read_compact_string(&r, &s), ERR_DECODE);
    r = RD(cbeyond);
    ck_assert_int_eq(kwire_read_compact_bytes(&r, &s), ERR_DECODE);
    static const uint8_t chuge[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 'a' };
    r = RD(chuge);
    ck_assert_int_eq(kwire_read_compact_string(&r, &s), ERR_DECODE);
    static const uint8_t short_len[] = { 0x00 };
    r = RD(short_len);
    ck_assert_int_eq(kwire_read_string(&r, &s), ERR_DECODE);
    r = RD(short_len);
    ck_assert_int_eq(kwire_read_bytes(&r, &s), ERR_DECODE);
    static const uint8_t cont[] = { 0x80 };
    r = RD(cont);
    ck_assert_int_eq(kwire_read_compact_string(&r, &s), ERR_DECODE);
    /* raw / skip past the end */
    r = RD(beyond);
    ck_assert_int_eq(kwire_read_raw(&r, 5, &s), ERR_DECODE);
    ck_assert_int_eq(kwire_skip(&r, 5), ERR_DECODE);
    ck_assert_int_eq(kwire_skip(&r, 4), 0);
    ck_assert_uint_eq(kwire_remaining(&r), 0);
}
END_TEST

START_TEST(test_arrays)
{
    int32_t n;
    struct kwire_reader r;
    static const uint8_t ok[] = { 0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb };
    r = RD(ok);
    ck_assert_int_eq(kwire_read_array_len(&r, &n), 0);
    ck_assert_int_eq(n, 2);
    static const uint8_t null[] = { 0xff, 0xff, 0xff, 0xff };
    r = RD(null);
    ck_assert_int_eq(kwire_read_array_len(&r, &n), 0);
    ck_assert_int_eq(n, -1);
    static const uint8_t neg[] = { 0xff, 0xff, 0xff, 0xfe };
    r = RD(neg);
    ck_assert_int_eq(kwire_read_array_len(&r, &n), ERR_DECODE);
    /* a count beyond the bytes remaining fails before anyone allocates */
    static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 0x00, 0x00 };
    r = RD(huge);
    ck_assert_int_eq(kwire_read_array_len(&r, &n), ERR_DECODE);
    static const uint8_t three[] = { 0x00, 0x00, 0x00, 0x03, 0xaa, 0xbb };
    r = RD(three);
    ck_assert_int_eq(kwire_read_array_len(&r, &n), ERR_DECODE);

    static const uint8_t cok[] = { 0x03, 0xaa, 0xbb, 0x00, 0x01 };
    r = RD(cok);
    ck_assert_int_eq(kwire_read_compact_array_len(&r, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(kwire_skip(&r, 2), 0);
    ck_assert_int_eq(kwire_read_compact_array_len(&r, &n), 0);
    ck_assert_int_eq(n, -1);
    ck_assert_int_eq(kwire_read_compact_array_len(&r, &n), 0);
    ck_assert_int_eq(n, 0);
    static const uint8_t chuge[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00 };
    r = RD(chuge);
    ck_assert_int_eq(kwire_read_compact_array_len(&r, &n), ERR_DECODE);
    static const uint8_t cbeyond[] = { 0x04, 0x00, 0x00 };
    r = RD(cbeyond);
    ck_assert_int_eq(kwire_read_compact_array_len(&r, &n), ERR_DECODE);

    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(kwire_write_array_len(&b, 2), 0);
    ck_assert_int_eq(kwire_write_array_len(&b, -1), 0);
    EXPECT(&b, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff);
    ck_assert_int_eq(kwire_write_compact_array_len(&b, 2), 0);
    ck_assert_int_eq(kwire_write_compact_array_len(&b, -1), 0);
    ck_assert_int_eq(kwire_write_compact_array_len(&b, 0), 0);
    EXPECT(&b, 0x03, 0x00, 0x01);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_tags)
{
    /* 2 fields: tag 0 size 2 {aa bb}; tag 300 size 1 {cc}; then a trailer byte */
    static const uint8_t in[] = { 0x02, 0x00, 0x02, 0xaa, 0xbb, 0xac, 0x02, 0x01, 0xcc, 0x7e };
    struct kwire_reader r = RD(in);
    ck_assert_int_eq(kwire_skip_tags(&r), 0);
    ck_assert_uint_eq(kwire_remaining(&r), 1);
    ck_assert_uint_eq(*r.p, 0x7e);

    r = RD(in);
    uint32_t count, tag;
    struct kwire_reader field;
    ck_assert_int_eq(kwire_read_uvarint(&r, &count), 0);
    ck_assert_int_eq(kwire_read_tag(&r, &tag, &field), 0);
    ck_assert_uint_eq(tag, 0);
    ck_assert_uint_eq(kwire_remaining(&field), 2);
    ck_assert_uint_eq(field.p[1], 0xbb);
    ck_assert_int_eq(kwire_read_tag(&r, &tag, &field), 0);
    ck_assert_uint_eq(tag, 300);
    ck_assert_uint_eq(kwire_remaining(&field), 1);

    static const uint8_t empty[] = { 0x00 };
    r = RD(empty);
    ck_assert_int_eq(kwire_skip_tags(&r), 0);
    ck_assert_uint_eq(kwire_remaining(&r), 0);

    /* field size beyond the input */
    static const uint8_t big[] = { 0x01, 0x00, 0x05, 0xaa };
    r = RD(big);
    ck_assert_int_eq(kwire_skip_tags(&r), ERR_DECODE);
    /* count beyond the input */
    static const uint8_t many[] = { 0xff, 0xff, 0x03, 0x00, 0x00 };
    r = RD(many);
    ck_assert_int_eq(kwire_skip_tags(&r), ERR_DECODE);
    /* truncated: every prefix of `in` without the trailer must fail */
    for (size_t n = 0; n < sizeof(in) - 1; n++) {
        r = kwire_rd(in, n);
        ck_assert_int_eq(kwire_skip_tags(&r), ERR_DECODE);
    }

    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(kwire_write_empty_tags(&b), 0);
    EXPECT(&b, 0x00);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_patch_and_insert)
{
    struct buf b;
    buf_init(&b, 0);
    size_t pos;
    ck_assert_int_eq(kwire_write_i8(&b, 9), 0);
    ck_assert_int_eq(kwire_reserve_i32(&b, &pos), 0);
    ck_assert_uint_eq(pos, 1);
    ck_assert_int_eq(kwire_write_i16(&b, 7), 0);
    ck_assert_int_eq(kwire_patch_size(&b, pos), 0);
    EXPECT(&b, 9, 0, 0, 0, 2, 0, 7);

    ck_assert_int_eq(kwire_reserve_i32(&b, &pos), 0);
    kwire_patch_i32(&b, pos, -2);
    EXPECT(&b, 0xff, 0xff, 0xff, 0xfe);

    /* insert a 2-byte uvarint in the middle */
    ck_assert_int_eq(kwire_write_i8(&b, 1), 0);
    ck_assert_int_eq(kwire_write_i8(&b, 2), 0);
    ck_assert_int_eq(kwire_insert_uvarint(&b, 1, 300), 0);
    EXPECT(&b, 1, 0xac, 0x02, 2);
    ck_assert_int_eq(kwire_insert_uvarint(&b, 0, 5), 0);
    EXPECT(&b, 5);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_write_limits)
{
    struct buf b;
    buf_init(&b, 3);
    ck_assert_int_eq(kwire_write_i16(&b, 1), 0);
    ck_assert_int_eq(kwire_write_i32(&b, 1), ERR_LIMIT);
    ck_assert_int_eq(kwire_write_i64(&b, 1), ERR_LIMIT);
    ck_assert_int_eq(kwire_write_string(&b, bytes_cstr("ab")), ERR_LIMIT);
    ck_assert_int_eq(kwire_write_uvarint(&b, 1u << 20), ERR_LIMIT);
    ck_assert_int_eq(kwire_write_i8(&b, 1), 0);
    ck_assert_int_eq(kwire_write_i8(&b, 1), ERR_LIMIT);
    size_t pos;
    ck_assert_int_eq(kwire_reserve_i32(&b, &pos), ERR_LIMIT);
    ck_assert_int_eq(kwire_insert_uvarint(&b, 0, 1), ERR_LIMIT);
    buf_deinit(&b);

    /* a string longer than int16 cannot be written classic */
    buf_init(&b, 0);
    size_t n = (size_t)INT16_MAX + 1;
    uint8_t *big = calloc(1, n);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(kwire_write_string(&b, bytes_make(big, n)), ERR_LIMIT);
    ck_assert_int_eq(kwire_write_compact_string(&b, bytes_make(big, n)), 0);
    ck_assert_uint_eq(b.len, n + 3);
    free(big);
    buf_deinit(&b);
}
END_TEST

static Suite *kwire_suite(void)
{
    Suite *s = suite_create("kwire");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fixed_golden);
    tcase_add_test(tc, test_fixed_short);
    tcase_add_test(tc, test_uuid);
    tcase_add_test(tc, test_uvarint_golden);
    tcase_add_test(tc, test_varint_zigzag_golden);
    tcase_add_test(tc, test_varint_malformed);
    tcase_add_test(tc, test_strings_golden);
    tcase_add_test(tc, test_strings_malformed);
    tcase_add_test(tc, test_arrays);
    tcase_add_test(tc, test_tags);
    tcase_add_test(tc, test_patch_and_insert);
    tcase_add_test(tc, test_write_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(kwire_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
