/*
 * compress_test.c - every codec round-trips input built here with the same
 * library's compressor (gzip incl. concatenated members, raw and
 * xerial-framed snappy, lz4 frames, zstd incl. two frames), exactly at and
 * one byte below the output ceiling, and rejects truncated, garbage and
 * oversized input without disturbing what the buffer already held.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "common/be.h"
#include "common/compress.h"

#define PLAIN_BYTES (300u * 1024u) /* several output chunks */

static uint8_t plain[PLAIN_BYTES];
static uint8_t packed[PLAIN_BYTES * 2];

static void plain_fill(void)
{
    /* compressible but not trivial: words with a counter */
    for (size_t i = 0; i < PLAIN_BYTES; i++)
        plain[i] = (uint8_t)("samsa-record-"[i % 13] ^ (uint8_t)((i / 977) & 0x7));
}

static size_t gzip_pack(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t got = cap - zs.avail_out;
    deflateEnd(&zs);
    return got;
}

static size_t snappy_pack(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t got = cap;
    ck_assert_uint_le(snappy_max_compressed_length(n), cap);
    ck_assert_int_eq(snappy_compress((const char *)in, n, (char *)out, &got), SNAPPY_OK);
    return got;
}

/* xerial framing as kafka-python / snappy-java write it, block_bytes of input per block */
static size_t xerial_pack(const uint8_t *in, size_t n, size_t block_bytes, uint8_t *out, size_t cap)
{
    static const uint8_t hdr[16] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1 };
    memcpy(out, hdr, sizeof hdr);
    size_t pos = sizeof hdr;
    for (size_t off = 0; off < n; off += block_bytes) {
        size_t chunk = n - off < block_bytes ? n - off : block_bytes;
        size_t got = snappy_pack(in + off, chunk, out + pos + 4, cap - pos - 4);
        be_put32(out + pos, (uint32_t)got);
        pos += 4 + got;
    }
    return pos;
}

static size_t lz4_pack(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    ck_assert_uint_le(LZ4F_compressFrameBound(n, &prefs), cap);
    size_t got = LZ4F_compressFrame(out, cap, in, n, &prefs);
    ck_assert(!LZ4F_isError(got));
    return got;
}

static size_t zstd_pack(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t got = ZSTD_compress(out, cap, in, n, 3);
    ck_assert(!ZSTD_isError(got));
    return got;
}

typedef size_t (*pack_fn)(const uint8_t *, size_t, uint8_t *, size_t);

static size_t xerial_pack_32k(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    return xerial_pack(in, n, 32 * 1024, out, cap);
}

static const struct {
    enum compress_codec codec;
    pack_fn pack;
} codecs[] = {
    { COMPRESS_GZIP, gzip_pack },   { COMPRESS_SNAPPY, snappy_pack }, { COMPRESS_SNAPPY, xerial_pack_32k },
    { COMPRESS_LZ4, lz4_pack },     { COMPRESS_ZSTD, zstd_pack },
};
#define CODEC_COUNT (sizeof codecs / sizeof codecs[0])

/* round trip, then exactly at the ceiling, then one byte short of it */
START_TEST(test_round_trip_and_ceiling)
{
    plain_fill();
    size_t n = codecs[_i].pack(plain, PLAIN_BYTES, packed, sizeof packed);
    ck_assert_uint_lt(n, PLAIN_BYTES);
    struct bytes in = bytes_make(packed, n);

    struct buf out;
    buf_init(&out, 0);
    ck_assert_int_eq(compress_decompress(codecs[_i].codec, in, &out), 0);
    ck_assert_uint_eq(out.len, PLAIN_BYTES);
    ck_assert_int_eq(memcmp(out.ptr, plain, PLAIN_BYTES), 0);
    buf_deinit(&out);

    /* ceiling counts what the buf already holds */
    buf_init(&out, PLAIN_BYTES + 3);
    ck_assert_int_eq(buf_append(&out, "abc", 3), 0);
    ck_assert_int_eq(compress_decompress(codecs[_i].codec, in, &out), 0);
    ck_assert_uint_eq(out.len, PLAIN_BYTES + 3);
    ck_assert_int_eq(memcmp(out.ptr, "abc", 3), 0);
    ck_assert_int_eq(memcmp(out.ptr + 3, plain, PLAIN_BYTES), 0);
    buf_deinit(&out);

    buf_init(&out, PLAIN_BYTES + 2);
    ck_assert_int_eq(buf_append(&out, "abc", 3), 0);
    ck_assert_int_eq(compress_decompress(codecs[_i].codec, in, &out), ERR_LIMIT);
    ck_assert_uint_eq(out.len, 3);
    ck_assert_int_eq(memcmp(out.ptr, "abc", 3), 0);
    buf_deinit(&out);
}
END_TEST

