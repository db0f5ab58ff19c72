#!/usr/bin/env bash
# Install a Debian package the project runs (chromium for the browser tests, nginx for
# `genre-lab serve --workers K`), unless its binary is already there.
#   usage: install_debian_package.sh BINARY PACKAGE WHAT-NEEDS-IT
# Services a package ships are never started on install: the project starts its own instances.
set -euo pipefail
binary="$1" package="$2" needed_by="$3"
if [ -x "$binary" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$package missing and apt-get unavailable: $needed_by will be skipped" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
# policy-rc.d 101: do not start a packaged service on install.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$package"
