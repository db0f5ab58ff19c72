#!/usr/bin/env bash
# Install Debian's nginx for `genre-lab serve --workers K` (the reverse proxy in front of the app
# processes), unless it is already there. The Debian service is never started: serve runs its own
# nginx with its own configuration, as the user who runs it, on the port it is given.
set -euo pipefail
if [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "nginx missing and apt-get unavailable: genre-lab serve --workers >1 and its tests will be skipped" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
# policy-rc.d 101: do not start the Debian service on install (serve starts its own instance).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light
