#!/usr/bin/env bash
# Refresh the lock files in requirements/ from pyproject.toml (and requirements/build.in):
#
#   scripts/lock.sh              # after editing pyproject.toml: keep every pin that still fits
#   scripts/lock.sh --upgrade    # move every package to the newest version the ranges allow
#
# dev.txt is everything (runtime, sandbox, postgres, test, build); sandbox.txt is the
# runtime and the sandbox only, and server.txt the same with PostgreSQL (the Dockerfile's),
# both resolved within dev.txt so that every file pins the same versions.
# Universal (Linux, macOS, Windows; Python 3.11+) and with hashes, for pip --require-hashes.
# Uses uv (https://docs.astral.sh/uv/) when it is on PATH, else installs it in a throwaway venv.
set -euo pipefail
cd "$(dirname "$0")/.."

uv=${UV:-$(command -v uv || true)}
if [ -z "$uv" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m venv "$tmp/venv"
  "$tmp/venv/bin/pip" install -q uv
  uv="$tmp/venv/bin/uv"
fi

common=(--universal --generate-hashes --python-version 3.11 --quiet
        --custom-compile-command "scripts/lock.sh" "$@")
"$uv" pip compile pyproject.toml requirements/build.in \
  --extra sandbox --extra postgres --extra test "${common[@]}" -o requirements/dev.txt
"$uv" pip compile pyproject.toml requirements/build.in \
  --extra sandbox --constraint requirements/dev.txt "${common[@]}" -o requirements/sandbox.txt
"$uv" pip compile pyproject.toml requirements/build.in \
  --extra sandbox --extra postgres --constraint requirements/dev.txt "${common[@]}" \
  -o requirements/server.txt
echo "locked: requirements/dev.txt ($(grep -c '==' requirements/dev.txt) packages)," \
  "requirements/sandbox.txt ($(grep -c '==' requirements/sandbox.txt) packages)," \
  "requirements/server.txt ($(grep -c '==' requirements/server.txt) packages)"
