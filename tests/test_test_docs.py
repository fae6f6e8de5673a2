"""Every test says in words what behaviour it checks.

A name alone is hard to check mechanically, so each `test_*` function needs a docstring
that states the subject, the condition and the outcome a user or operator would notice.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _undocumented() -> list[str]:
    missing = []
    for module in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(module.read_text(), filename=str(module))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if node.name.startswith("test_") and not (ast.get_docstring(node) or "").strip():
                missing.append(f"{module.relative_to(TESTS.parent)}::{node.name}")
    return missing


def test_every_test_function_has_a_docstring_saying_what_it_checks() -> None:
    """Each test_* function under tests/ (tests/store included) carries a non-empty docstring;
    the failure lists every test that has none, by file and name."""
    missing = _undocumented()
    assert not missing, f"{len(missing)} tests have no docstring:\n" + "\n".join(missing)


def test_the_docstring_check_finds_tests_in_every_test_directory() -> None:
    """The check walks nested test packages too, so a directory cannot be skipped silently."""
    modules = {m.parent.name for m in TESTS.rglob("test_*.py")}
    assert {"tests", "as4", "e2e", "store", "validation", "transport"} <= modules
