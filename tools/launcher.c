/*
 * launcher.c - what Kafka's bin/ scripts do besides running a tool:
 *
 *   kafka-server-start[.sh] [-daemon] server.properties [--override k=v]...
 *       execs samsa-server (found beside this binary, else on PATH) with
 *       the same arguments.  -daemon detaches (new session, stdin from
 *       /dev/null) and sends the server's output to $LOG_DIR/kafkaServer.out
 *       as kafka-run-class.sh does (LOG_DIR defaults to <bin>/../logs).
 *   kafka-server-stop[.sh] [--process-role R] [--node-id N]
 *       SIGTERM to every running samsa-server (Kafka's script greps `ps` for
 *       kafka.Kafka), optionally only those whose node.id / process.roles
 *       (from their --override or their properties file) match.
 *   kafka-run-class[.sh] CLASS [args...]
 *       runs the tool Kafka's CLASS names (GetOffsetShell, ConsoleProducer,
 *       TopicCommand, ...); kafka.Kafka runs the server.
 *
 * Not here: JVM options (KAFKA_HEAP_OPTS, ...), log4j files, -name/-loggc.
 */
#include "tools/launcher.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/broker_api_versions.h"
#include "tools/configs.h"
#include "tools/console_consumer.h"
#include "tools/console_producer.h"
#include "tools/consumer_groups.h"
#include "tools/delete_records.h"
#include "tools/dump_log.h"
#include "tools/get_offsets.h"
#include "tools/leader_election.h"
#include "tools/log_dirs.h"
#include "tools/metadata_quorum.h"
#include "tools/perf_tools.h"
#include "tools/reassign_partitions.h"
#include "tools/storage.h"
#include "tools/topics.h"
#include "tools/verifiable_consumer.h"
#include "tools/verifiable_producer.h"

#define LAUNCHER_CMDLINE_MAX 8192
#define LAUNCHER_ARGS_MAX 64

/* The directory holding this executable (symlinks resolved). */
static int launcher_bin_dir(char *out, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

static void launcher_server_path(char *out, size_t size)
{
    char dir[PATH_MAX - 64];
    if (launcher_bin_dir(dir, sizeof dir) == 0) {
        snprintf(out, size, "%s/samsa-server", dir);
        if (access(out, X_OK) == 0)
            return;
    }
    snprintf(out, size, "samsa-server"); /* execvp searches PATH */
}

static int launcher_mkdirs(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static void server_start_usage(FILE *out, const char *prog)
{
    fprintf(out, "USAGE: %s [-daemon] server.properties [--override property=value]*\n", prog);
}

int tool_server_start_main(int argc, char **argv)
{
    bool daemon_mode = false;
    int first = 1;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        server_start_usage(stdout, argv[0]);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "-daemon") == 0) {
        daemon_mode = true;
        first = 2;
    }
    if (argc <= first) {
        server_start_usage(stderr, argv[0]);
        return 1;
    }
    char server[PATH_MAX];
    launcher_server_path(server, sizeof server);
    char *args[LAUNCHER_ARGS_MAX + 2];
    if (argc - first > LAUNCHER_ARGS_MAX) {
        fprintf(stderr, "%s: more than %d arguments\n", argv[0], LAUNCHER_ARGS_MAX);
        return 1;
    }
    int n = 0;
    args[n++] = server;
    for (int i = first; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    if (!daemon_mode) {
        execvp(server, args);
        fprintf(stderr, "%s: cannot run %s: %s (build it with make, or put it on PATH)\n", argv[0], server,
                strerror(errno));
        return 1;
    }
    char log_dir[PATH_MAX];
    const char *env = getenv("LOG_DIR");
    if (env && *env) {
        snprintf(log_dir, sizeof log_dir, "%s", env);
    } else {
        char dir[PATH_MAX - 64];
        if (launcher_bin_dir(dir, sizeof dir) < 0)
            snprintf(dir, sizeof dir, ".");
        snprintf(log_dir, sizeof log_dir, "%s/../logs", dir);
    }
    int rc = launcher_mkdirs(log_dir);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot create LOG_DIR %s: %s\n", argv[0], log_dir, strerror(-rc));
        return 1;
    }
    char out_path[PATH_MAX + 32];
    snprintf(out_path, sizeof out_path, "%s/kafkaServer.out", log_dir);
    int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", argv[0], out_path, strerror(errno));
        return 1;
    }
    if (strchr(server, '/') && access(server, X_OK) < 0) {
        fprintf(stderr, "%s: cannot run %s: %s\n", argv[0], server, strerror(errno));
        close(out_fd);
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", argv[0], strerror(errno));
        close(out_fd);
        return 1;
    }
    if (pid > 0) {
        close(out_fd);
        return 0;
    }
    /* the child: nohup-like, detached from the terminal and the caller's group */
    setsid();
    signal(SIGHUP, SIG_IGN);
    int in_fd = open("/dev/null", O_RDONLY);
    if (in_fd >= 0) {
        dup2(in_fd, 0);
        close(in_fd);
    }
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    close(out_fd);
    execvp(server, args);
    fprintf(stderr, "%s: cannot run %s: %s\n", argv[0], server, strerror(errno));
    _exit(127);
}

