/*
 * launcher.h - Kafka's shell-script launchers as tools:
 * kafka-server-start (exec samsa-server, -daemon), kafka-server-stop
 * (SIGTERM to running samsa-server processes) and kafka-run-class (a tool
 * by its Kafka class name, e.g. kafka.tools.GetOffsetShell).
 */
#ifndef SAMSA_TOOLS_LAUNCHER_H
#define SAMSA_TOOLS_LAUNCHER_H

int tool_server_start_main(int argc, char **argv);
int tool_server_stop_main(int argc, char **argv);
int tool_run_class_main(int argc, char **argv);

#endif
