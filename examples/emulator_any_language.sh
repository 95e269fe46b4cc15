#!/usr/bin/env bash
# The standalone emulator for a client in any language: your key pair, your app id, one port.
# This script is the client here: it signs Wonder's echo call with openssl and sends it with
# curl, as any language's HTTP client and crypto library would.
# Copy it into an empty directory and run it there: bash emulator_any_language.sh (PORT=8080 by
# default). It needs bash, openssl, curl, xxd and the `wonder` command (pip install wonder-gateway).
set -euo pipefail
port=${PORT:-8080}
base="http://127.0.0.1:$port"
app_id=my-test-app

# 1. The key pair (the same commands as for the Wonder portal; examples/make_keys.sh).
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out private_key.pem
chmod 600 private_key.pem
openssl pkey -in private_key.pem -pubout -out public_key.pem
echo "wrote private_key.pem (secret) and public_key.pem (upload this one)"

# 2. The emulator accepts requests signed for app_id with the private half of public_key.pem.
wonder emulator --port "$port" --app-id "$app_id" --public-key public_key.pem \
    --faults 'customers.upsert:503=0.5' &
emulator=$!
trap 'kill $emulator' EXIT
until curl -sf "$base/__emulator/stats" >/dev/null; do sleep 0.2; done

# 3. Sign a request (Wonder-RSA-SHA256) and send it.
request_time=$(date -u +%Y%m%d%H%M%S)
nonce=$(openssl rand -hex 8)  # 16 characters from [0-9A-Za-z]
uri=/svc/payment/api/v1/openapi/echo
body='{"message":"Hello,Wonder!"}'
content=$(printf 'POST\n%s\n%s' "$uri" "$body")
hmac() { openssl dgst -sha256 -mac HMAC -macopt "$1" -binary | xxd -p -c 256; }
k1=$(printf '%s' "$request_time" | hmac "key:$nonce")
k2=$(printf '%s' "Wonder-RSA-SHA256" | hmac "hexkey:$k1")
message=$(printf '%s' "$content" | hmac "hexkey:$k2")
signature=$(printf '%s' "$message" | openssl dgst -sha256 -sign private_key.pem | base64 -w0)
curl -sS -X POST "$base$uri" \
    -H "Content-Type: application/json" \
    -H "Credential: $app_id/$request_time/Wonder-RSA-SHA256" \
    -H "Nonce: $nonce" \
    -H "Signature: $signature" \
    --data-raw "$body"
echo

# 4. Between tests: empty the data and counters (the --faults rules given at start stay).
curl -sS -X POST "$base/__emulator/reset"
echo
curl -sS "$base/__emulator/stats"
echo
