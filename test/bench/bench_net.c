/*
 * bench_net.c - the machine's loopback TCP bandwidth, the ceiling for any
 * client talking to a broker on 127.0.0.1.
 *
 *   bench_net [SECONDS [GiB]]
 *
 * A receiver thread accepts one connection on 127.0.0.1 (ephemeral port)
 * and drains it; the main thread sends 1 MiB write(2)s until SECONDS
 * (default 10) have passed or GiB (default 8) have been sent, whichever is
 * first, then shuts down and waits for the receiver to see EOF.  Prints:
 *
 *   RESULT kind=loopback bytes=N secs=S mbps=M      (MB = 10^6 bytes)
 *
 * The clock stops when the receiver has read every byte, so socket buffers
 * do not flatter the number.  It does not measure latency or many flows.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NET_CHUNK_BYTES (1024 * 1024)

struct bench_net_rx {
    int listen_fd;
    uint64_t bytes;
    int err;
};

static int64_t bench_net_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *bench_net_rx_main(void *arg)
{
    struct bench_net_rx *rx = arg;
    int fd = accept(rx->listen_fd, NULL, NULL);
    if (fd < 0) {
        rx->err = errno;
        return NULL;
    }
    unsigned char *b = malloc(BENCH_NET_CHUNK_BYTES);
    if (!b) {
        rx->err = ENOMEM;
        close(fd);
        return NULL;
    }
    for (;;) {
        ssize_t r = read(fd, b, BENCH_NET_CHUNK_BYTES);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rx->err = errno;
        if (r <= 0)
            break;
        rx->bytes += (uint64_t)r;
    }
    free(b);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    double secs_max = argc > 1 ? strtod(argv[1], NULL) : 10.0;
    double gib_max = argc > 2 ? strtod(argv[2], NULL) : 8.0;
    if (secs_max <= 0 || gib_max <= 0) {
        fprintf(stderr, "usage: bench_net [SECONDS [GiB]]\n");
        return 2;
    }
    uint64_t bytes_max = (uint64_t)(gib_max * 1024.0 * 1024.0 * 1024.0);
    struct bench_net_rx rx = {.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (rx.listen_fd < 0) {
        perror("bench_net: socket");
        return 1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (bind(rx.listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(rx.listen_fd, 1) < 0 ||
        getsockname(rx.listen_fd, (struct sockaddr *)&sa, &sl) < 0) {
        perror("bench_net: bind/listen");
        return 1;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, bench_net_rx_main, &rx) != 0) {
        fprintf(stderr, "bench_net: pthread_create failed\n");
        return 1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("bench_net: connect");
        return 1;
    }
    unsigned char *b = calloc(1, BENCH_NET_CHUNK_BYTES);
    if (!b) {
        fprintf(stderr, "bench_net: out of memory\n");
        return 1;
    }
    memset(b, 0x5a, BENCH_NET_CHUNK_BYTES);
    uint64_t sent = 0;
    int rc = 0;
    int64_t t0_ns = bench_net_now_ns();
    int64_t deadline_ns = t0_ns + (int64_t)(secs_max * 1e9);
    while (sent < bytes_max && bench_net_now_ns() < deadline_ns) {
        ssize_t w = write(fd, b, BENCH_NET_CHUNK_BYTES);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            perror("bench_net: write");
            rc = 1;
            break;
        }
        sent += (uint64_t)w;
    }
    shutdown(fd, SHUT_WR);
    pthread_join(th, NULL);
    int64_t t1_ns = bench_net_now_ns();
    close(fd);
    close(rx.listen_fd);
    free(b);
    if (rc != 0 || rx.err != 0 || rx.bytes != sent) {
        fprintf(stderr, "bench_net: failed (sent=%llu received=%llu err=%d)\n",
                (unsigned long long)sent, (unsigned long long)rx.bytes, rx.err);
        return 1;
    }
    double secs = (double)(t1_ns - t0_ns) / 1e9;
    printf("RESULT kind=loopback bytes=%llu secs=%.3f mbps=%.1f\n", (unsigned long long)sent, secs,
           (double)sent / 1e6 / secs);
    return 0;
}
