#!/usr/bin/env bash
# Debian's chromium for the browser tests; Playwright drives /usr/bin/chromium and never downloads one.
exec bash "$(dirname "$0")/install_debian_package.sh" /usr/bin/chromium chromium "the browser tests"
