/*
 * compress.c - streaming decoders over zlib, snappy-c, LZ4F and zstd, each
 * writing into a bounded struct buf.
 *
 * Every streaming decoder runs the same loop: get an output window
 * (compress_room), run the library once, account what it produced and
 * consumed.  At the ceiling the window is a one-byte probe: a decoder that
 * still writes into it has more output than the ceiling allows (ERR_LIMIT),
 * one that finishes without writing was exactly at the ceiling.  A call
 * that neither consumes nor produces and does not finish is malformed
 * input (ERR_CORRUPT), which also guarantees the loop ends.
 */
#include "compress.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "be.h"
#include "log.h"

#define COMPRESS_XERIAL_HDR_BYTES 16
static const uint8_t compress_xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };

const char *compress_codec_name(enum compress_codec codec)
{
    switch (codec) {
    case COMPRESS_NONE: return "none";
    case COMPRESS_GZIP: return "gzip";
    case COMPRESS_SNAPPY: return "snappy";
    case COMPRESS_LZ4: return "lz4";
    case COMPRESS_ZSTD: return "zstd";
    }
    return "unknown";
}

/*
 * compress_room - the next output window: free space in out (growing it by
 * up to COMPRESS_CHUNK_BYTES), or the one-byte probe when out is at its
 * ceiling (*probing set).  Returns 0 or a buf_reserve error.
 */
static int compress_room(struct buf *out, uint8_t *probe, uint8_t **p_out, size_t *n_out,
                         bool *probing)
{
    *probing = false;
    if (out->cap <= out->len) {
        size_t left = out->cap_max - out->len;
        if (left == 0) {
            *probing = true;
            *p_out = probe;
            *n_out = 1;
            return 0;
        }
        int rc = buf_reserve(out, left < COMPRESS_CHUNK_BYTES ? left : COMPRESS_CHUNK_BYTES);
        if (rc < 0)
            return rc;
    }
    ASSERT(out->cap > out->len);
    *p_out = out->ptr + out->len;
    *n_out = out->cap - out->len;
    return 0;
}

/* compress_produced - account n bytes written into the last window. */
static int compress_produced(struct buf *out, bool probing, size_t n)
{
    if (probing)
        return n > 0 ? ERR_LIMIT : 0;
    ASSERT(n <= out->cap - out->len);
    out->len += n;
    return 0;
}

