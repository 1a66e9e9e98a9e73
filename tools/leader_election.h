/*
 * leader_election.h - `samsa leader-election` = kafka-leader-election.sh.
 */
#ifndef SAMSA_TOOLS_LEADER_ELECTION_H
#define SAMSA_TOOLS_LEADER_ELECTION_H

int tool_leader_election_main(int argc, char **argv);

#endif
