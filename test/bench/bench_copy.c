/*
 * bench_copy.c - the machine's CPU floor for one replica copy: what any
 * follower of any broker must at least spend, on this machine, to take a
 * leader's newest bytes into its own page cache over loopback TCP.
 *
 *   bench_copy DIR [MiB]
 *
 * First (not measured) it writes MiB (default 200) MiB of pseudo-random
 * bytes to DIR/bench_copy.src with write(2): the leader's segment, in the
 * page cache as a just-appended one is.  Then, measured: a sender thread
 * sendfile(2)s that file over one loopback TCP connection in 1 MiB pieces
 * (the leader's cheapest path: no user-space copy at all), and the main
 * thread read(2)s 1 MiB chunks and write(2)s each to a fresh file
 * DIR/bench_copy.dst (the follower's page-cache append).  Prints:
 *
 *   RESULT kind=replica-copy bytes=N secs=S cpu_s=C cpu_s_per_gb=X
 *
 * cpu_s is the process's user + system time (getrusage RUSAGE_SELF, every
 * thread, softirq work the kernel charges to them included) over the
 * measured part; GB = 10^9 bytes.  No CRC, no protocol, no wake-ups of an
 * event loop, no fsync: a real follower does all of that on top, so RF=3's
 * cluster CPU per GB cannot go below RF=1's + 2 x this figure
 * (summarize.py prints that floor next to the replication-overhead target).
 * Both files are removed afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_COPY_CHUNK_BYTES (1024 * 1024)

struct bench_copy_tx {
    int listen_fd;
    int src_fd;
    uint64_t bytes;
    int err;
};

static int64_t bench_copy_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double bench_copy_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

/* The leader: accept one connection and sendfile the whole source file. */
static void *bench_copy_tx_main(void *arg)
{
    struct bench_copy_tx *tx = arg;
    int fd = accept(tx->listen_fd, NULL, NULL);
    if (fd < 0) {
        tx->err = errno;
        return NULL;
    }
    off_t off = 0;
    while ((uint64_t)off < tx->bytes) {
        size_t n = tx->bytes - (uint64_t)off < BENCH_COPY_CHUNK_BYTES ? (size_t)(tx->bytes - (uint64_t)off)
                                                                      : BENCH_COPY_CHUNK_BYTES;
        ssize_t w = sendfile(fd, tx->src_fd, &off, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            tx->err = w < 0 ? errno : EIO;
            break;
        }
    }
    close(fd);
    return NULL;
}

static int bench_copy_fill(int fd, unsigned char *b, uint64_t bytes)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < BENCH_COPY_CHUNK_BYTES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b[i] = (unsigned char)(x | 1);
    }
    for (uint64_t done = 0; done < bytes; done += BENCH_COPY_CHUNK_BYTES)
        if (write(fd, b, BENCH_COPY_CHUNK_BYTES) != BENCH_COPY_CHUNK_BYTES)
            return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (argc == 3 && atoi(argv[2]) <= 0)) {
        fprintf(stderr, "usage: bench_copy DIR [MiB]\n");
        return 2;
    }
    uint64_t bytes = (uint64_t)(argc == 3 ? atoi(argv[2]) : 200) * BENCH_COPY_CHUNK_BYTES;
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/bench_copy.src", argv[1]);
    snprintf(dst, sizeof dst, "%s/bench_copy.dst", argv[1]);
    unsigned char *b = malloc(BENCH_COPY_CHUNK_BYTES);
    int src_fd = open(src, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int dst_fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (!b || src_fd < 0 || dst_fd < 0 || bench_copy_fill(src_fd, b, bytes) < 0) {
        fprintf(stderr, "bench_copy: cannot write %s or %s: %s\n", src, dst, strerror(errno));
        return 1;
    }
    struct bench_copy_tx tx = {.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
                               .src_fd = src_fd,
                               .bytes = bytes};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (tx.listen_fd < 0 || bind(tx.listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(tx.listen_fd, 1) < 0 || getsockname(tx.listen_fd, (struct sockaddr *)&sa, &sl) < 0) {
        perror("bench_copy: listen on 127.0.0.1");
        return 1;
    }
    double cpu0_s = bench_copy_cpu_s();
    int64_t t0_ns = bench_copy_now_ns();
    pthread_t th;
    if (pthread_create(&th, NULL, bench_copy_tx_main, &tx) != 0) {
        fprintf(stderr, "bench_copy: pthread_create failed\n");
        return 1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("bench_copy: connect");
        return 1;
    }
    uint64_t got = 0;
    int err = 0;
    for (;;) {
        ssize_t r = read(fd, b, BENCH_COPY_CHUNK_BYTES);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = r < 0 ? errno : 0;
            break;
        }
        if (write(dst_fd, b, (size_t)r) != r) {
            err = errno ? errno : EIO;
            break;
        }
        got += (uint64_t)r;
    }
    pthread_join(th, NULL);
    int64_t t1_ns = bench_copy_now_ns();
    double cpu_s = bench_copy_cpu_s() - cpu0_s;
    close(fd);
    close(tx.listen_fd);
    close(src_fd);
    close(dst_fd);
    unlink(src);
    unlink(dst);
    free(b);
    if (err != 0 || tx.err != 0 || got != bytes) {
        fprintf(stderr, "bench_copy: failed (sent %llu of %llu bytes, received %llu): %s\n",
                (unsigned long long)bytes, (unsigned long long)bytes, (unsigned long long)got,
                strerror(err ? err : tx.err ? tx.err : EIO));
        return 1;
    }
    double secs = (double)(t1_ns - t0_ns) / 1e9;
    printf("RESULT kind=replica-copy bytes=%llu secs=%.3f cpu_s=%.3f cpu_s_per_gb=%.3f\n", (unsigned long long)got,
           secs, cpu_s, cpu_s / ((double)got / 1e9));
    return 0;
}
