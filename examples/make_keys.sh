#!/usr/bin/env bash
# Make the RSA-2048 key pair Wonder signs with. Keep private_key.pem secret (the SDK reads it);
# upload public_key.pem to the Wonder portal, or give it to `wonder emulator --public-key`.
set -euo pipefail
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out private_key.pem
chmod 600 private_key.pem
openssl pkey -in private_key.pem -pubout -out public_key.pem
echo "wrote private_key.pem (secret) and public_key.pem (upload this one)"
