#!/usr/bin/env bash
# Print the signature header value a partner would send for FILE, with the fake local secrets.
#   sign.sh shopify FILE   -> base64 HMAC-SHA256 (X-Shopify-Hmac-Sha256)
#   sign.sh easypost FILE  -> hmac-sha256-hex=<hex> (X-Hmac-Signature)
set -euo pipefail
case "$1" in
  shopify)  openssl dgst -sha256 -hmac 'shpss_fake_local_secret_do_not_use' -binary < "$2" | base64 ;;
  easypost) echo "hmac-sha256-hex=$(openssl dgst -sha256 -hmac 'easypost_fake_webhook_secret' -hex < "$2" | sed 's/^.*= //')" ;;
  *) echo "usage: sign.sh shopify|easypost FILE" >&2; exit 2 ;;
esac
