#!/bin/bash
# docker-entrypoint.sh - the Samsa image's entrypoint: confluentinc/cp-kafka's
# contract (configure, ensure, launch) in front of samsa-server.
#
# samsa-server itself maps every KAFKA_* variable to a setting by cp-kafka's
# rules (KAFKA_LOG_DIRS -> log.dirs, ___ -> -, __ -> _) and CLUSTER_ID; this
# script adds what the image does around it:
#   - `VAR=value` arguments are exported first (cp-kafka's `run`);
#   - KAFKA_ZOOKEEPER_CONNECT stops the start, naming the KRaft variables;
#   - wurstmeister's KAFKA_ADVERTISED_HOST_NAME (+ KAFKA_ADVERTISED_PORT /
#     KAFKA_PORT) becomes advertised.listeners;
#   - cp-kafka's required variables, each missing one is one line naming it;
#   - the effective configuration and each value's source is logged
#     (samsa-server --print-config; secrets print as [hidden]);
#   - storage is formatted with CLUSTER_ID on first start only, when the log
#     dirs are empty; a dir of another cluster stops the start with both ids;
#   - KAFKA_CREATE_TOPICS (wurstmeister: name:partitions:replicas[:policy],...)
#     runs in the background once enough brokers are registered;
#   - samsa-server is exec'd, so tini (PID 1) hands it docker stop's SIGTERM.
# An advertised listener with an empty host (INTERNAL://:29092) is the
# server's business: it advertises the host name, as Kafka does.
#
# A first argument other than samsa-server (bash, samsa, kafka-topics, ...)
# is run as given.  A config file argument (samsa-server /etc/samsa/x.yaml)
# turns off the required-variable checks: the file may hold those settings.
set -euo pipefail

