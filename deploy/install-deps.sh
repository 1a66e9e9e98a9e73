#!/bin/sh
# install-deps.sh - install the Debian packages Samsa's build and tests need.
# Idempotent and quiet when nothing is missing (`make deps`).
#   --build   only what building samsa-server and samsa needs (deploy/Dockerfile)
set -e
BUILD_PKGS="build-essential pkg-config python3 libevent-dev liburing-dev libssl-dev
libprotobuf-c-dev protobuf-c-compiler libyaml-dev librdkafka-dev
zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev"
PKGS="$BUILD_PKGS check libsubunit-dev kcat python3-kafka python3-confluent-kafka procps iproute2
clang libclang-rt-14-dev burrow libzookeeper-java default-jre-headless"
if [ "${1:-}" = "--build" ]; then
    PKGS=$BUILD_PKGS
else
    # clang + its runtime (libFuzzer, sanitizers) for make fuzz / fuzz-smoke;
    # Debian 12's clang is 14, and --no-install-recommends would skip the runtime.
    # burrow_test runs Debian's Burrow 1.2.1 with its own ZooKeeper server, from
    # the jar of Debian's ZooKeeper (libzookeeper-java) on a headless JRE: the
    # `zookeeper` package adds only scripts but depends on default-jre (GTK, X11,
    # GL), and `zookeeperd` a system service the test does not use.
    # kafkajs tests need node + npm; take Debian's only when none is on PATH (the
    # machine may have a newer one from elsewhere, which Debian's npm would fight).
    command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
    command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "make deps: installing:$missing"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
