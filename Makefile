# Samsa - one non-recursive Makefile.
#
# Conventions that let every folder grow without editing this file:
#   <dir>/*.c            library code, archived into build/libsamsa.a
#   <dir>/*_test.c       a check(3) unit test; each is its own program
#   <dir>/*_main.c       a program entry point (never archived)
#   proto/kafka/*.api    our description of a Kafka API -> build/gen/kmsg.{c,h}
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
ALL_C    := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_C    := $(filter-out %_test.c %_main.c,$(ALL_C))
TEST_C   := $(filter %_test.c,$(ALL_C) $(wildcard tools/*_test.c))
TOOLS_C  := $(filter-out %_test.c %_main.c,$(wildcard tools/*.c))

KAFKA_API := $(sort $(wildcard proto/kafka/*.api))
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

.PHONY: all deps check test test-all integration sim bench asan asan-integration tsan tsan-integration fuzz coverage format check-deps run clean docker-test
all: $(SERVER) $(CLI) $(CLIENTS) $(if $(wildcard test/sim/sim_main.c),$(SIM))

deps:
	@deploy/install-deps.sh

$(BUILD)/gen/kmsg.c: proto/kgen.py $(KAFKA_API)
	@mkdir -p $(dir $@)
	$(PYTHON) proto/kgen.py --out $(BUILD)/gen $(KAFKA_API)
$(BUILD)/gen/kmsg.h: $(BUILD)/gen/kmsg.c ;

$(BUILD)/gen/%.pb-c.c: proto/%.proto
	@mkdir -p $(dir $@)
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<
$(BUILD)/gen/%.pb-c.h: $(BUILD)/gen/%.pb-c.c ;

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
sim: $(SIM)
	$(SIM) --seeds $(SEEDS)

integration: all
	@test/run-integration.sh

# The README's test command: installs what is missing (make deps), builds, then
# unit tests, the include-graph check, simulation seeds, integration with real clients.
test:
	@deploy/install-deps.sh
	@$(MAKE) --no-print-directory test-all

test-all: all check
	@test/check-deps.sh
	@$(SIM) --seeds $(SEEDS)
	@test/sim/teeth_test.sh $(SIM)
	@test/run-integration.sh

bench: all
	@test/bench/run-bench.sh

# Fuzzing: libFuzzer (clang) over every decoder; FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang OPT=-O1 SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer" build-fuzz/libsamsa.a
	@mkdir -p build-fuzz/bin build-fuzz/corpus
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ibuild-fuzz/gen \
	    test/fuzz/fuzz_request.c build-fuzz/libsamsa.a -o build-fuzz/bin/fuzz_request $(PKG_LIBS)
	build-fuzz/bin/fuzz_request -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 build-fuzz/corpus

asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" all check

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
	$(MAKE) BUILD=build-tsan OPT=-O1 SAN="-fsanitize=thread" all check

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

run:
	@deploy/install-deps.sh
	@$(MAKE) --no-print-directory all
	@deploy/run-local.sh

check-deps:
	@test/check-deps.sh

# The Docker image and compose files end to end (installs docker.io and
# docker-compose if missing, starts dockerd if none runs); test/docker/.
docker-test:
	@test/docker/docker_test.sh

format:
	clang-format -i $(ALL_C) $(wildcard */*.h)

clean:
	rm -rf build build-asan build-tsan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