/* every proper prefix of a small stream is rejected, never read past */
START_TEST(test_truncated)
{
    plain_fill();
    size_t n = codecs[_i].pack(plain, 5000, packed, sizeof packed);
    struct buf out;
    buf_init(&out, 1 << 20);
    for (size_t cut = 0; cut < n; cut++) {
        /* copy into an exact-size heap block so ASan sees any over-read */
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, packed, cut);
        buf_reset(&out);
        int rc = compress_decompress(codecs[_i].codec, bytes_make(p, cut), &out);
        free(p);
        if (rc == 0) /* a raw-snappy/xerial cut at a block boundary is a shorter valid stream */
            ck_assert(codecs[_i].codec == COMPRESS_SNAPPY && out.len < 5000);
        else
            ck_assert_int_eq(rc, ERR_CORRUPT);
    }
    buf_deinit(&out);
}
END_TEST

START_TEST(test_garbage)
{
    uint8_t junk[512];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 131 + 7);
    struct buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(compress_decompress(codecs[_i].codec, bytes_make(junk, sizeof junk), &out),
                     ERR_CORRUPT);
    ck_assert_uint_eq(out.len, 0);
    /* trailing garbage after a complete stream */
    plain_fill();
    size_t n = codecs[_i].pack(plain, 1000, packed, sizeof packed);
    memcpy(packed + n, junk, 64);
    int rc = compress_decompress(codecs[_i].codec, bytes_make(packed, n + 64), &out);
    ck_assert_int_eq(rc, ERR_CORRUPT);
    ck_assert_uint_eq(out.len, 0);
    buf_deinit(&out);
}
END_TEST

START_TEST(test_gzip_members_concatenated)
{
    plain_fill();
    size_t a = gzip_pack(plain, 1000, packed, sizeof packed);
    size_t b = gzip_pack(plain + 1000, 2000, packed + a, sizeof packed - a);
    struct buf out;
    buf_init(&out, 0);
    ck_assert_int_eq(compress_decompress(COMPRESS_GZIP, bytes_make(packed, a + b), &out), 0);
    ck_assert_uint_eq(out.len, 3000);
    ck_assert_int_eq(memcmp(out.ptr, plain, 3000), 0);
    buf_deinit(&out);
}
END_TEST

START_TEST(test_zstd_two_frames)
{
    plain_fill();
    size_t a = zstd_pack(plain, 1000, packed, sizeof packed);
    size_t b = zstd_pack(plain + 1000, 2000, packed + a, sizeof packed - a);
    struct buf out;
    buf_init(&out, 0);
    ck_assert_int_eq(compress_decompress(COMPRESS_ZSTD, bytes_make(packed, a + b), &out), 0);
    ck_assert_uint_eq(out.len, 3000);
    ck_assert_int_eq(memcmp(out.ptr, plain, 3000), 0);
    buf_deinit(&out);
}
END_TEST

