#!/usr/bin/env bash
# Wonder's own PHP SDK (wonderpayment/payment-sdk-php, src/PaymentSDK.php), with only its host
# pointed at `wonder emulator`, walks 16 merchant steps (run.php); a replica of the WooCommerce
# plugin's webhook handler (webhook.php, class-wonder-payments-gateway.php:869-1019) receives
# the webhooks. Needs php-cli with curl and openssl, and a checkout of Wonder's PHP SDK:
#
#   scripts/php_sdk_check/check.sh PATH/TO/PaymentSDK.php [--reading NAME=VALUE ...]
#
# Extra arguments go to `wonder emulator` (e.g. --reading errors=http). Exit 0 when every
# step passes. Nothing of Wonder's code is kept in this repository.
set -u
sdk=${1:?usage: check.sh PATH/TO/PaymentSDK.php [emulator options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
wonder=${WONDER:-$(command -v wonder || echo "$here/../../.venv/bin/wonder")}
work=$(mktemp -d)
trap 'kill $emu $php 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
# Only the host changes: every environment's gateway becomes the emulator.
sed "s#'https://gateway[a-z-]*\.wonder\.today'#getenv('WONDER_BASE')#" "$sdk" >"$work/PaymentSDK.php"
cp "$here/run.php" "$here/webhook.php" "$work/"
cd "$work"
openssl genrsa -out app.key 2048 2>/dev/null
openssl rsa -in app.key -pubout -out app.pub 2>/dev/null
export APP_ID=11111111-2222-4333-8444-555555555555 APP_KEY=$work/app.key WEBHOOK_KEY=$work/wh.pem
port=${PORT:-18931}
"$wonder" emulator --port "$port" --app-id "$APP_ID" --public-key app.pub \
    --webhook-key-file wh.pem --no-dashboard "$@" >emu.log 2>&1 &
emu=$!
php -S "127.0.0.1:$((port + 1))" webhook.php >php.log 2>&1 &
php=$!
for _ in $(seq 100); do [ -s wh.pem ] && curl -s -o /dev/null "127.0.0.1:$port" && break; sleep 0.2; done
WONDER_BASE=http://127.0.0.1:$port HOOK_URL=http://127.0.0.1:$((port + 1))/wonder-webhook php run.php