static int compress_gzip(struct bytes in, struct buf *out)
{
    if (in.len > UINT_MAX)
        return ERR_LIMIT;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper only */
        return -ENOMEM;
    zs.next_in = (Bytef *)(uintptr_t)in.ptr;
    zs.avail_in = (uInt)in.len;
    int rc = 0;
    uint8_t probe;
    for (;;) {
        uint8_t *p;
        size_t n;
        bool probing;
        rc = compress_room(out, &probe, &p, &n, &probing);
        if (rc < 0)
            break;
        if (n > UINT_MAX)
            n = UINT_MAX;
        zs.next_out = p;
        zs.avail_out = (uInt)n;
        uInt in_before = zs.avail_in;
        int zrc = inflate(&zs, Z_NO_FLUSH);
        size_t made = n - zs.avail_out;
        rc = compress_produced(out, probing, made);
        if (rc < 0)
            break;
        if (zrc == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            /* another gzip member follows (GZIPInputStream reads them all) */
            if (inflateReset(&zs) != Z_OK) {
                rc = ERR_CORRUPT;
                break;
            }
            continue;
        }
        if (zrc == Z_MEM_ERROR) {
            rc = -ENOMEM;
            break;
        }
        if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            rc = ERR_CORRUPT; /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
            break;
        }
        if (zs.avail_out > 0 && zs.avail_in == 0) {
            rc = ERR_CORRUPT; /* wants more input than there is: truncated */
            break;
        }
        if (made == 0 && zs.avail_in == in_before) {
            rc = ERR_CORRUPT;
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

static int compress_lz4(struct bytes in, struct buf *out)
{
    LZ4F_dctx *dctx = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return -ENOMEM;
    const uint8_t *src = in.ptr;
    size_t src_left = in.len;
    int rc = 0;
    uint8_t probe;
    for (;;) {
        uint8_t *p;
        size_t n;
        bool probing;
        rc = compress_room(out, &probe, &p, &n, &probing);
        if (rc < 0)
            break;
        size_t dst_n = n, src_n = src_left;
        size_t hint = LZ4F_decompress(dctx, p, &dst_n, src, &src_n, NULL);
        if (LZ4F_isError(hint)) {
            rc = ERR_CORRUPT;
            break;
        }
        rc = compress_produced(out, probing, dst_n);
        if (rc < 0)
            break;
        src += src_n;
        src_left -= src_n;
        if (hint == 0) {
            /* frame complete; Kafka writes exactly one frame per batch */
            rc = src_left == 0 ? 0 : ERR_CORRUPT;
            break;
        }
        if (src_left == 0 && dst_n < n) {
            rc = ERR_CORRUPT; /* truncated */
            break;
        }
        if (src_n == 0 && dst_n == 0) {
            rc = ERR_CORRUPT;
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

static int compress_zstd(struct bytes in, struct buf *out)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds)
        return -ENOMEM;
    if (ZSTD_isError(ZSTD_DCtx_setParameter(ds, ZSTD_d_windowLogMax, COMPRESS_ZSTD_WINDOW_LOG_MAX))) {
        ZSTD_freeDStream(ds);
        return -ENOMEM;
    }
    ZSTD_inBuffer ib = { in.ptr, in.len, 0 };
    int rc = 0;
    uint8_t probe;
    for (;;) {
        uint8_t *p;
        size_t n;
        bool probing;
        rc = compress_room(out, &probe, &p, &n, &probing);
        if (rc < 0)
            break;
        ZSTD_outBuffer ob = { p, n, 0 };
        size_t in_before = ib.pos;
        size_t zr = ZSTD_decompressStream(ds, &ob, &ib);
        if (ZSTD_isError(zr)) {
            ZSTD_ErrorCode ec = ZSTD_getErrorCode(zr);
            rc = ec == ZSTD_error_memory_allocation          ? -ENOMEM
                 : ec == ZSTD_error_frameParameter_windowTooLarge ? ERR_LIMIT
                                                                  : ERR_CORRUPT;
            break;
        }
        rc = compress_produced(out, probing, ob.pos);
        if (rc < 0)
            break;
        if (zr == 0 && ib.pos == ib.size)
            break; /* last frame fully decoded and flushed */
        if (ib.pos == ib.size && ob.pos < ob.size) {
            rc = ERR_CORRUPT; /* truncated */
            break;
        }
        if (ob.pos == 0 && ib.pos == in_before && zr != 0) {
            rc = ERR_CORRUPT;
            break;
        }
    }
    ZSTD_freeDStream(ds);
    return rc;
}

/* compress_snappy_block - one raw snappy block, its declared length checked
 * against the ceiling before anything is reserved. */
static int compress_snappy_block(const uint8_t *p, size_t n, struct buf *out)
{
    size_t ulen;
    if (snappy_uncompressed_length((const char *)p, n, &ulen) != SNAPPY_OK)
        return ERR_CORRUPT;
    if (ulen > out->cap_max - out->len)
        return ERR_LIMIT;
    if (ulen == 0)
        return snappy_validate_compressed_buffer((const char *)p, n) == SNAPPY_OK ? 0 : ERR_CORRUPT;
    int rc = buf_reserve(out, ulen);
    if (rc < 0)
        return rc;
    size_t got = ulen;
    if (snappy_uncompress((const char *)p, n, (char *)out->ptr + out->len, &got) != SNAPPY_OK ||
        got != ulen)
        return ERR_CORRUPT;
    out->len += got;
    return 0;
}

static int compress_snappy(struct bytes in, struct buf *out)
{
    if (in.len < sizeof compress_xerial_magic ||
        memcmp(in.ptr, compress_xerial_magic, sizeof compress_xerial_magic) != 0)
        return compress_snappy_block(in.ptr, in.len, out);
    /* xerial framing: magic, version i32, compatible version i32, then blocks */
    if (in.len < COMPRESS_XERIAL_HDR_BYTES)
        return ERR_CORRUPT;
    size_t pos = COMPRESS_XERIAL_HDR_BYTES;
    while (pos < in.len) {
        if (in.len - pos < 4)
            return ERR_CORRUPT;
        const uint8_t *q = in.ptr + pos;
        uint32_t blen = be_get32(q);
        pos += 4;
        if (blen == 0 || blen > INT32_MAX || blen > in.len - pos)
            return ERR_CORRUPT;
        int rc = compress_snappy_block(in.ptr + pos, blen, out);
        if (rc < 0)
            return rc;
        pos += blen;
    }
    return 0;
}

int compress_decompress(enum compress_codec codec, struct bytes in, struct buf *out)
{
    ASSERT(out != NULL);
    ASSERT(out->len <= out->cap_max);
    if (in.ptr == NULL)
        in.len = 0;
    size_t len_before = out->len;
    int rc;
    switch (codec) {
    case COMPRESS_NONE:
        rc = in.len ? buf_append(out, in.ptr, in.len) : 0;
        break;
    case COMPRESS_GZIP:
        rc = compress_gzip(in, out);
        break;
    case COMPRESS_SNAPPY:
        rc = compress_snappy(in, out);
        break;
    case COMPRESS_LZ4:
        rc = compress_lz4(in, out);
        break;
    case COMPRESS_ZSTD:
        rc = compress_zstd(in, out);
        break;
    default:
        return ERR_UNSUPPORTED;
    }
    if (rc < 0)
        out->len = len_before;
    ASSERT(out->len <= out->cap_max);
    return rc;
}