/* Read /proc/PID/cmdline into buf; returns the argument count, or -1. */
static int launcher_cmdline(const char *pid, char *buf, size_t size, char **args, int args_max)
{
    char path[320];
    snprintf(path, sizeof path, "/proc/%s/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    int count = 0;
    for (char *p = buf; p < buf + n && count < args_max; p += strlen(p) + 1)
        args[count++] = p;
    return count;
}

/* The value of key for a running server: its --override key=v, else its
 * properties file (relative paths from the process's cwd).  "" if unknown. */
static void launcher_server_setting(const char *pid, char **args, int count, const char *key, char *out,
                                    size_t size)
{
    out[0] = '\0';
    size_t klen = strlen(key);
    const char *file = NULL;
    for (int i = 1; i < count; i++) {
        if (strcmp(args[i], "--override") == 0 && i + 1 < count) {
            if (strncmp(args[i + 1], key, klen) == 0 && args[i + 1][klen] == '=') {
                snprintf(out, size, "%s", args[i + 1] + klen + 1);
                return;
            }
            i++;
        } else if (args[i][0] != '-' && !file) {
            file = args[i];
        }
    }
    if (!file)
        return;
    char path[PATH_MAX + 64];
    if (file[0] == '/')
        snprintf(path, sizeof path, "%s", file);
    else
        snprintf(path, sizeof path, "/proc/%s/cwd/%s", pid, file);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (strncmp(s, key, klen) != 0)
            continue;
        s += klen;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s != '=' && *s != ':')
            continue;
        s++;
        while (*s == ' ' || *s == '\t')
            s++;
        s[strcspn(s, "\r\n")] = '\0';
        snprintf(out, size, "%s", s);
    }
    fclose(f);
}

static void server_stop_usage(FILE *out, const char *prog)
{
    fprintf(out, "USAGE: %s [--process-role broker|controller] [--node-id N]\n"
                 "Sends SIGTERM to every running samsa-server (or only those with that role / node.id).\n",
            prog);
}

int tool_server_stop_main(int argc, char **argv)
{
    const char *role = NULL, *node_id = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            server_stop_usage(stdout, argv[0]);
            return 0;
        } else if (strcmp(argv[i], "--process-role") == 0 && i + 1 < argc) {
            role = argv[++i];
        } else if (strcmp(argv[i], "--node-id") == 0 && i + 1 < argc) {
            node_id = argv[++i];
        } else {
            fprintf(stderr, "%s: unknown argument %s\n", argv[0], argv[i]);
            server_stop_usage(stderr, argv[0]);
            return 1;
        }
    }
    DIR *d = opendir("/proc");
    if (!d) {
        fprintf(stderr, "%s: cannot read /proc: %s\n", argv[0], strerror(errno));
        return 1;
    }
    int stopped = 0;
    char self[32];
    snprintf(self, sizeof self, "%d", (int)getpid());
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]) || strcmp(e->d_name, self) == 0)
            continue;
        static char buf[LAUNCHER_CMDLINE_MAX];
        char *args[LAUNCHER_ARGS_MAX];
        int count = launcher_cmdline(e->d_name, buf, sizeof buf, args, LAUNCHER_ARGS_MAX);
        if (count < 1)
            continue;
        const char *base = strrchr(args[0], '/');
        base = base ? base + 1 : args[0];
        if (strcmp(base, "samsa-server") != 0)
            continue;
        char value[256];
        if (node_id) {
            launcher_server_setting(e->d_name, args, count, "node.id", value, sizeof value);
            if (strcmp(value, node_id) != 0)
                continue;
        }
        if (role) {
            launcher_server_setting(e->d_name, args, count, "process.roles", value, sizeof value);
            if (!strstr(value, role))
                continue;
        }
        if (kill((pid_t)atoi(e->d_name), SIGTERM) == 0)
            stopped++;
        else
            fprintf(stderr, "%s: cannot signal process %s: %s\n", argv[0], e->d_name, strerror(errno));
    }
    closedir(d);
    if (stopped == 0) {
        if (node_id)
            printf("No kafka server with node id %s to stop\n", node_id);
        else if (role)
            printf("No kafka server with process role %s to stop\n", role);
        else
            printf("No kafka server to stop\n");
        return 1;
    }
    return 0;
}

