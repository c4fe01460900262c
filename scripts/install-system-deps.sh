#!/usr/bin/env bash
# Installs the programs the tests talk to, from Debian's packages, when missing:
# redis-server (the store's tests), chromium (the browser tests; Playwright
# drives /usr/bin/chromium, it never downloads a browser) and node (the browser
# modules' unit tests, on Node's own test runner).
# Needs root or password-less sudo; without either it says what is missing and
# the tests that need it are skipped (CI sets PRIVOCHAT_REQUIRE_ALL=1: they fail).
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then as_root=(); elif sudo -n true 2>/dev/null; then as_root=(sudo -n); else
  echo "install-system-deps: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
echo "install-system-deps: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" fonts-dejavu-core >/dev/null
