#!/usr/bin/env bash
# Run the four Attune services as local processes against the local Kafka.
#   deploy/local/services.sh up | down | status
# Logs: .run/logs/<service>.log (JSON, no conversation text). Ports: 8001-8004.
# Identity: .run/identity.db (create tenants, keys and logins with `uv run attune-admin`);
# the token signing secret and the /metrics scrape token are made once in .run/ (mode 600).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="$ROOT/.run"
LOGS="$RUN/logs"
SERVICES=(ingest classifier router escalation)
declare -A PORTS=([ingest]=8001 [classifier]=8002 [router]=8003 [escalation]=8004)

export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:${ATTUNE_KAFKA_PORT:-9092}}"
export ATTUNE_ESCALATION_DATABASE_URL="${ATTUNE_ESCALATION_DATABASE_URL:-sqlite+aiosqlite:///$RUN/escalation.db}"
# Tenants, integrator keys, logins and the audit trail: one database every service reads.
export ATTUNE_AUTH_DATABASE_URL="${ATTUNE_AUTH_DATABASE_URL:-sqlite+aiosqlite:///$RUN/identity.db}"
# Local HTTP, no TLS proxy in front: the session cookie may not insist on HTTPS.
export ATTUNE_AUTH_COOKIE_SECURE="${ATTUNE_AUTH_COOKIE_SECURE:-false}"

# A secret made once per machine (mode 600), unless the environment brings its own.
secret() {
  local file="$RUN/$1"
  mkdir -p "$RUN"
  [[ -s "$file" ]] || (umask 077 && "$ROOT/.venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))' > "$file")
  cat "$file"
}
ATTUNE_AUTH_JWT_SECRET="${ATTUNE_AUTH_JWT_SECRET:-$(secret jwt-secret)}"
ATTUNE_METRICS_TOKEN="${ATTUNE_METRICS_TOKEN:-$(secret metrics-token)}"
export ATTUNE_AUTH_JWT_SECRET ATTUNE_METRICS_TOKEN

running() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

ready() { curl -fsS "http://127.0.0.1:${PORTS[$1]}/health/ready" >/dev/null 2>&1; }

up() {
  mkdir -p "$LOGS"
  # The deploy step: every topic of the topic table exists and is configured (idempotent).
  (cd "$ROOT" && "$ROOT/.venv/bin/attune" topics apply >> "$LOGS/topics.log" 2>&1) \
    || { echo "topics: apply failed; last log lines:" >&2; tail -n 20 "$LOGS/topics.log" >&2; exit 1; }
  for s in "${SERVICES[@]}"; do
    if running "$s"; then echo "$s: already running (pid $(cat "$RUN/$s.pid"))"; continue; fi
    # exec: the pid file names the service itself, and nothing keeps the caller's stdout open.
    (cd "$ROOT" && exec nohup "$ROOT/.venv/bin/python" -m "attune_$s" >> "$LOGS/$s.log" 2>&1 < /dev/null) &
    echo $! > "$RUN/$s.pid"
    echo "$s: started (pid $(cat "$RUN/$s.pid"), port ${PORTS[$s]}, log $LOGS/$s.log)"
  done
  for s in "${SERVICES[@]}"; do
    for _ in $(seq 1 120); do
      ready "$s" && break
      if ! running "$s"; then echo "$s: exited; last log lines:" >&2; tail -n 20 "$LOGS/$s.log" >&2; exit 1; fi
      sleep 0.5
    done
    ready "$s" || { echo "$s: not ready after 60s: $(curl -sS "http://127.0.0.1:${PORTS[$s]}/health/ready")" >&2; exit 1; }
    echo "$s: ready on http://127.0.0.1:${PORTS[$s]}"
  done
}

down() {
  for s in "${SERVICES[@]}"; do
    if running "$s"; then
      pid="$(cat "$RUN/$s.pid")"
      pkill -TERM -P "$pid" 2>/dev/null || true
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
      echo "$s: stopped"
    fi
    rm -f "$RUN/$s.pid"
  done
}

status() {
  for s in "${SERVICES[@]}"; do
    if running "$s"; then
      echo "$s: running (pid $(cat "$RUN/$s.pid")) ready=$(ready "$s" && echo yes || echo no)"
    else
      echo "$s: stopped"
    fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
