/*
 * dump_log.c - kafka-dump-log (DumpLogSegments): decode segment files
 * offline, in Kafka's output layout.
 *
 *   kafka-dump-log --files A.log,A.index,A.timeindex [--print-data-log]
 *                  [--deep-iteration] [--skip-record-metadata] [--max-bytes N]
 *                  [--verify-index-only] [--index-sanity-check]
 *
 * For each file "Dumping <file>", then:
 *  - .log: "Log starting offset: N", one line per batch ("baseOffset: ..
 *    lastOffset: .. count: .. baseSequence: .. lastSequence: .. producerId:
 *    .. producerEpoch: .. partitionLeaderEpoch: .. isTransactional: ..
 *    isControl: .. deleteHorizonMs: OptionalLong.empty position: ..
 *    CreateTime: .. size: .. magic: 2 compresscodec: none crc: .. isvalid:
 *    true"), and with --deep-iteration or --print-data-log one "| offset: ..
 *    CreateTime: .. keySize: .. valueSize: .. sequence: .. headerKeys: [..]"
 *    line per record (compressed batches are inflated), --print-data-log
 *    adding " key: .. payload: .." as strings; bytes after the last whole
 *    batch: "Found N invalid bytes at the end of <name>";
 *  - .index: "offset: O position: P" per entry (stopping at the first
 *    zero entry of a preallocated file), "<file> is empty." without entries;
 *  - .timeindex: "timestamp: T offset: O" per entry.
 * Other files: "Ignoring unknown file <file>" on stderr, as Kafka.
 * The file is read through mmap; nothing is written.  Magic v0/v1 batches
 * (which Samsa never writes) end the walk as invalid bytes.  Not here:
 * Kafka's decoders for __consumer_offsets / transaction / cluster metadata
 * records (--offsets-decoder ...), index-vs-log cross checks.
 */
#include "tools/dump_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/compress.h"
#include "common/crc32c.h"
#include "common/kwire.h"
#include "tools/tool_common.h"

#define DL_BATCH_OVERHEAD 61 /* v2 batch header bytes */
#define DL_DECOMPRESSED_MAX (256u << 20)
#define DL_HEADER_KEYS_MAX 64

enum dl_opt {
    DL_FILES, DL_PRINT_DATA, DL_DEEP, DL_SKIP_META, DL_MAX_BYTES, DL_VERIFY_INDEX, DL_SANITY, DL_MAX_MSG,
    DL_KEY_DECODER, DL_VALUE_DECODER, DL_OFFSETS_DECODER, DL_TXN_DECODER, DL_METADATA_DECODER, DL_HELP, DL_VERSION,
    DL_OPT_COUNT
};

static const struct tool_optdef dl_opts[DL_OPT_COUNT] = {
    [DL_FILES] = { "files", true },
    [DL_PRINT_DATA] = { "print-data-log", false },
    [DL_DEEP] = { "deep-iteration", false },
    [DL_SKIP_META] = { "skip-record-metadata", false },
    [DL_MAX_BYTES] = { "max-bytes", true },
    [DL_VERIFY_INDEX] = { "verify-index-only", false },
    [DL_SANITY] = { "index-sanity-check", false },
    [DL_MAX_MSG] = { "max-message-size", true },
    [DL_KEY_DECODER] = { "key-decoder-class", true },
    [DL_VALUE_DECODER] = { "value-decoder-class", true },
    [DL_OFFSETS_DECODER] = { "offsets-decoder", false },
    [DL_TXN_DECODER] = { "transaction-log-decoder", false },
    [DL_METADATA_DECODER] = { "cluster-metadata-decoder", false },
    [DL_HELP] = { "help", false },
    [DL_VERSION] = { "version", false },
};

