#!/bin/sh
# Installs Debian's Chromium for the browser tests (Playwright drives it through
# executable_path; Playwright's own browser download does not work on our machines).
# Idempotent: does nothing when /usr/bin/chromium is already there.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi

echo "install-browser: installing Debian's chromium (apt-get)" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core

"$CHROMIUM" --version >&2
