#!/usr/bin/env bash
# Principals and ACLs of the SASL_SSL broker (docker compose --profile secure), run inside it:
#   docker compose exec kafka-secure bash /opt/attune/kafka-acls.sh <tenant> [<tenant>…]
# Each tenant's integrator is User:integrator-<tenant> (password from ATTUNE_KAFKA_PASSWORD_<TENANT>
# in the environment); each service is User:attune-<service>. The admin client config
# (/etc/kafka/tls/admin.properties: SASL_SSL, SCRAM-SHA-512, User:admin) is the deployment's own.
set -euo pipefail
BIN=/opt/kafka/bin
SERVER=kafka-secure:9094
ADMIN=(--bootstrap-server "$SERVER" --command-config /etc/kafka/tls/admin.properties)
PREFIX="${ATTUNE_TOPIC_PREFIX:-}"

scram() {  # user, password
  "$BIN/kafka-configs.sh" "${ADMIN[@]}" --alter --entity-type users --entity-name "$1" \
    --add-config "SCRAM-SHA-512=[password=$2]"
}
acl() { "$BIN/kafka-acls.sh" "${ADMIN[@]}" --add "$@"; }

for tenant in "$@"; do
  var="ATTUNE_KAFKA_PASSWORD_$(echo "$tenant" | tr 'a-z-' 'A-Z_')"
  scram "integrator-$tenant" "${!var:?set $var}"
  acl --allow-principal "User:integrator-$tenant" --operation Write --operation Describe --topic "${PREFIX}conversation.raw"
  acl --allow-principal "User:integrator-$tenant" --operation Read --operation Describe --topic "${PREFIX}conversation.control"
  acl --allow-principal "User:integrator-$tenant" --operation Read --group "integrator-$tenant" --resource-pattern-type prefixed
done

# The services: each its own principal (KAFKA_SASL_USERNAME/PASSWORD in compose.secure.yml),
# password from ATTUNE_KAFKA_PASSWORD_<SERVICE>.
for s in ingest classifier router escalation; do
  var="ATTUNE_KAFKA_PASSWORD_$(echo "$s" | tr 'a-z' 'A-Z')"
  scram "attune-$s" "${!var:?set $var}"
done

# The services: each reads what it consumes and writes what it produces (the topic table).
acl --allow-principal User:attune-ingest --operation Read --topic "${PREFIX}conversation.raw" --group attune-ingest
acl --allow-principal User:attune-ingest --operation Read --operation Write --topic "${PREFIX}conversation.events"
acl --allow-principal User:attune-ingest --operation Write --topic "${PREFIX}conversation.events.dlq"
acl --allow-principal User:attune-classifier --operation Read --topic "${PREFIX}conversation.events" --group attune-classifier
acl --allow-principal User:attune-classifier --operation Write --topic "${PREFIX}rupture.assessments" --topic "${PREFIX}conversation.events.dlq"
acl --allow-principal User:attune-router --operation Read --topic "${PREFIX}rupture.assessments" --group attune-router
acl --allow-principal User:attune-router --operation Write --topic "${PREFIX}alerts" --topic "${PREFIX}rupture.assessments.dlq"
# Every router reads every silence, without a group (all partitions, from the start).
acl --allow-principal User:attune-router --operation Read --operation Describe --topic "${PREFIX}silences"
acl --allow-principal User:attune-escalation --operation Read --topic "${PREFIX}alerts" --group attune-escalation
# Its own groups: the engagement chart (rupture.assessments) and open incidents' conversations.
acl --allow-principal User:attune-escalation --operation Read --topic "${PREFIX}rupture.assessments" --group attune-escalation-engagement
acl --allow-principal User:attune-escalation --operation Read --topic "${PREFIX}conversation.events" --group attune-escalation-turns
acl --allow-principal User:attune-escalation --operation Write --topic "${PREFIX}escalation.events" --topic "${PREFIX}conversation.control" --topic "${PREFIX}alerts.dlq" --topic "${PREFIX}silences"
for s in ingest classifier router escalation; do
  acl --allow-principal "User:attune-$s" --operation IdempotentWrite --cluster
done
