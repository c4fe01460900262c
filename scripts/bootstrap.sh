#!/usr/bin/env bash
# Creates .venv with the project and its development tools (idempotent: does
# nothing when pyproject.toml has not changed since the last install).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp="$venv/.installed"
if [[ -f "$stamp" && "$stamp" -nt pyproject.toml ]]; then exit 0; fi

python=""
for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
  [[ -n "$candidate" ]] || continue
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python="$candidate"; break
  fi
done
if [[ -z "$python" ]]; then
  echo "bootstrap: PrivoChat needs Python 3.11 or newer (set PYTHON=/path/to/python3)." >&2
  exit 1
fi

if ! "$python" -m venv "$venv" 2>/dev/null; then
  # Debian ships venv separately.
  echo "bootstrap: '$python -m venv' failed; installing Debian's python3-venv" >&2
  sudo_or_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi; }
  sudo_or_root apt-get update -qq
  sudo_or_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
touch "$stamp"
echo "bootstrap: $venv ready ($("$venv/bin/python" --version))"