log() { printf '%s INFO  [docker] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$*" >&2; }
warn() { printf '%s WARN  [docker] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$*" >&2; }
die() {
    printf '%s ERROR [docker] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$*" >&2
    exit 1
}

# cp-kafka's run: `docker run IMAGE KAFKA_X=y ...` sets variables.
while [ $# -gt 0 ] && [[ "$1" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
    export "${1?}"
    shift
done
[ $# -gt 0 ] || set -- samsa-server
if [ "$1" != "samsa-server" ]; then
    exec "$@"
fi
shift
SERVER_ARGS=("$@")
CONFIG_FILE=""
for a in "$@"; do
    case "$a" in
    *.properties | *.yaml | *.yml) CONFIG_FILE=$a ;;
    esac
done

# ---- configure -------------------------------------------------------------

if [ -n "${KAFKA_ZOOKEEPER_CONNECT:-}" ]; then
    die "KAFKA_ZOOKEEPER_CONNECT=${KAFKA_ZOOKEEPER_CONNECT} is set, but ZooKeeper mode is not supported: Samsa runs in KRaft mode only. Remove KAFKA_ZOOKEEPER_CONNECT (and the zookeeper service) and set KAFKA_PROCESS_ROLES=broker,controller, KAFKA_NODE_ID (was KAFKA_BROKER_ID), KAFKA_CONTROLLER_QUORUM_VOTERS=1@<host>:29093,..., KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER with CONTROLLER://:29093 in KAFKA_LISTENERS, and CLUSTER_ID (samsa storage random-uuid)"
fi

# wurstmeister: KAFKA_ADVERTISED_HOST_NAME [+ KAFKA_ADVERTISED_PORT, KAFKA_PORT].
if [ -n "${KAFKA_ADVERTISED_HOST_NAME:-}" ]; then
    h=$KAFKA_ADVERTISED_HOST_NAME
    port=${KAFKA_PORT:-9092}
    if [ -z "${KAFKA_ADVERTISED_LISTENERS:-}" ]; then
        export KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://$h:${KAFKA_ADVERTISED_PORT:-$port}"
        if [ -z "${KAFKA_LISTENERS:-}" ]; then
            # Plus INTERNAL on the container's host name, for the other
            # containers, the brokers and this image's own tools: the
            # advertised name often means something only outside.
            KAFKA_LISTENERS="PLAINTEXT://0.0.0.0:$port,INTERNAL://:29092"
            KAFKA_ADVERTISED_LISTENERS="$KAFKA_ADVERTISED_LISTENERS,INTERNAL://:29092"
            : "${KAFKA_INTER_BROKER_LISTENER_NAME:=INTERNAL}"
            cln=${KAFKA_CONTROLLER_LISTENER_NAMES:-CONTROLLER}
            : "${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,${cln%%,*}:PLAINTEXT}"
            if [[ "${KAFKA_PROCESS_ROLES:-}" == *controller* ]]; then
                KAFKA_LISTENERS="$KAFKA_LISTENERS,${cln%%,*}://0.0.0.0:9093"
            fi
            export KAFKA_LISTENERS KAFKA_INTER_BROKER_LISTENER_NAME KAFKA_LISTENER_SECURITY_PROTOCOL_MAP
        fi
    else
        # Empty hosts in the advertised listeners take the given name.
        export KAFKA_ADVERTISED_LISTENERS="${KAFKA_ADVERTISED_LISTENERS//:\/\/:/://$h:}"
    fi
    log "KAFKA_ADVERTISED_HOST_NAME=$h: advertised.listeners=$KAFKA_ADVERTISED_LISTENERS"
fi
# The data dir: /var/lib/samsa/data (the image's volume), or cp-kafka's
# /var/lib/kafka/data when a volume is mounted there.
if [ -z "$CONFIG_FILE" ] && [ -z "${KAFKA_LOG_DIRS:-}" ] && [ -z "${KAFKA_LOG_DIR:-}" ]; then
    if grep -q ' /var/lib/kafka/data ' /proc/self/mountinfo; then
        export KAFKA_LOG_DIRS=/var/lib/kafka/data
    else
        export KAFKA_LOG_DIRS=/var/lib/samsa/data
    fi
fi
# Image-level variables that are not server settings.
CREATE_TOPICS=${KAFKA_CREATE_TOPICS:-}
CREATE_TOPICS_SEPARATOR=${KAFKA_CREATE_TOPICS_SEPARATOR:-,}
unset KAFKA_ADVERTISED_HOST_NAME KAFKA_ADVERTISED_PORT KAFKA_PORT KAFKA_CREATE_TOPICS \
    KAFKA_CREATE_TOPICS_SEPARATOR KAFKA_ZOOKEEPER_CONNECT

if [ -z "$CONFIG_FILE" ]; then
    need() { [ -n "${!1:-}" ] || die "$1 is required: $2"; }
    need KAFKA_PROCESS_ROLES "set it to broker,controller (combined), broker or controller"
    need KAFKA_NODE_ID "set this node's unique id, e.g. KAFKA_NODE_ID=1"
    if [ -z "${KAFKA_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS:-}" ]; then
        need KAFKA_CONTROLLER_QUORUM_VOTERS "list the controllers as id@host:port, e.g. 1@kafka-1:29093,2@kafka-2:29093,3@kafka-3:29093"
    fi
    need CLUSTER_ID "give every node the same id, e.g. from \`samsa storage random-uuid\` (docker run --rm IMAGE samsa storage random-uuid)"
    if [ "$KAFKA_PROCESS_ROLES" = "controller" ]; then
        [ -z "${KAFKA_ADVERTISED_LISTENERS:-}" ] ||
            die "KAFKA_ADVERTISED_LISTENERS must not be set when KAFKA_PROCESS_ROLES=controller (as in cp-kafka): a controller serves no clients; remove it"
    else
        need KAFKA_ADVERTISED_LISTENERS "a broker must tell clients where to connect, e.g. PLAINTEXT://localhost:9092 (or INTERNAL://:29092,EXTERNAL://127.0.0.1:9097)"
    fi
    # cp-kafka derives listeners from the advertised ones (host -> 0.0.0.0).
    if [ -z "${KAFKA_LISTENERS:-}" ] && [ -n "${KAFKA_ADVERTISED_LISTENERS:-}" ]; then
        KAFKA_LISTENERS=$(sed -E 's#://[^,]*:([0-9]+)#://0.0.0.0:\1#g' <<<"$KAFKA_ADVERTISED_LISTENERS")
        export KAFKA_LISTENERS
        log "KAFKA_LISTENERS not set: listening on $KAFKA_LISTENERS (from KAFKA_ADVERTISED_LISTENERS)"
    fi
fi

# The effective configuration, checked by the server itself: invalid
# settings print one line each (key, value, fix) and stop the start here.
if ! EFFECTIVE=$(samsa-server --print-config "${SERVER_ARGS[@]}" 2>/tmp/samsa-config-errors); then
    cat /tmp/samsa-config-errors >&2
    die "the configuration above is invalid; fix the KAFKA_* variables named there"
fi
cat /tmp/samsa-config-errors >&2 # unknown-key warnings
rm -f /tmp/samsa-config-errors
log "effective configuration (key=value # source; $(grep -c '# default' <<<"$EFFECTIVE") more at their defaults, see samsa-server --print-config):"
grep -v -e '# default' -e '^# Samsa effective' <<<"$EFFECTIVE" | sed 's/^/    /' >&2
[ -z "${CLUSTER_ID:-}" ] || log "CLUSTER_ID=$CLUSTER_ID"

setting() { sed -n "s/^$1=\\(.*\\)  # .*/\\1/p" <<<"$EFFECTIVE" | head -1; }

# ---- ensure: data dirs, format on first start --------------------------------

DIRS=$(setting log.dirs)
[ -n "$DIRS" ] || DIRS=$(setting log.dir)
META_DIR=$(setting metadata.log.dir)
IFS=, read -r -a DIR_LIST <<<"$DIRS${META_DIR:+,$META_DIR}"
unformatted=()
formatted=0
for d in "${DIR_LIST[@]}"; do
    [ -n "$d" ] || continue
    mkdir -p "$d" 2>/dev/null || true
    if [ ! -d "$d" ] || [ ! -w "$d" ]; then
        die "log dir $d is not writable by uid $(id -u) ($(id -un)); use a named volume, or chown -R $(id -u):$(id -g) the host directory mounted there"
    fi
    # A dir on the container's own layer is lost with the container.
    p=$d
    while [ "$p" != / ] && ! grep -q " $p " /proc/self/mountinfo; do p=$(dirname "$p"); done
    [ "$p" != / ] || warn "log dir $d is not on a volume: its data goes when the container is removed; mount a volume there"
    if [ -f "$d/meta.properties" ]; then
        have=$(sed -n 's/^cluster.id=//p' "$d/meta.properties")
        if [ -n "${CLUSTER_ID:-}" ] && [ "$have" != "$CLUSTER_ID" ]; then
            die "log dir $d belongs to cluster $have ($d/meta.properties) but CLUSTER_ID=$CLUSTER_ID; set CLUSTER_ID=$have to keep this data, or remove the volume (docker compose down -v) to start a new cluster"
        fi
        formatted=1
    elif [ -n "$(ls -A "$d" | grep -vx '.lock')" ]; then # .lock: left by a format interrupted before meta.properties
        die "log dir $d is not empty but has no meta.properties, so it is not a Samsa/Kafka log dir formatted by this image; empty it or point KAFKA_LOG_DIRS elsewhere"
    else
        unformatted+=("$d")
    fi
done
if [ ${#unformatted[@]} -gt 0 ]; then
    [ -n "${CLUSTER_ID:-}" ] || die "log dirs ${unformatted[*]} are not formatted and CLUSTER_ID is not set; set CLUSTER_ID"
    format_args=(-t "$CLUSTER_ID")
    [ $formatted -eq 0 ] || format_args+=(--ignore-formatted)
    format_args+=(-c "${CONFIG_FILE:-/dev/null}") # /dev/null: the environment only
    for a in "${SERVER_ARGS[@]}"; do
        [[ "$a" == *.properties || "$a" == *.yaml || "$a" == *.yml ]] || format_args+=("$a")
    done
    log "first start: formatting ${unformatted[*]} with cluster id $CLUSTER_ID"
    samsa storage format "${format_args[@]}" >&2
else
    log "log dirs $DIRS already formatted for cluster ${CLUSTER_ID:-(from meta.properties)}"
fi

# ---- launch ----------------------------------------------------------------

# The address this container's own tools use: the inter-broker listener (its
# advertised host is this container's name, which resolves here).
listeners=$(setting listeners)
ibl=$(setting inter.broker.listener.name)
cln=$(setting controller.listener.names)
own=""
IFS=, read -r -a L <<<"$listeners"
for l in "${L[@]}"; do
    name=${l%%://*}
    [[ ",$cln," == *",$name,"* ]] && continue
    if [ -z "$own" ] || [ "$name" = "$ibl" ]; then own=$l; fi
done
ctrl=""
for l in "${L[@]}"; do
    [[ ",$cln," == *",${l%%://*},"* ]] && ctrl=$l && break
done
hostport() { # NAME://host:port -> host:port, empty or wildcard host -> 127.0.0.1
    local hp=${1#*://} h
    h=${hp%:*}
    [ -n "$h" ] && [ "$h" != "0.0.0.0" ] && [ "$h" != "[::]" ] || h=127.0.0.1
    echo "$h:${hp##*:}"
}
{
    echo "SAMSA_NODE_ID=$(setting node.id)"
    echo "SAMSA_ROLES=$(setting process.roles)"
    [ -z "$own" ] || echo "SAMSA_BOOTSTRAP=$(hostport "$own")"
    [ -z "$ctrl" ] || echo "SAMSA_CONTROLLER=$(hostport "$ctrl")"
} >/tmp/samsa-node.env

create_topics() {
    # wurstmeister's KAFKA_CREATE_TOPICS, in the background: wait until as many
    # brokers are registered (and unfenced) as the largest replication factor
    # asks for, then create what is missing; a topic that exists is left as
    # is, so restarts and the other nodes doing the same are harmless.
    local bs=$1 spec name parts reps policy want=1 deadline left n
    local -a specs
    IFS=$CREATE_TOPICS_SEPARATOR read -r -d '' -a specs <<<"$CREATE_TOPICS" || true
    for spec in "${specs[@]}"; do
        spec=$(tr -d ' \n' <<<"$spec")
        IFS=: read -r _ _ reps _ <<<"$spec"
        [[ "$reps" =~ ^[0-9]+$ ]] && [ "$reps" -gt "$want" ] && want=$reps
    done
    deadline=$((SECONDS + ${START_TIMEOUT:-600}))
    while :; do
        n=$(kcat -b "$bs" -L -m 5 2>/dev/null | sed -n 's/^ \([0-9]*\) brokers:$/\1/p')
        n=${n:-0}
        [ "$n" -ge "$want" ] && break
        [ $SECONDS -lt $deadline ] || {
            warn "KAFKA_CREATE_TOPICS: gave up after ${START_TIMEOUT:-600} s: $n of the $want brokers the replication factors need are registered"
            return 1
        }
        sleep 2
    done
    log "KAFKA_CREATE_TOPICS: $n brokers registered; creating topics"
    left=("${specs[@]}")
    while [ ${#left[@]} -gt 0 ]; do
        local -a again=()
        local existing
        existing=$(samsa topics --bootstrap-server "$bs" --list 2>/dev/null) || existing=""
        for spec in "${left[@]}"; do
            spec=$(tr -d ' \n' <<<"$spec")
            [ -n "$spec" ] || continue
            IFS=: read -r name parts reps policy <<<"$spec"
            if ! [[ -n "$name" && "$parts" =~ ^[0-9]+$ && "$reps" =~ ^[0-9]+$ ]]; then
                warn "KAFKA_CREATE_TOPICS: '$spec' is not name:partitions:replicas[:cleanup.policy]; skipped"
                continue
            fi
            if grep -qxF "$name" <<<"$existing"; then
                log "KAFKA_CREATE_TOPICS: topic $name exists; left as is"
                continue
            fi
            local -a cfg=()
            [ -z "$policy" ] || cfg=(--config "cleanup.policy=$policy")
            if out=$(samsa topics --bootstrap-server "$bs" --create --if-not-exists --topic "$name" \
                --partitions "$parts" --replication-factor "$reps" "${cfg[@]}" 2>&1); then
                log "KAFKA_CREATE_TOPICS: created topic $name partitions=$parts replicas=$reps${policy:+ cleanup.policy=$policy}"
            else
                warn "KAFKA_CREATE_TOPICS: creating $name failed, will retry: $(tr '\n' ' ' <<<"$out")"
                again+=("$spec")
            fi
        done
        left=("${again[@]+"${again[@]}"}")
        [ ${#left[@]} -eq 0 ] && break
        [ $SECONDS -lt $deadline ] || {
            warn "KAFKA_CREATE_TOPICS: gave up on ${left[*]} after ${START_TIMEOUT:-600} s"
            return 1
        }
        sleep 5
    done
}

if [ -n "$CREATE_TOPICS" ]; then
    if [ -z "$own" ]; then
        warn "KAFKA_CREATE_TOPICS is set but this node has no broker listener; the brokers create them"
    else
        # Detached twice so tini (PID 1), not samsa-server, reaps it.
        ( (create_topics "$(hostport "$own")" || true) & )
    fi
fi

log "starting samsa-server node.id=$(setting node.id) process.roles=$(setting process.roles)"
exec samsa-server "${SERVER_ARGS[@]}"
