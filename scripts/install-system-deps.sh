#!/usr/bin/env bash
# Installs the programs the tests talk to, from Debian's packages, when missing:
# redis-server (the store's tests); the three browser engines people chat on,
# chromium (Playwright drives /usr/bin/chromium), firefox-esr (driven over
# WebDriver BiDi, which it speaks itself) and webkit2gtk-driver (WebKitWebDriver
# and WebKitGTK's MiniBrowser) with xvfb (MiniBrowser has no headless mode);
# and node (the browser modules' unit tests). No test downloads a browser.
# Debian ships one version of each at a time (security updates replace it), so
# versions are not pinned here: tests/engines prints the versions it ran.
# Needs root or password-less sudo; without either it says what is missing and
# the tests that need it are skipped (CI sets PRIVOCHAT_REQUIRE_ALL=1: they fail).
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
command -v WebKitWebDriver >/dev/null 2>&1 || missing+=(webkit2gtk-driver)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
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
