#!/usr/bin/env bash
# Debian's nginx for `genre-lab serve --workers K`; serve runs its own instance (the Debian service is not used).
exec bash "$(dirname "$0")/install_debian_package.sh" /usr/sbin/nginx nginx-light "genre-lab serve --workers >1 and its tests"
