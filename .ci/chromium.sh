#!/usr/bin/env bash
# Make sure Debian's `chromium` is installed, for tests/reports/test_html_chromium.py (the HTML report in
# a real headless browser). Idempotent: does nothing when `chromium` is already on PATH. CI runs as root.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium is not installed and this is not root: the Chromium report test will be skipped" >&2
  exit 0
fi
echo "installing Chromium from Debian packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version >&2