struct launcher_class {
    const char *name;
    int (*main_fn)(int argc, char **argv);
};

static const struct launcher_class launcher_classes[] = {
    { "kafka.tools.GetOffsetShell", tool_get_offsets_main },
    { "org.apache.kafka.tools.GetOffsetShell", tool_get_offsets_main },
    { "kafka.tools.ConsoleProducer", tool_console_producer_main },
    { "org.apache.kafka.tools.ConsoleProducer", tool_console_producer_main },
    { "kafka.tools.ConsoleConsumer", tool_console_consumer_main },
    { "org.apache.kafka.tools.consumer.ConsoleConsumer", tool_console_consumer_main },
    { "kafka.admin.TopicCommand", tool_topics_main },
    { "org.apache.kafka.tools.TopicCommand", tool_topics_main },
    { "kafka.admin.ConfigCommand", tool_configs_main },
    { "kafka.admin.ConsumerGroupCommand", tool_consumer_groups_main },
    { "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", tool_consumer_groups_main },
    { "kafka.admin.DeleteRecordsCommand", tool_delete_records_main },
    { "org.apache.kafka.tools.DeleteRecordsCommand", tool_delete_records_main },
    { "kafka.admin.LeaderElectionCommand", tool_leader_election_main },
    { "org.apache.kafka.tools.LeaderElectionCommand", tool_leader_election_main },
    { "kafka.tools.StorageTool", tool_storage_main },
    { "kafka.tools.DumpLogSegments", tool_dump_log_main },
    { "org.apache.kafka.tools.DumpLogSegments", tool_dump_log_main },
    { "org.apache.kafka.tools.ProducerPerformance", tool_producer_perf_test_main },
    { "kafka.tools.ConsumerPerformance", tool_consumer_perf_test_main },
    { "org.apache.kafka.tools.ConsumerPerformance", tool_consumer_perf_test_main },
    { "kafka.admin.BrokerApiVersionsCommand", tool_broker_api_versions_main },
    { "org.apache.kafka.tools.VerifiableProducer", tool_verifiable_producer_main },
    { "org.apache.kafka.tools.VerifiableConsumer", tool_verifiable_consumer_main },
    { "org.apache.kafka.tools.MetadataQuorumCommand", tool_metadata_quorum_main },
    { "kafka.admin.LogDirsCommand", tool_log_dirs_main },
    { "org.apache.kafka.tools.LogDirsCommand", tool_log_dirs_main },
    { "kafka.admin.ReassignPartitionsCommand", tool_reassign_partitions_main },
    { "org.apache.kafka.tools.reassign.ReassignPartitionsCommand", tool_reassign_partitions_main },
};

int tool_run_class_main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "USAGE: %s [-daemon] [-name servicename] [-loggc] classname [opts]\n", argv[0]);
        return 1;
    }
    const char *cls = argv[1];
    if (strcmp(cls, "kafka.Kafka") == 0)
        return tool_server_start_main(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof launcher_classes / sizeof launcher_classes[0]; i++)
        if (strcmp(cls, launcher_classes[i].name) == 0)
            return launcher_classes[i].main_fn(argc - 1, argv + 1);
    fprintf(stderr, "Error: Could not find or load main class %s\n", cls);
    return 1;
}
