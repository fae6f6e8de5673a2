# Sourced by scripts/serve and scripts/test: make sure .venv exists and holds
# the pinned dependencies of pyproject.toml. Needs only python3 >= 3.11.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Python 3.11 or newer is needed (found: $("$PY" --version 2>&1))" >&2
  exit 2
fi
STAMP=.venv/.installed
if [ ! -x .venv/bin/python ] || [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "setting up .venv (once) ..." >&2
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' \
    2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
  touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