/* a snappy block that claims 1 GiB is refused before anything is reserved */
START_TEST(test_snappy_oversized_claim)
{
    uint8_t in[16] = { 0x80, 0x80, 0x80, 0x80, 0x04, 0x00 }; /* varint 1<<30 */
    struct buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(compress_decompress(COMPRESS_SNAPPY, bytes_make(in, sizeof in), &out), ERR_LIMIT);
    ck_assert_uint_eq(out.cap, 0); /* nothing was allocated */
    /* xerial: a block length beyond the input */
    plain_fill();
    size_t n = xerial_pack(plain, 4000, 1000, packed, sizeof packed);
    be_put32(packed + 16, 1u << 20);
    ck_assert_int_eq(compress_decompress(COMPRESS_SNAPPY, bytes_make(packed, n), &out), ERR_CORRUPT);
    /* xerial: a negative block length */
    be_put32(packed + 16, 0xfffffff0u);
    ck_assert_int_eq(compress_decompress(COMPRESS_SNAPPY, bytes_make(packed, n), &out), ERR_CORRUPT);
    /* xerial header only (empty payload) is empty output; a short header is corrupt */
    ck_assert_int_eq(compress_decompress(COMPRESS_SNAPPY, bytes_make(packed, 16), &out), 0);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_int_eq(compress_decompress(COMPRESS_SNAPPY, bytes_make(packed, 12), &out), ERR_CORRUPT);
    buf_deinit(&out);
}
END_TEST

/* xerial blocks are decoded in order and concatenated */
START_TEST(test_xerial_blocks)
{
    plain_fill();
    size_t n = xerial_pack(plain, 10000, 3000, packed, sizeof packed); /* 4 blocks */
    struct buf out;
    buf_init(&out, 0);
    ck_assert_int_eq(compress_decompress(COMPRESS_SNAPPY, bytes_make(packed, n), &out), 0);
    ck_assert_uint_eq(out.len, 10000);
    ck_assert_int_eq(memcmp(out.ptr, plain, 10000), 0);
    /* a ceiling between blocks: the second block's claim is over it */
    buf_deinit(&out);
    buf_init(&out, 4000);
    ck_assert_int_eq(compress_decompress(COMPRESS_SNAPPY, bytes_make(packed, n), &out), ERR_LIMIT);
    ck_assert_uint_eq(out.len, 0);
    buf_deinit(&out);
}
END_TEST

/* a highly compressible input (a "zip bomb" in small) stops at the ceiling */
START_TEST(test_bomb_stops_at_ceiling)
{
    static uint8_t zeros[512u * 1024u];
    size_t n = codecs[_i].pack(zeros, sizeof zeros, packed, sizeof packed);
    ck_assert_uint_lt(n, 100 * 1024);
    struct buf out;
    buf_init(&out, 100 * 1024);
    ck_assert_int_eq(compress_decompress(codecs[_i].codec, bytes_make(packed, n), &out), ERR_LIMIT);
    ck_assert_uint_le(out.cap, 100 * 1024);
    buf_deinit(&out);
}
END_TEST

START_TEST(test_none_and_unknown)
{
    struct buf out;
    buf_init(&out, 4);
    ck_assert_int_eq(compress_decompress(COMPRESS_NONE, bytes_make("abcd", 4), &out), 0);
    ck_assert_uint_eq(out.len, 4);
    ck_assert_int_eq(compress_decompress(COMPRESS_NONE, bytes_make("e", 1), &out), ERR_LIMIT);
    ck_assert_uint_eq(out.len, 4);
    ck_assert_int_eq(compress_decompress((enum compress_codec)5, bytes_make("e", 1), &out),
                     ERR_UNSUPPORTED);
    ck_assert_str_eq(compress_codec_name(COMPRESS_ZSTD), "zstd");
    ck_assert_str_eq(compress_codec_name((enum compress_codec)7), "unknown");
    buf_deinit(&out);
}
END_TEST

static Suite *compress_suite(void)
{
    Suite *s = suite_create("compress");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_round_trip_and_ceiling, 0, (int)CODEC_COUNT);
    tcase_add_loop_test(tc, test_truncated, 0, (int)CODEC_COUNT);
    tcase_add_loop_test(tc, test_garbage, 0, (int)CODEC_COUNT);
    tcase_add_loop_test(tc, test_bomb_stops_at_ceiling, 0, (int)CODEC_COUNT);
    tcase_add_test(tc, test_gzip_members_concatenated);
    tcase_add_test(tc, test_zstd_two_frames);
    tcase_add_test(tc, test_snappy_oversized_claim);
    tcase_add_test(tc, test_xerial_blocks);
    tcase_add_test(tc, test_none_and_unknown);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(compress_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
