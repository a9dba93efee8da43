#!/bin/sh
# Restarts confhub's web processes one at a time, each only after the previous one answers
# /readyz again, so nginx always has a process to send users to. Run it after an upgrade
# (docs/deploy.md), as root:  sh /opt/confhub/deploy/rolling-restart.sh [PORT ...]
# Without ports it restarts every running confhub@PORT unit.
set -eu

ports="$*"
if [ -z "$ports" ]; then
  ports=$(systemctl list-units --plain --no-legend --state=running 'confhub@*.service' \
    | sed -n 's/^confhub@\([0-9][0-9]*\)\.service.*/\1/p')
fi
[ -n "$ports" ] || { echo "rolling-restart: no confhub@PORT unit is running" >&2; exit 1; }

for port in $ports; do
  echo "restarting confhub@$port"
  systemctl restart "confhub@$port.service"
  tries=0
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
      echo "rolling-restart: confhub@$port is not ready after 60 s; stopping here" >&2
      exit 1
    fi
    sleep 1
  done
done
echo "rolling-restart: done ($ports)"
