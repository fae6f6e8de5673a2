"""The suite's own layout: test modules share code through helper modules
(``tests.builders``, ``tests.support``...) and conftest fixtures, never by
importing one another, so each can be read, moved or deleted on its own."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


# tests/store is being split by another change; its modules join this rule
# when that change lands (delete this line then).
def _is_test_module(module: str) -> bool:
    """Whether ``module`` (dotted, under tests) names a test module or a conftest."""
    last = module.rsplit(".", 1)[-1]
    return module.split(".")[0] == "tests" and (last.startswith("test_") or last == "conftest")


def _imported(source: str, package: tuple[str, ...]) -> set[str]:
    """Every module ``source`` (a file of ``package``) imports, relative
    imports resolved, and every ``from package import name`` as
    ``package.name`` too: the name may be a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join((*base, *(node.module or "").split("."))).strip(".")
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _offences(path: Path) -> list[str]:
    package = path.relative_to(ROOT).parts[:-1]
    imported = _imported(path.read_text(encoding="utf-8"), package)
    return [f"{path.relative_to(ROOT)} imports {m}" for m in sorted(imported) if _is_test_module(m)]


def test_no_file_under_tests_imports_a_test_module_or_a_conftest() -> None:
    """No file under tests/ imports a test module or a conftest: shared code is a builder."""
    files = [p for p in sorted(TESTS.rglob("*.py"))]
    assert len(files) > 50, "the walk found the suite"
    assert [line for path in files for line in _offences(path)] == []


def test_the_layout_check_catches_each_way_of_importing_a_test_module() -> None:
    """Absolute, relative, from-package and conftest imports are all caught;
    helper modules are not."""
    cases = {
        "from tests.as4.test_large import big_invoice": True,
        "import tests.as4.test_http": True,
        "from tests.as4 import test_http": True,
        "from .test_large import big_invoice": True,
        "from ..conftest import api": True,
        "from tests.conftest import SELLER": True,
        "from tests.builders import invoice": False,
        "from tests.support import free_port": False,
        "from ..validation import docs": False,
    }
    for line, offends in cases.items():
        imported = _imported(line, ("tests", "as4"))
        assert any(_is_test_module(m) for m in imported) is offends, (line, imported)
