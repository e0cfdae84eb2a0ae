#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) from Maven Central, run with this machine's Java.
#   deploy/kafka/kafka.sh up | down | status
# Idempotent: `up` on a running broker is a no-op; storage is formatted once.
# A broker of other shape (tests: a SASL_SSL listener) brings its own ATTUNE_KAFKA_TEMPLATE and
# SCRAM users to create at format time, one `SCRAM-SHA-512=[name=…,password=…]` a line, in
# ATTUNE_KAFKA_SCRAM.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/kafka"
STATE="${ATTUNE_KAFKA_HOME:-$ROOT/.run/kafka}"
PORT="${ATTUNE_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${ATTUNE_KAFKA_CONTROLLER_PORT:-9093}"
TEMPLATE="${ATTUNE_KAFKA_TEMPLATE:-$HERE/server.properties.in}"
LIBS="$STATE/libs"
DATA="$STATE/data"
PIDFILE="$STATE/kafka.pid"
LOG="$STATE/server.log"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml")"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

fetch() {
  if [[ -f "$LIBS/.kafka-$VERSION" ]]; then return; fi
  echo "kafka: fetching Apache Kafka $VERSION jars from Maven Central"
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  if ! mvn -q -B -Dstyle.color=never --no-transfer-progress -f "$HERE/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime > "$STATE/maven.log" 2>&1; then
    echo "kafka: Maven could not fetch the broker's jars; see $STATE/maven.log" >&2
    tail -n 20 "$STATE/maven.log" >&2
    exit 1
  fi
  touch "$LIBS/.kafka-$VERSION"
}

configure() {
  mkdir -p "$DATA"
  sed -e "s#@PORT@#$PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" -e "s#@DATA_DIR@#$DATA#g" \
    "$TEMPLATE" > "$STATE/server.properties"
  if [[ ! -f "$DATA/meta.properties" ]]; then
    local cluster_id cred scram=()
    while IFS= read -r cred; do
      if [[ -n "$cred" ]]; then scram+=(--add-scram "$cred"); fi
    done <<< "${ATTUNE_KAFKA_SCRAM:-}"
    cluster_id="$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    java -cp "$LIBS/*" -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dkafka.logs.dir="$STATE" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$STATE/server.properties" "${scram[@]}" >/dev/null
    echo "kafka: formatted storage in $DATA (cluster $cluster_id)"
  fi
}

up() {
  if running && port_open "$PORT"; then
    echo "kafka: already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), log $LOG)"
    return
  fi
  if port_open "$PORT"; then
    echo "kafka: port $PORT is taken by another process; set ATTUNE_KAFKA_PORT" >&2
    exit 1
  fi
  local started=$SECONDS
  mkdir -p "$STATE"
  fetch
  configure
  : > "$LOG"
  nohup java -Xms256m -Xmx768m -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dkafka.logs.dir="$STATE" \
    -cp "$LIBS/*" kafka.Kafka "$STATE/server.properties" > "$STATE/stdout.log" 2>&1 &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 120); do
    if grep -q "Kafka Server started" "$LOG" 2>/dev/null && port_open "$PORT"; then
      echo "kafka: Apache Kafka $VERSION ready on 127.0.0.1:$PORT in $((SECONDS - started))s (pid $(cat "$PIDFILE"), log $LOG)"
      return
    fi
    if ! running; then
      echo "kafka: broker exited during startup; see $LOG and $STATE/stdout.log" >&2
      tail -n 20 "$STATE/stdout.log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  echo "kafka: broker did not become ready in 60s; see $LOG" >&2
  exit 1
}

down() {
  if ! running; then
    echo "kafka: not running"
    rm -f "$PIDFILE"
    return
  fi
  local pid
  pid="$(cat "$PIDFILE")"
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; echo "kafka: stopped"; return; }
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  echo "kafka: killed after 30s"
}

status() {
  if running && port_open "$PORT"; then
    echo "kafka: running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), Apache Kafka $VERSION, log $LOG)"
  else
    echo "kafka: not running"
    return 1
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
