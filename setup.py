"""Build step: compile the native validation rules with mypyc.

The project's metadata lives in pyproject.toml; this file only adds the
compiled rules. The rules (``gateway/validation/rules``) are plain, typed
Python and stay the reference: mypyc turns each module into a C extension
that behaves the same and runs about 1.5x faster (benchmarks/RESULTS.md).

* ``GATEWAY_PURE_PYTHON=1`` builds without compiling.
* Where mypyc or a C compiler is missing, or the compile fails, the build
  goes on without the extensions and says so: the Python sources are used.
* A successful build writes ``_compiled.json`` beside the extensions: the
  SHA-256 of each source it compiled. At import, a source that no longer
  matches (edited after the build) makes the package load every rule
  module from its Python source instead (``gateway/validation/rules/_loader.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

RULES = Path("gateway/validation/rules")
# Left interpreted: the package itself, the loader that picks compiled or
# source modules, and the one class that adds attributes at run time.
INTERPRETED = {"__init__", "_loader", "names"}
MANIFEST = "_compiled.json"


def _sources() -> list[Path]:
    return sorted(p for p in RULES.glob("*.py") if p.stem not in INTERPRETED)


def _say(message: str) -> None:
    print(f"gateway build: {message}", file=sys.stderr)


class BuildRules(build_ext):
    """build_ext that falls back to the Python sources and records what it compiled."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def run(self) -> None:
        if not self.extensions:
            return
        try:
            super().run()
        except Exception as exc:  # no compiler, missing headers, a failing compile
            _say(f"compiling the rules failed ({exc}); the Python sources will be used")
            self._remove_outputs()
            return
        digests = {p.stem: hashlib.sha256(p.read_bytes()).hexdigest() for p in _sources()}
        target = RULES if self.inplace else Path(self.build_lib) / RULES
        target.mkdir(parents=True, exist_ok=True)
        (target / MANIFEST).write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
        _say(f"compiled {len(digests)} rule modules with mypyc")

    def _remove_outputs(self) -> None:
        for ext in self.extensions:
            built = Path(self.get_ext_fullpath(ext.name))
            built.unlink(missing_ok=True)


def _extensions() -> list[object]:
    if os.environ.get("GATEWAY_PURE_PYTHON") == "1":
        _say("GATEWAY_PURE_PYTHON=1: the rules stay Python")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _say("mypyc is not installed: the rules stay Python")
        return []
    # Third-party modules (lxml above all) are typed as Any for the compile:
    # mypyc then adds no run-time type checks on what they return, so the
    # compiled rules accept exactly what the Python ones accept (an lxml
    # comment's tag is a function, not the str its stubs promise).
    flags = [
        "--config-file=",
        "--no-site-packages",
        "--ignore-missing-imports",
        "--python-version=3.11",
    ]
    try:
        return list(mypycify(flags + [str(p) for p in _sources()], opt_level="3", separate=True))
    except Exception as exc:  # a type error mypyc refuses, say
        _say(f"mypyc could not translate the rules ({exc}); they stay Python")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildRules})
