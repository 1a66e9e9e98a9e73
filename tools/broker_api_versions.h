/*
 * broker_api_versions.h - `samsa broker-api-versions` =
 * kafka-broker-api-versions.sh.
 */
#ifndef SAMSA_TOOLS_BROKER_API_VERSIONS_H
#define SAMSA_TOOLS_BROKER_API_VERSIONS_H

int tool_broker_api_versions_main(int argc, char **argv);

#endif
