#!/usr/bin/env bash
# Creates .venv-sam: an isolated virtualenv with a pinned AWS SAM CLI.
# SAM CLI pins its own boto3/pydantic/aws-sam-translator, so it must not share
# the project's .venv. `sam build` also needs a Python matching the template's
# Runtime (python3.12) on PATH: see tests/deploy/conftest.py and the README (Deploy to AWS).
#
# Usage: bash infra/sam-tools.sh            (idempotent; re-run after a pin change)
# Env:   SAM_VENV (default: <repo>/.venv-sam), SAM_PYTHON (interpreter for the venv)
set -euo pipefail

SAM_CLI_VERSION="1.170.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SAM_VENV:-$ROOT/.venv-sam}"
PY="${SAM_PYTHON:-}"
if [[ -z "$PY" ]]; then
  pyenv_312=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.*/bin/python3.12 2>/dev/null | sort -V | tail -n 1)
  for candidate in ${pyenv_312:+"$pyenv_312"} python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
  done
fi

if [[ -x "$VENV/bin/sam" ]] && "$VENV/bin/sam" --version 2>/dev/null | grep -q "$SAM_CLI_VERSION"; then
  echo "sam-tools: $VENV already has aws-sam-cli $SAM_CLI_VERSION"
  exit 0
fi

echo "sam-tools: creating $VENV with $PY"
"$PY" -m venv "$VENV"
log="$(mktemp)"
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "aws-sam-cli==$SAM_CLI_VERSION" >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
"$VENV/bin/sam" --version
