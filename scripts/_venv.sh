# Sourced by scripts/serve and scripts/test: make sure .venv exists and holds
# the pinned dependencies of pyproject.toml. Needs only python3 >= 3.11.
#
# The validation rules are compiled with mypyc (about 1.5x faster). The compile
# takes minutes, so GATEWAY_COMPILE says when it happens:
#   now         before going on (scripts/test: CI checks the compiled build)
#   background  scripts/serve: the gateway starts at once with the Python rules
#               and uses the compiled ones from its next start
#   no          never; the rules run as Python (same verdicts, slower)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Python 3.11 or newer is needed (found: $("$PY" --version 2>&1))" >&2
  exit 2
fi
COMPILE="${GATEWAY_COMPILE:-${VENV_COMPILE_DEFAULT:-now}}"
case "$COMPILE" in now|background|no) ;; *)
  echo "error: GATEWAY_COMPILE must be now, background or no (not '$COMPILE')" >&2; exit 2;;
esac
STAMP=.venv/.installed
RULES=gateway/validation/rules
COMPILE_LOG=.venv/compile.log
_t0=$SECONDS
_step() { printf '[%4ss] %s\n' "$((SECONDS - _t0))" "$*" >&2; }

_compile_rules() {  # in place, beside the sources; the loader checks their hashes at import
  .venv/bin/python setup.py -q build_ext --inplace >"$COMPILE_LOG" 2>&1
}

if [ ! -x .venv/bin/python ] || [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "setting up .venv (once; GATEWAY_COMPILE=$COMPILE) ..." >&2
  _step "1/3 creating .venv"
  "$PY" -m venv .venv
  _step "2/3 installing the pinned dependencies with pip (about a minute)"
  GATEWAY_PURE_PYTHON=1 .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -e '.[dev]' 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
  touch "$STAMP"
  modules=$(find "$RULES" -maxdepth 1 -name '*.py' ! -name '__init__.py' ! -name '_loader.py' \
    ! -name 'names.py' | wc -l)
  case "$COMPILE" in
    now)
      _step "3/3 compiling $modules rule modules with mypyc (2 to 4 minutes on 2 cores;" \
        "GATEWAY_COMPILE=no skips it, log: $COMPILE_LOG)"
      _compile_rules &
      pid=$!
      while kill -0 "$pid" 2>/dev/null; do
        sleep 15
        kill -0 "$pid" 2>/dev/null && _step "    still compiling ..."
      done
      if wait "$pid"; then _step "done: compiled rules"
      else _step "the compile failed (see $COMPILE_LOG); the rules run as Python"; fi
      ;;
    background)
      _step "3/3 compiling $modules rule modules with mypyc in the background (log: $COMPILE_LOG);" \
        "the gateway starts now with the Python rules and uses the compiled ones from its next start"
      nohup .venv/bin/python setup.py -q build_ext --inplace >"$COMPILE_LOG" 2>&1 </dev/null &
      ;;
    no)
      _step "3/3 skipped compiling the rules (GATEWAY_COMPILE=no): they run as Python"
      ;;
  esac
fi
export PATH="$ROOT/.venv/bin:$PATH"