static void dl_usage(FILE *out)
{
    fprintf(out,
            "This tool helps to parse a log file and dump its contents to the console, useful for debugging a "
            "seemingly corrupt log segment.\n"
            "Option                                   Description\n"
            "------                                   -----------\n"
            "--deep-iteration                         if set, uses deep instead of shallow iteration.\n"
            "                                           Automatically set if print-data-log is enabled.\n"
            "--files <String: file1, file2, ...>      REQUIRED: The comma separated list of data and index log\n"
            "                                           files to be dumped.\n"
            "--help                                   Print usage information.\n"
            "--index-sanity-check                     if set, just checks the index sanity without printing its\n"
            "                                           content.\n"
            "--max-bytes <Integer: size>              Limit the amount of total batches read in bytes.\n"
            "--print-data-log                         if set, printing the messages content when dumping data\n"
            "                                           logs. Automatically set if any decoder option is specified.\n"
            "--skip-record-metadata                   whether to skip printing metadata for each record.\n"
            "--verify-index-only                      if set, just verify the index log without printing its\n"
            "                                           content.\n"
            "--version                                Display Kafka version.\n");
}

struct dl_map {
    const uint8_t *p;
    size_t len;
};

static int dl_map_open(const char *path, struct dl_map *m)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    m->len = (size_t)st.st_size;
    m->p = NULL;
    if (m->len > 0) {
        void *p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return -e;
        }
        m->p = p;
    }
    close(fd);
    return 0;
}

static void dl_map_close(struct dl_map *m)
{
    if (m->p)
        munmap((void *)m->p, m->len);
    m->p = NULL;
}

static int64_t dl_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

