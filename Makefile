# Samsa - one non-recursive Makefile.
#
# Conventions that let every folder grow without editing this file:
#   <dir>/*.c, <dir>/<sub>/*.c   library code, archived into build/libsamsa.a
#   <dir>/*_test.c       a check(3) unit test; each is its own program
#   <dir>/*_main.c       a program entry point (never archived)
#   proto/kafka/*.api    our description of a Kafka API -> build/gen/kmsg.{c,h}
#   proto/kafka/*.data   our description of a Kafka data schema (same files)
#   proto/*.proto        protobuf-c messages            -> build/gen/*.pb-c.{c,h}
# Output goes to build/.  Generated code is never committed.

CC      ?= cc
PYTHON  ?= python3
BUILD   ?= build
PKGS    := libevent libevent_openssl libevent_pthreads liburing openssl libprotobuf-c yaml-0.1 zlib liblz4 libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lsnappy -lpthread -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
RDK_LIBS   := $(shell pkg-config --libs rdkafka 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
OPT     ?= -O2
SAN     ?=
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(WARN) -g $(OPT) $(SAN) -I. -I$(BUILD)/gen $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(SAN) $(LDFLAGS)

LIB_DIRS := common raft controller broker
ALL_C    := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c $(d)/*/*.c))
LIB_C    := $(filter-out %_test.c %_main.c,$(ALL_C))
TEST_C   := $(filter %_test.c,$(ALL_C) $(wildcard tools/*_test.c))
TOOLS_C  := $(filter-out %_test.c %_main.c,$(wildcard tools/*.c))

KAFKA_API := $(sort $(wildcard proto/kafka/*.api proto/kafka/*.data))
PROTOS    := $(sort $(wildcard proto/*.proto))
GEN_C     := $(BUILD)/gen/kmsg.c $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
GEN_H     := $(GEN_C:.c=.h)

LIB_O   := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_C)) $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(GEN_C))
TOOLS_O := $(patsubst %.c,$(BUILD)/obj/%.o,$(TOOLS_C))
TESTS   := $(patsubst %.c,$(BUILD)/test/%,$(notdir $(TEST_C)))
LIB_A   := $(BUILD)/libsamsa.a

# Client programs for tests and benchmarks: one .c each, linked with librdkafka.
CLIENT_C := $(wildcard test/clients/*.c test/bench/*.c)
CLIENTS  := $(patsubst %.c,$(BUILD)/bin/%,$(notdir $(CLIENT_C)))

SERVER  := $(BUILD)/bin/samsa-server
CLI     := $(BUILD)/bin/samsa
SIM     := $(BUILD)/bin/samsa-sim

# Kafka's tool names: build/bin/kafka-<tool> and kafka-<tool>.sh are symlinks to
# samsa, which picks the tool from argv[0] (tools/samsa_main.c).
KAFKA_NAMES := topics configs consumer-groups metadata-quorum storage console-producer console-consumer \
               get-offsets delete-records leader-election verifiable-producer verifiable-consumer \
               broker-api-versions producer-perf-test consumer-perf-test dump-log server-start server-stop run-class \
               log-dirs reassign-partitions
KAFKA_LINKS := $(foreach n,$(KAFKA_NAMES),$(BUILD)/bin/kafka-$(n) $(BUILD)/bin/kafka-$(n).sh)
PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: all deps check test test-all integration fault-test sim sim-soak bench asan asan-integration tsan tsan-integration fuzz fuzz-bins fuzz-smoke coverage format check-deps run clean install uninstall docker-test
all: $(SERVER) $(CLI) $(KAFKA_LINKS) $(CLIENTS) $(if $(wildcard test/sim/sim_main.c),$(SIM))

$(KAFKA_LINKS): | $(CLI)
	ln -sfn samsa $@

# make install [PREFIX=/usr/local] [DESTDIR=...]: the two programs and the kafka-* names
install: $(SERVER) $(CLI)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(SERVER) $(CLI) $(DESTDIR)$(PREFIX)/bin/
	for n in $(KAFKA_NAMES); do \
	    ln -sfn samsa $(DESTDIR)$(PREFIX)/bin/kafka-$$n; \
	    ln -sfn samsa $(DESTDIR)$(PREFIX)/bin/kafka-$$n.sh; \
	done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/samsa-server $(DESTDIR)$(PREFIX)/bin/samsa
	for n in $(KAFKA_NAMES); do rm -f $(DESTDIR)$(PREFIX)/bin/kafka-$$n $(DESTDIR)$(PREFIX)/bin/kafka-$$n.sh; done

deps:
	@deploy/install-deps.sh

# Each generator writes several files in one run: grouped targets (&: and a
# multi-target pattern rule), so no output is ever "older" than its sibling,
# and .SECONDARY keeps them (as intermediates make would delete them after a
# build and regenerate them - and recompile everything - on the next one).
$(BUILD)/gen/kmsg.c $(BUILD)/gen/kmsg.h $(BUILD)/gen/kmsg_selftest.inc &: proto/kgen.py $(KAFKA_API)
	@mkdir -p $(BUILD)/gen
	$(PYTHON) proto/kgen.py --out $(BUILD)/gen $(KAFKA_API)

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(dir $@)
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<

.SECONDARY: $(GEN_C) $(GEN_H) $(BUILD)/gen/kmsg_selftest.inc

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -Wno-unused-function -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_O)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SERVER): $(BUILD)/obj/broker/server_main.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(CLI): $(BUILD)/obj/tools/samsa_main.o $(TOOLS_O) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(RDK_LIBS) $(PKG_LIBS)

$(SIM): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard test/sim/*.c)) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(BUILD)/bin/%: test/clients/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $^ $(RDK_LIBS) $(PKG_LIBS)
$(BUILD)/bin/%: test/bench/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $^ $(RDK_LIBS) $(PKG_LIBS)

define TEST_RULE
$(BUILD)/test/$(notdir $(basename $(1))): $(BUILD)/obj/$(basename $(1)).o $(if $(filter tools/%,$(1)),$(TOOLS_O)) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(CHECK_LIBS) $$(RDK_LIBS) $$(PKG_LIBS)
endef
$(foreach t,$(TEST_C),$(eval $(call TEST_RULE,$(t))))

# Unit tests: check(3) in fork mode, every *_test.c.
check: $(TESTS)
	@test/run-unit.sh $(TESTS)

SEEDS ?= 2000
ISR_SEEDS ?= 1000
CTRL_SEEDS ?= 1000
sim: $(SIM)
	@$(SIM) --seeds $(SEEDS)
	@$(SIM) --model isr --seeds $(ISR_SEEDS)
	@$(SIM) --model isr --fsync --seeds $(ISR_SEEDS)
	@$(SIM) --model ctrl --seeds $(CTRL_SEEDS)
	@test/sim/seeds_test.sh $(SIM)

# The long soak (not in CI; about 4 min of CPU for the Raft core, 17 for the
# controller driver, 30 for a tenth as many replication seeds): the simulators
# over SOAK_SEEDS seeds, at the lowest priority (the machine is shared);
# results recorded in test/sim/README.md.
SOAK_SEEDS ?= 100000
sim-soak: $(SIM)
	nice -n 19 $(SIM) --seeds $(SOAK_SEEDS)
	nice -n 19 $(SIM) --model ctrl --seeds $(SOAK_SEEDS)
	nice -n 19 $(SIM) --model isr --seeds $$(($(SOAK_SEEDS) / 10))
	nice -n 19 $(SIM) --model isr --fsync --seeds $$(($(SOAK_SEEDS) / 10))
	@test/sim/seeds_test.sh $(SIM)

integration: all
	@test/run-integration.sh

# The README's test command: installs what is missing (make deps), builds, then
# unit tests, the include-graph check, simulation seeds, integration with real clients.
test:
	@deploy/install-deps.sh
	@$(MAKE) --no-print-directory test-all

test-all: all check
	@test/check-deps.sh
	@test/check_deps_test.sh
	@$(MAKE) --no-print-directory sim
	@test/sim/teeth_test.sh $(SIM)
	@test/sim/teeth_test.sh $(SIM) isr
	@test/sim/teeth_test.sh $(SIM) ctrl
	@/usr/bin/python3 test/fault/checker_selftest.py
	@test/run-integration.sh

# The fault suite (test/fault/README.md): the history checker's self-test, then
# kill -9 failover and network-namespace partitions on 3-node clusters (root
# for the namespaces); about 5 minutes.  Not part of `make test` yet.
fault-test: all
	@test/fault/run-fault.sh

bench: all
	@test/bench/run-bench.sh

# Fuzzing: libFuzzer (clang), one target per decoder family, each
# test/fuzz/fuzz_<family>.c: Kafka requests, record batches, controller
# frames and metadata payloads, __consumer_offsets records, config files,
# producer-state snapshots.
# `make fuzz` runs every target FUZZ_SECONDS (corpora kept in
# build-fuzz/corpus/<target>, seeded from test/fuzz/seeds/<target> when it
# exists); `make fuzz-smoke` runs each 10 s (CI: the targets cannot rot).
FUZZ_SECONDS ?= 60
FUZZ_C     := $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_NAMES := $(notdir $(basename $(FUZZ_C)))
FUZZ_BINS  := $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_NAMES))
FUZZ_MAKE  := $(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT=-O1 \
              SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer"

$(BUILD)/fuzz/%: test/fuzz/%.c $(LIB_A) $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer $< $(LIB_A) -o $@ $(PKG_LIBS)

fuzz-bins: $(FUZZ_BINS)

fuzz:
	@command -v clang >/dev/null || { echo "make fuzz: clang is missing; run deploy/install-deps.sh"; exit 1; }
	$(FUZZ_MAKE) fuzz-bins
	@for t in $(FUZZ_NAMES); do \
	    mkdir -p build-fuzz/corpus/$$t; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    build-fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -print_final_stats=0 \
	        -artifact_prefix=build-fuzz/$$t- build-fuzz/corpus/$$t \
	        $$(test -d test/fuzz/seeds/$$t && echo test/fuzz/seeds/$$t) 2>build-fuzz/$$t.log \
	        || { tail -n 60 build-fuzz/$$t.log; echo "fuzz: $$t FAILED (reproducer: build-fuzz/$$t-*)"; exit 1; }; \
	    grep -E '^#[0-9]+[[:space:]]+DONE' build-fuzz/$$t.log | tail -n 1; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

# Sanitized unit tests run 2-10x slower: check's per-test timeouts (4 s by
# default, or tcase_set_timeout) are stretched, not the tests weakened.
asan:
	CK_TIMEOUT_MULTIPLIER=$${CK_TIMEOUT_MULTIPLIER:-5} $(MAKE) BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" all check

# The integration suite against the ASan + UBSan server (real clients, real
# sockets): a sanitizer report fails it (logs in build-asan/sanitizer-logs/).
# Leak checking is off: the server's exit path is not leak-clean yet.
asan-integration: asan
	rm -rf build-asan/sanitizer-logs && mkdir -p build-asan/sanitizer-logs
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:log_path=$(CURDIR)/build-asan/sanitizer-logs/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(CURDIR)/build-asan/sanitizer-logs/ubsan \
	SAMSA_SERVER=$(CURDIR)/build-asan/bin/samsa-server test/run-integration.sh
	@if ls build-asan/sanitizer-logs/* >/dev/null 2>&1; then \
	    echo "asan-integration: sanitizer reports:"; cat build-asan/sanitizer-logs/*; exit 1; fi

tsan:
	CK_TIMEOUT_MULTIPLIER=$${CK_TIMEOUT_MULTIPLIER:-10} $(MAKE) BUILD=build-tsan OPT=-O1 SAN="-fsanitize=thread" all check

# The integration suite against the ThreadSanitizer server: the network threads
# and the state thread meet only in brk_net queues and a few atomics, and this
# is what checks it.  A report fails it (logs in build-tsan/sanitizer-logs/).
# SAMSA_SANITIZER=thread tells hostile_test that RSS includes TSan's shadow.
tsan-integration: tsan
	rm -rf build-tsan/sanitizer-logs && mkdir -p build-tsan/sanitizer-logs
	TSAN_OPTIONS=second_deadlock_stack=1:log_path=$(CURDIR)/build-tsan/sanitizer-logs/tsan \
	SAMSA_SANITIZER=thread SAMSA_SERVER=$(CURDIR)/build-tsan/bin/samsa-server test/run-integration.sh
	@if ls build-tsan/sanitizer-logs/* >/dev/null 2>&1; then \
	    echo "tsan-integration: sanitizer reports:"; cat build-tsan/sanitizer-logs/*; exit 1; fi

# make run: a local 3-node cluster (NODES=1: a single node), see deploy/run-local.sh
NODES ?= 3
run:
	@deploy/install-deps.sh
	@$(MAKE) --no-print-directory all
	@NODES=$(NODES) deploy/run-local.sh

# The include graph (folders one way, no module cycles), and a test that the
# check fails on a planted cycle.
check-deps:
	@test/check-deps.sh
	@test/check_deps_test.sh

# The Docker image and compose files end to end (installs docker.io and
# docker-compose if missing, starts dockerd if none runs); test/docker/.
docker-test:
	@test/docker/docker_test.sh

format:
	clang-format -i $(ALL_C) $(wildcard */*.h */*/*.h)

clean:
	rm -rf build build-asan build-tsan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
