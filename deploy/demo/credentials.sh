#!/usr/bin/env bash
# The demo's tenant, integrator key and clinician login, made with attune-admin the way an
# operator would; written to .run/demo.env (mode 600) for deploy/demo/demo.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="$ROOT/.run"
ADMIN="$ROOT/.venv/bin/attune-admin"
TENANT=demo-clinic
CLINICIAN=clin-lee
export ATTUNE_AUTH_DATABASE_URL="${ATTUNE_AUTH_DATABASE_URL:-sqlite+aiosqlite:///$RUN/identity.db}"
mkdir -p "$RUN"

"$ADMIN" tenant create "$TENANT" --name "Demo clinic" 2>/dev/null || true   # exists after the first run
# A fresh integrator key per run; the previous run's key is revoked.
if [[ -f "$RUN/demo.env" ]]; then
  old="$(sed -n 's/^ATTUNE_DEMO_KEY_ID=//p' "$RUN/demo.env")"
  [[ -n "$old" ]] && "$ADMIN" key revoke "$old" >/dev/null 2>&1 || true
fi
key="$("$ADMIN" key create --tenant "$TENANT" --name demo-integrator 2>"$RUN/demo-key.err")"
key_id="$(sed -n 's/^key id \([^ ]*\) .*/\1/p' "$RUN/demo-key.err")"
rm -f "$RUN/demo-key.err"
# The clinician's password is made once and kept with the other local secrets.
password_file="$RUN/demo-clinician-password"
[[ -s "$password_file" ]] || (umask 077 && "$ROOT/.venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(18))' > "$password_file")
"$ADMIN" user create --tenant "$TENANT" --username "$CLINICIAN" --role clinician \
  --password-stdin < "$password_file" >/dev/null 2>&1 || true   # exists after the first run
(umask 077 && cat > "$RUN/demo.env" <<ENV
ATTUNE_DEMO_TENANT=$TENANT
ATTUNE_DEMO_KEY_ID=$key_id
ATTUNE_DEMO_KEY=$key
ATTUNE_DEMO_USERNAME=$CLINICIAN
ATTUNE_DEMO_PASSWORD=$(cat "$password_file")
ENV
)
echo "demo: tenant $TENANT, integrator key $key_id (uv run attune-admin key create --tenant $TENANT --name ...),"
echo "demo: clinician login $CLINICIAN (uv run attune-admin user create --tenant $TENANT --username $CLINICIAN --role clinician)"
