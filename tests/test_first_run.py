"""The first run's set-up (scripts/_venv.sh) says what it does, and when the rules compile.

A real set-up downloads and installs every dependency and compiles 47 modules
(minutes; `tests/test_readme.py` and CI run the real thing). Here the Python
the script is given is a stand-in that records what it is asked to do and
answers at once, so the script's own behaviour is what is checked: its steps
and timings on stderr, and GATEWAY_COMPILE deciding whether the compile runs
before, beside or never.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import REPO

# Stands in for python3: `-c` checks run for real; venv, pip and the compile
# are recorded in calls.log and take no time (the compile takes a little, so
# "background" can be seen to return before it ends).
STANDIN = """#!/usr/bin/env bash
here="$(cd "$(dirname "$0")" && pwd)"
log="${STANDIN_LOG:?}"
case "$1" in
  -c) exec "${REAL_PYTHON:?}" "$@" ;;
  -m)
    if [ "$2" = venv ]; then
      echo "venv" >> "$log"; mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; exit 0
    fi
    echo "pip GATEWAY_PURE_PYTHON=${GATEWAY_PURE_PYTHON:-}" >> "$log"; exit 0 ;;
  setup.py)
    echo "compile started" >> "$log"; sleep "${STANDIN_COMPILE_SECONDS:-0}"
    echo "compile finished" >> "$log"; exit 0 ;;
esac
echo "unexpected: $*" >> "$log"; exit 1
"""


def _checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "_venv.sh", root / "scripts" / "_venv.sh")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(
        REPO / "gateway" / "validation" / "rules",
        root / "gateway/validation/rules",
        ignore=shutil.ignore_patterns("*.so", "__pycache__", "_compiled.json"),
    )
    standin = tmp_path / "python3"
    standin.write_text(STANDIN)
    standin.chmod(0o755)
    return root


def _setup(
    root: Path, compile_mode: str | None, seconds: float = 0
) -> tuple[subprocess.CompletedProcess[str], Path]:
    log = root.parent / "calls.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        PYTHON=str(root.parent / "python3"),
        REAL_PYTHON=sys.executable,
        STANDIN_LOG=str(log),
        STANDIN_COMPILE_SECONDS=str(seconds),
    )
    if compile_mode is not None:
        env["GATEWAY_COMPILE"] = compile_mode
    done = subprocess.run(
        ["bash", "-c", "source scripts/_venv.sh"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, log


def test_first_set_up_prints_each_step_with_the_elapsed_time_and_how_to_skip_the_compile(
    tmp_path: Path,
) -> None:
    """Three numbered steps, each with seconds elapsed; the compile step names the module count,
    how long it takes and GATEWAY_COMPILE=no; dependencies install without the compile."""
    root = _checkout(tmp_path)
    done, log = _setup(root, None)
    assert done.returncode == 0, done.stderr
    steps = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert [s.split("] ", 1)[1][:4] for s in steps[:3]] == ["1/3 ", "2/3 ", "3/3 "]
    assert all(s[1:5].strip().rstrip("s").isdigit() for s in steps)
    modules = len(list((root / "gateway/validation/rules").glob("*.py"))) - 3
    assert f"compiling {modules} rule modules" in done.stderr
    assert "GATEWAY_COMPILE=no skips it" in done.stderr
    assert log.read_text().splitlines() == [
        "venv",
        "pip GATEWAY_PURE_PYTHON=1",
        "compile started",
        "compile finished",
    ]
    again, _ = _setup(root, None)  # set up once: a second run says and does nothing
    assert again.returncode == 0 and again.stderr == ""
    assert log.read_text().count("venv") == 1


def test_background_compile_lets_serve_start_before_it_ends(tmp_path: Path) -> None:
    """GATEWAY_COMPILE=background (what scripts/serve uses) returns while the compile still
    runs, and says the gateway starts with the Python rules meanwhile."""
    root = _checkout(tmp_path)
    start = time.monotonic()
    done, log = _setup(root, "background", seconds=3)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 3
    assert "in the background" in done.stderr and "Python rules" in done.stderr
    deadline = time.monotonic() + 30
    while "compile finished" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


@pytest.mark.parametrize(("mode", "expect"), [("no", "skipped compiling"), ("later", "must be")])
def test_compile_mode_no_skips_it_and_an_unknown_mode_is_refused(
    tmp_path: Path, mode: str, expect: str
) -> None:
    """GATEWAY_COMPILE=no installs without compiling; a value other than now, background or no
    stops with exit 2 before anything is installed."""
    root = _checkout(tmp_path)
    done, log = _setup(root, mode)
    assert expect in done.stderr
    if mode == "no":
        assert done.returncode == 0 and "compile" not in log.read_text()
    else:
        assert done.returncode == 2 and not log.exists()
