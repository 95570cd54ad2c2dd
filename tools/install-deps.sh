#!/usr/bin/env bash
# Install the Debian packages la needs to build, test, fuzz and benchmark (only the missing ones).
set -euo pipefail
pkgs="build-essential pkg-config liblz4-dev libzstd-dev libxxhash-dev libjansson-dev check libsqlite3-dev clang tzdata"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
