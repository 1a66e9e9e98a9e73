/*
 * server_main.c - samsa-server: the node binary.
 *
 *   samsa-server [--print-config] server.properties|server.yaml [--override key=value]...
 *
 * Configuration precedence is Kafka's and the cp-kafka image's: defaults <
 * file < KAFKA_* environment < --override.  Exit status: 0 after a clean
 * shutdown (SIGINT/SIGTERM), 1 on a configuration or start-up error (one
 * line per problem saying what, the value and the fix), 2 on usage errors.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_server.h"
#include "common/config.h"
#include "common/log.h"

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out, "USAGE: samsa-server [--print-config] server.properties [--override property=value]*\n"
                 "  The config file may also be YAML (.yaml/.yml).  KAFKA_* environment variables\n"
                 "  override the file (KAFKA_LOG_DIRS -> log.dirs) and --override beats both.\n");
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int print_config = 0;
    /* Request and response buffers reach tens of MB (fetch.max.bytes): keep
     * them on the heap and reuse them instead of an mmap + page faults +
     * munmap per request (glibc's default above 128 KiB-32 MiB). */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    struct config *cfg = NULL;
    if (config_create(&cfg) < 0) {
        fprintf(stderr, "samsa-server: out of memory\n");
        return 1;
    }
    /* the file first, so overrides given before it still win by rank */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            config_destroy(cfg);
            return 0;
        } else if (strcmp(argv[i], "--print-config") == 0) {
            print_config = 1;
        } else if (strcmp(argv[i], "--override") == 0) {
            if (i + 1 >= argc) {
                usage(stderr);
                config_destroy(cfg);
                return 2;
            }
            i++;
        } else if (strncmp(argv[i], "--override=", 11) == 0) {
            /* handled below */
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "samsa-server: unknown option %s\n", argv[i]);
            usage(stderr);
            config_destroy(cfg);
            return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "samsa-server: more than one config file given (%s and %s)\n", path, argv[i]);
            config_destroy(cfg);
            return 2;
        }
    }
    int rc = 0;
    if (path)
        rc = config_load_file(cfg, path);
    if (rc == 0)
        rc = config_load_env(cfg, environ);
    for (int i = 1; rc == 0 && i < argc; i++) {
        if (strcmp(argv[i], "--override") == 0)
            rc = config_override(cfg, argv[++i]);
        else if (strncmp(argv[i], "--override=", 11) == 0)
            rc = config_override(cfg, argv[i] + 11);
    }
    if (rc == 0)
        rc = config_finalize(cfg);
    if (rc < 0) {
        fputs(config_errors(cfg), stderr);
        if (!path && !config_errors(cfg)[0])
            usage(stderr);
        config_destroy(cfg);
        return 1;
    }
    if (print_config) {
        config_print(cfg, stdout);
        config_destroy(cfg);
        return 0;
    }
    const struct config_node *node = config_node_get(cfg);
    log_set_level((enum log_level)node->log_level);
    if (node->roles == 0) {
        fprintf(stderr, "config error: process.roles is not set; Samsa runs only in KRaft mode: set "
                        "process.roles=broker,controller (or broker / controller), node.id and "
                        "controller.quorum.voters (zookeeper.connect is not used)\n");
        config_destroy(cfg);
        return 1;
    }
    struct brk_ctx *srv = NULL;
    rc = brk_server_create(cfg, path, &srv);
    if (rc < 0) {
        log_error("server", "start-up failed error=\"%s\"", err_str(rc));
        config_destroy(cfg);
        return 1;
    }
    rc = brk_server_run(srv);
    brk_server_destroy(srv);
    config_destroy(cfg);
    log_info("server", "stopped");
    return rc < 0 ? 1 : 0;
}
