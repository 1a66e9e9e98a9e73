#!/bin/sh
# run-local.sh - `make run`: a local Samsa node on this machine, configured like
# Apache Kafka, formatted on first use, in the foreground (Ctrl-C stops it).
#
#   SAMSA_DATA   data directory (default ./build/run)
#   SAMSA_PORT   client port   (default 9092; the controller listener uses +1)
set -eu
cd "$(dirname "$0")/.."
DATA=${SAMSA_DATA:-$PWD/build/run}
PORT=${SAMSA_PORT:-9092}
CPORT=$((PORT + 1))
mkdir -p "$DATA"
CONF="$DATA/server.properties"
cat > "$CONF" <<CONF
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=1@127.0.0.1:$CPORT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
CONF
if [ ! -f "$DATA/logs/meta.properties" ]; then
    ./build/bin/samsa storage format -t "$(./build/bin/samsa storage random-uuid)" -c "$CONF"
fi
echo "Samsa node on 127.0.0.1:$PORT (data in $DATA). Try:"
echo "  kcat -b 127.0.0.1:$PORT -L"
echo "  ./build/bin/samsa topics --bootstrap-server 127.0.0.1:$PORT --create --topic demo --partitions 3"
exec ./build/bin/samsa-server "$CONF"
