/*
 * bench_disk.c - the machine's raw sequential write bandwidth, the ceiling
 * any log-structured broker on this disk can approach.
 *
 *   bench_disk DIR [MiB]
 *
 * Writes MiB (default 1024) MiB to a fresh file in DIR in 1 MiB write(2)s,
 * then one fdatasync(2), and prints one line:
 *
 *   RESULT kind=disk bytes=N secs=S mbps=M          (MB = 10^6 bytes)
 *
 * The clock covers the writes and the fdatasync, so the page cache cannot
 * flatter the number.  The buffer is filled with non-zero pseudo-random
 * bytes so a compressing or dedup-ing filesystem does not either.  The file
 * is removed afterwards.  It does not measure reads, O_DIRECT or random I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_DISK_CHUNK_BYTES (1024 * 1024)

static int64_t bench_disk_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_disk DIR [MiB]\n");
        return 2;
    }
    long mib_count = argc == 3 ? strtol(argv[2], NULL, 10) : 1024;
    if (mib_count <= 0 || mib_count > 1024 * 1024) {
        fprintf(stderr, "bench_disk: bad size %s\n", argv[2]);
        return 2;
    }
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/bench_disk.%ld.tmp", argv[1], (long)getpid());
    if (n < 0 || (size_t)n >= sizeof path) {
        fprintf(stderr, "bench_disk: path too long\n");
        return 2;
    }
    unsigned char *chunk = malloc(BENCH_DISK_CHUNK_BYTES);
    if (!chunk) {
        fprintf(stderr, "bench_disk: out of memory\n");
        return 1;
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < BENCH_DISK_CHUNK_BYTES; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        chunk[i] = (unsigned char)(x | 1);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "bench_disk: open %s: %s\n", path, strerror(errno));
        free(chunk);
        return 1;
    }
    int rc = 0;
    int64_t t0_ns = bench_disk_now_ns();
    for (long i = 0; i < mib_count && rc == 0; i++) {
        size_t off = 0;
        while (off < BENCH_DISK_CHUNK_BYTES) {
            ssize_t w = write(fd, chunk + off, BENCH_DISK_CHUNK_BYTES - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                fprintf(stderr, "bench_disk: write: %s\n", w < 0 ? strerror(errno) : "short");
                rc = 1;
                break;
            }
            off += (size_t)w;
        }
    }
    if (rc == 0 && fdatasync(fd) < 0) {
        fprintf(stderr, "bench_disk: fdatasync: %s\n", strerror(errno));
        rc = 1;
    }
    int64_t t1_ns = bench_disk_now_ns();
    close(fd);
    unlink(path);
    free(chunk);
    if (rc != 0)
        return rc;
    double secs = (double)(t1_ns - t0_ns) / 1e9;
    double bytes = (double)mib_count * BENCH_DISK_CHUNK_BYTES;
    printf("RESULT kind=disk bytes=%.0f secs=%.3f mbps=%.1f\n", bytes, secs, bytes / 1e6 / secs);
    return 0;
}
