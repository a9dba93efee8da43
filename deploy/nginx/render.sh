#!/bin/sh
# Renders confhub.conf.template (beside this script) to standard output, replacing only the
# NGINX_* placeholders so nginx's own $variables stay as they are. Needs envsubst (Debian:
# gettext-base).
#
#   NGINX_SERVER_NAME=hoinghi.thanhhoa.gov.vn NGINX_APP_ADDRESSES="127.0.0.1:8001 127.0.0.1:8002" \
#     sh deploy/nginx/render.sh > /etc/nginx/sites-available/confhub
#
# NGINX_APP_ADDRESSES lists the confhub processes (host:port, space-separated); the rest have
# defaults for a Debian server with a Let's Encrypt certificate. The largest request body is
# not a setting of its own: it is computed from CONFHUB_MAX_UPLOAD_MB (default 20, as confhub's),
# so nginx allows exactly what confhub allows; render with confhub's environment file loaded
# (`set -a; . /etc/confhub/confhub.env; set +a`) when it changes the limit.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${NGINX_SERVER_NAME:?set NGINX_SERVER_NAME to the public host name}"
: "${NGINX_APP_ADDRESSES:?set NGINX_APP_ADDRESSES to the confhub processes, e.g. 127.0.0.1:8001 127.0.0.1:8002}"
: "${NGINX_HTTP_LISTEN:=80}"
: "${NGINX_HTTPS_LISTEN:=443}"
: "${NGINX_TLS_CERTIFICATE:=/etc/letsencrypt/live/$NGINX_SERVER_NAME/fullchain.pem}"
: "${NGINX_TLS_CERTIFICATE_KEY:=/etc/letsencrypt/live/$NGINX_SERVER_NAME/privkey.pem}"
: "${NGINX_STATIC_ROOT:=/opt/confhub/static}"
: "${CONFHUB_MAX_UPLOAD_MB:=20}"
: "${NGINX_LOG_DIR:=/var/log/nginx}"
: "${NGINX_WS_CONNECTIONS_PER_ADDRESS:=200}"
: "${NGINX_WS_HANDSHAKES_PER_SECOND:=5}"
: "${NGINX_WS_HANDSHAKE_BURST:=100}"
: "${NGINX_SIGNINS_PER_MINUTE:=30}"
: "${NGINX_SIGNIN_BURST:=20}"

case "$CONFHUB_MAX_UPLOAD_MB" in
  '' | *[!0-9]*) echo "CONFHUB_MAX_UPLOAD_MB must be a whole number of MiB" >&2; exit 1 ;;
esac
if [ -n "${NGINX_MAX_BODY_SIZE:-}" ]; then
  echo "NGINX_MAX_BODY_SIZE is computed from CONFHUB_MAX_UPLOAD_MB; set that instead" >&2
  exit 1
fi
# confhub's Settings.max_request_body_bytes: the upload limit plus 64 KiB of multipart form.
NGINX_MAX_UPLOAD_MB=$CONFHUB_MAX_UPLOAD_MB
NGINX_MAX_BODY_SIZE=$((CONFHUB_MAX_UPLOAD_MB * 1048576 + 65536))

NGINX_UPSTREAM_SERVERS=""
for address in $NGINX_APP_ADDRESSES; do
  NGINX_UPSTREAM_SERVERS="${NGINX_UPSTREAM_SERVERS}server $address max_fails=1 fail_timeout=10s; "
done
export NGINX_SERVER_NAME NGINX_HTTP_LISTEN NGINX_HTTPS_LISTEN NGINX_TLS_CERTIFICATE \
  NGINX_TLS_CERTIFICATE_KEY NGINX_UPSTREAM_SERVERS NGINX_STATIC_ROOT NGINX_MAX_BODY_SIZE \
  NGINX_MAX_UPLOAD_MB NGINX_LOG_DIR NGINX_WS_CONNECTIONS_PER_ADDRESS \
  NGINX_WS_HANDSHAKES_PER_SECOND NGINX_WS_HANDSHAKE_BURST NGINX_SIGNINS_PER_MINUTE \
  NGINX_SIGNIN_BURST

envsubst '${NGINX_SERVER_NAME} ${NGINX_HTTP_LISTEN} ${NGINX_HTTPS_LISTEN} ${NGINX_TLS_CERTIFICATE} ${NGINX_TLS_CERTIFICATE_KEY} ${NGINX_UPSTREAM_SERVERS} ${NGINX_STATIC_ROOT} ${NGINX_MAX_BODY_SIZE} ${NGINX_MAX_UPLOAD_MB} ${NGINX_LOG_DIR} ${NGINX_WS_CONNECTIONS_PER_ADDRESS} ${NGINX_WS_HANDSHAKES_PER_SECOND} ${NGINX_WS_HANDSHAKE_BURST} ${NGINX_SIGNINS_PER_MINUTE} ${NGINX_SIGNIN_BURST}' \
  < "$here/confhub.conf.template"
