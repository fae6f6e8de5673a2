"""Compiled or source rule modules: which ones this process runs.

The build compiles the rule modules with mypyc (``setup.py``) and records
the SHA-256 of each source it compiled in ``_compiled.json``. Python would
load an extension module in preference to its source, so a source edited
after the build would be silently ignored. Before any rule module is
imported, ``choose()`` compares the sources with the record; when one
differs, or ``GATEWAY_RULES=python`` is set, every rule module is loaded
from its Python source (all or none: compiled modules call each other
directly).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
PACKAGE = __name__.rpartition(".")[0]
MANIFEST = "_compiled.json"


@dataclass(frozen=True)
class Build:
    """What the rules run as: ``compiled`` (mypyc) or the Python sources, and why."""

    compiled: bool
    reason: str

    def __str__(self) -> str:
        return f"{'compiled (mypyc)' if self.compiled else 'Python sources'}: {self.reason}"


def _extensions(directory: Path) -> list[Path]:
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return [p for p in directory.iterdir() if p.name.endswith(suffixes)]


def inspect(directory: Path, forced_python: bool = False) -> Build:
    """Whether the compiled modules in ``directory`` may be used (no I/O beyond reading it)."""
    if forced_python:
        return Build(False, "GATEWAY_RULES=python")
    record = directory / MANIFEST
    if not record.is_file():
        if _extensions(directory):
            return Build(False, f"compiled modules without {MANIFEST} (an interrupted build?)")
        return Build(False, "this install was built without compiling them")
    try:
        digests: dict[str, str] = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Build(False, f"{MANIFEST} is unreadable ({exc})")
    for module, digest in sorted(digests.items()):
        source = directory / f"{module}.py"
        try:
            current = hashlib.sha256(source.read_bytes()).hexdigest()
        except OSError:
            return Build(False, f"{source.name} is missing")
        if current != digest:
            return Build(
                False, f"{source.name} changed since the build (rebuild: pip install -e .)"
            )
    return Build(True, f"{len(digests)} modules, sources unchanged since the build")


class _Sources(importlib.abc.MetaPathFinder):
    """Finds the rule modules as Python sources, ahead of their extensions."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != PACKAGE:
            return None
        source = HERE / f"{name}.py"
        if not source.is_file():
            return None
        return importlib.util.spec_from_file_location(fullname, source)


def choose() -> Build:
    """Decide once per process, before the first rule module is imported."""
    build = inspect(HERE, os.environ.get("GATEWAY_RULES") == "python")
    if not build.compiled and not any(isinstance(f, _Sources) for f in sys.meta_path):
        sys.meta_path.insert(0, _Sources())
    return build