static int32_t dl_be32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static int16_t dl_be16(const uint8_t *p)
{
    return (int16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* The segment's base offset from its name (00000000000000000042.log -> 42). */
static int64_t dl_base_offset(const char *path)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    return strtoll(name, NULL, 10);
}

static const char *const dl_codec_names[8] = { "none", "gzip", "snappy", "lz4", "zstd", "unknown", "unknown",
                                               "unknown" };

static void dl_print_string(const struct bytes *b)
{
    fwrite(b->ptr, 1, b->len, stdout);
}

/* The records of one batch (already inflated): Kafka's "| offset: ..." lines. */
static int dl_records(const uint8_t *batch, struct bytes records, int32_t count, bool print_data, bool skip_meta)
{
    int64_t base_offset = dl_be64(batch);
    int16_t attributes = dl_be16(batch + 21);
    int64_t base_ts = dl_be64(batch + 27);
    int64_t max_ts = dl_be64(batch + 35);
    int32_t base_seq = dl_be32(batch + 53);
    bool log_append = attributes & 0x08;
    bool control = attributes & 0x20;
    struct kwire_reader r;
    kwire_reader_init(&r, records);
    for (int32_t i = 0; i < count; i++) {
        int32_t len, offset_delta, key_len, value_len, header_count;
        int64_t ts_delta;
        int8_t rec_attributes;
        if (kwire_read_varint(&r, &len) < 0 || len < 0 || (size_t)len > kwire_remaining(&r))
            return ERR_CORRUPT;
        struct kwire_reader rec;
        kwire_reader_init(&rec, bytes_make(r.p, (size_t)len));
        r.p += len;
        struct bytes key = { 0 }, value = { 0 };
        if (kwire_read_i8(&rec, &rec_attributes) < 0 || kwire_read_varlong(&rec, &ts_delta) < 0 ||
            kwire_read_varint(&rec, &offset_delta) < 0 || kwire_read_varint(&rec, &key_len) < 0)
            return ERR_CORRUPT;
        if (key_len >= 0) {
            if ((size_t)key_len > kwire_remaining(&rec))
                return ERR_CORRUPT;
            key = bytes_make(rec.p, (size_t)key_len);
            rec.p += key_len;
        }
        if (kwire_read_varint(&rec, &value_len) < 0)
            return ERR_CORRUPT;
        if (value_len >= 0) {
            if ((size_t)value_len > kwire_remaining(&rec))
                return ERR_CORRUPT;
            value = bytes_make(rec.p, (size_t)value_len);
            rec.p += value_len;
        }
        if (kwire_read_varint(&rec, &header_count) < 0 || header_count < 0 || header_count > DL_HEADER_KEYS_MAX * 64)
            return ERR_CORRUPT;
        const char *prefix = "| ";
        if (!skip_meta) {
            printf("| offset: %" PRId64 " %s: %" PRId64 " keySize: %d valueSize: %d sequence: %" PRId64
                   " headerKeys: [",
                   base_offset + offset_delta, log_append ? "LogAppendTime" : "CreateTime",
                   log_append ? max_ts : base_ts + ts_delta, key_len, value_len,
                   base_seq < 0 ? (int64_t)-1 : (int64_t)base_seq + offset_delta);
        }
        for (int32_t h = 0; h < header_count; h++) {
            int32_t hk_len, hv_len;
            if (kwire_read_varint(&rec, &hk_len) < 0 || hk_len < 0 || (size_t)hk_len > kwire_remaining(&rec))
                return ERR_CORRUPT;
            if (!skip_meta)
                printf("%s%.*s", h ? "," : "", hk_len, (const char *)rec.p);
            rec.p += hk_len;
            if (kwire_read_varint(&rec, &hv_len) < 0 || (hv_len > 0 && (size_t)hv_len > kwire_remaining(&rec)))
                return ERR_CORRUPT;
            if (hv_len > 0)
                rec.p += hv_len;
        }
        if (!skip_meta) {
            fputs("]", stdout);
            prefix = " ";
        }
        if (print_data && !control) {
            if (key_len >= 0) {
                printf("%skey: ", prefix);
                dl_print_string(&key);
                prefix = " ";
            }
            if (value_len >= 0) {
                fputs(" payload: ", stdout);
                dl_print_string(&value);
            }
        }
        fputs("\n", stdout);
    }
    return 0;
}

static void dl_log(const char *path, const struct dl_map *m, bool deep, bool print_data, bool skip_meta,
                   size_t max_bytes)
{
    printf("Log starting offset: %" PRId64 "\n", dl_base_offset(path));
    size_t len = m->len < max_bytes ? m->len : max_bytes;
    size_t pos = 0;
    struct buf inflated;
    buf_init(&inflated, DL_DECOMPRESSED_MAX);
    while (len - pos >= 17) {
        const uint8_t *b = m->p + pos;
        int32_t batch_len = dl_be32(b + 8);
        int8_t magic = (int8_t)b[16];
        if (magic != 2 || batch_len < DL_BATCH_OVERHEAD - 12 || (size_t)batch_len + 12 > len - pos)
            break;
        size_t size = (size_t)batch_len + 12;
        int64_t base_offset = dl_be64(b);
        int32_t leader_epoch = dl_be32(b + 12);
        uint32_t crc = (uint32_t)dl_be32(b + 17);
        int16_t attributes = dl_be16(b + 21);
        int32_t last_delta = dl_be32(b + 23);
        int64_t base_ts = dl_be64(b + 27);
        int64_t max_ts = dl_be64(b + 35);
        int64_t producer_id = dl_be64(b + 43);
        int16_t producer_epoch = dl_be16(b + 51);
        int32_t base_seq = dl_be32(b + 53);
        int32_t count = dl_be32(b + 57);
        bool valid = crc32c(0, b + 21, size - 21) == crc;
        char horizon[48];
        if (attributes & 0x40)
            snprintf(horizon, sizeof horizon, "OptionalLong[%" PRId64 "]", base_ts);
        else
            snprintf(horizon, sizeof horizon, "OptionalLong.empty");
        printf("baseOffset: %" PRId64 " lastOffset: %" PRId64 " count: %d baseSequence: %d lastSequence: %d "
               "producerId: %" PRId64 " producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %s isControl: %s "
               "deleteHorizonMs: %s position: %zu %s: %" PRId64 " size: %zu magic: 2 compresscodec: %s crc: %u "
               "isvalid: %s\n",
               base_offset, base_offset + last_delta, count, base_seq, base_seq < 0 ? -1 : base_seq + last_delta,
               producer_id, producer_epoch, leader_epoch, attributes & 0x10 ? "true" : "false",
               attributes & 0x20 ? "true" : "false", horizon, pos, attributes & 0x08 ? "LogAppendTime" : "CreateTime",
               max_ts, size, dl_codec_names[attributes & 0x07], crc, valid ? "true" : "false");
        if (deep) {
            struct bytes records = bytes_make(b + DL_BATCH_OVERHEAD, size - DL_BATCH_OVERHEAD);
            int rc = 0;
            if ((attributes & 0x07) != COMPRESS_NONE) {
                buf_reset(&inflated);
                rc = compress_decompress((enum compress_codec)(attributes & 0x07), records, &inflated);
                records = buf_bytes(&inflated);
            }
            if (rc == 0)
                rc = dl_records(b, records, count, print_data, skip_meta);
            if (rc < 0)
                printf("| cannot decode the records of this batch: %s\n", err_str(rc));
        }
        pos += size;
    }
    buf_deinit(&inflated);
    if (pos < len && max_bytes == SIZE_MAX) {
        const char *name = strrchr(path, '/');
        printf("Found %zu invalid bytes at the end of %s\n", len - pos, name ? name + 1 : path);
    }
}

/* .index (8-byte entries) and .timeindex (12-byte entries) */
static void dl_index(const char *path, const struct dl_map *m, bool time_index, bool verify_only, bool sanity_only)
{
    int64_t base = dl_base_offset(path);
    size_t entry_bytes = time_index ? 12 : 8;
    size_t entries = m->len / entry_bytes;
    if (!time_index && entries == 0) {
        printf("%s is empty.\n", path);
        return;
    }
    if (sanity_only) {
        bool ok = m->len % entry_bytes == 0;
        if (ok)
            printf("%s passed sanity check.\n", path);
        else
            fprintf(stderr, "Index file %s is corrupt, found %zu bytes which is neither positive nor a multiple of "
                            "%zu.\n", path, m->len, entry_bytes);
        return;
    }
    for (size_t i = 0; i < entries; i++) {
        const uint8_t *e = m->p + i * entry_bytes;
        int64_t offset = base + dl_be32(time_index ? e + 8 : e);
        if (offset == base && i > 0) /* the zeroed tail of a preallocated index */
            return;
        if (verify_only)
            continue;
        if (time_index)
            printf("timestamp: %" PRId64 " offset: %" PRId64 "\n", dl_be64(e), offset);
        else
            printf("offset: %" PRId64 " position: %d\n", offset, dl_be32(e + 4));
    }
}

static bool dl_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int tool_dump_log_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, dl_opts, DL_OPT_COUNT, &o, dl_usage, &exit_code))
        return exit_code;
    if (!o.val[DL_FILES])
        return tool_usage_error("Missing required argument \"[files]\"", dl_usage);
    if (o.given[DL_OFFSETS_DECODER] || o.given[DL_TXN_DECODER] || o.given[DL_METADATA_DECODER])
        return tool_usage_error("--offsets-decoder, --transaction-log-decoder and --cluster-metadata-decoder are "
                                "not available yet; records print as strings",
                                dl_usage);
    size_t max_bytes = SIZE_MAX;
    if (o.val[DL_MAX_BYTES]) {
        char *end = NULL;
        long long v = strtoll(o.val[DL_MAX_BYTES], &end, 10);
        if (*end || v <= 0)
            return tool_usage_error("Option max-bytes: a positive number is expected", dl_usage);
        max_bytes = (size_t)v;
    }
    bool print_data = o.given[DL_PRINT_DATA] || o.given[DL_KEY_DECODER] || o.given[DL_VALUE_DECODER];
    bool deep = o.given[DL_DEEP] || print_data;
    char files[4096];
    snprintf(files, sizeof files, "%s", o.val[DL_FILES]);
    exit_code = 0;
    for (char *save = NULL, *f = strtok_r(files, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        printf("Dumping %s\n", f);
        bool is_log = dl_ends_with(f, ".log"), is_index = dl_ends_with(f, ".index"),
             is_time = dl_ends_with(f, ".timeindex");
        if (!is_log && !is_index && !is_time) {
            fprintf(stderr, "Ignoring unknown file %s\n", f);
            continue;
        }
        struct dl_map m = { NULL, 0 };
        int rc = dl_map_open(f, &m);
        if (rc < 0) {
            fflush(stdout);
            fprintf(stderr, "Exception in thread \"main\" java.nio.file.NoSuchFileException: %s (%s)\n", f,
                    strerror(-rc));
            return 1;
        }
        if (is_log)
            dl_log(f, &m, deep, print_data, o.given[DL_SKIP_META], max_bytes);
        else
            dl_index(f, &m, is_time, o.given[DL_VERIFY_INDEX], o.given[DL_SANITY]);
        dl_map_close(&m);
    }
    return exit_code;
}
