"""The layer contract of ``gateway/``, read from the source (docs/architecture.md).

Every import counts: module level, inside functions, and under
``TYPE_CHECKING``. A lazy import that dodges a cycle at run time is still a
dependency both ways, so it breaks the contract like any other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "gateway"

# Top to bottom. A module may import its own package and anything in a lower
# layer; never a higher layer, nor another package of its own layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("gateway.__main__",),
    ("gateway.cli",),
    ("gateway.server",),
    ("gateway.portal",),
    ("gateway.service",),
    ("gateway.transport", "gateway.store", "gateway.channels"),
    ("gateway.directory",),
    ("gateway.core", "gateway.routing", "gateway.samples"),
    ("gateway.as4", "gateway.validation"),
    ("gateway.pki",),
    ("gateway.config",),
    ("gateway.model", "gateway.errors", "gateway.log", "gateway.metrics"),
)

# The pure core: bytes and values in, values out. None of it may reach, even
# through another module, a server, a database, the event loop or the logger.
PURE = (
    "gateway.core",
    "gateway.routing",
    "gateway.as4",
    "gateway.validation",
    "gateway.pki",
    "gateway.model",
)
IMPURE_LIBRARIES = ("aiohttp", "asyncio", "redis", "sqlite3", "structlog", "prometheus_client")
IMPURE_MODULES = ("gateway.log", "gateway.metrics")
# Where the pure core's rule holds with a reason: the official validator (an
# optional tool, run by `gateway validate --official`) starts Saxon.
PURE_EXCEPTIONS = {"gateway.validation.official"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The gateway module an imported name refers to (a module, or its package)."""
    known = modules()
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> Iterator[tuple[str, int]]:
    """(imported name, line) for every import in a module, wherever it is written."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:  # `from gateway.x import y` may name a module y
                yield f"{base}.{alias.name}", node.lineno


@cache
def graph() -> dict[str, dict[str, int]]:
    """Module -> {gateway module it imports: line}; outside modules kept by top name."""
    edges: dict[str, dict[str, int]] = {}
    for module in modules():
        targets: dict[str, int] = {}
        for name, line in _imports(module):
            target = _resolve(name) if name.startswith("gateway") else name.split(".")[0]
            if target and target != module:
                targets.setdefault(target, line)
        edges[module] = targets
    return edges


def _layer(module: str) -> tuple[int, str]:
    if module == "gateway":  # the root package: its version, nothing else
        return len(LAYERS), module
    for depth, packages in enumerate(LAYERS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return depth, package
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS")


def _where(module: str, target: str) -> str:
    path = modules()[module].relative_to(ROOT.parent)
    return f"{path}:{graph()[module][target]}"


def test_every_module_belongs_to_a_layer() -> None:
    """Every module under gateway/ falls in a layer of the contract: a new package must be placed
    in the picture before it is used."""
    for module in modules():
        _layer(module)


def test_imports_only_go_down_the_layers() -> None:
    """No module imports a higher layer or a sibling package of its own layer."""
    wrong = []
    for module, targets in graph().items():
        depth, package = _layer(module)
        for target in targets:
            if not target.startswith("gateway"):
                continue
            t_depth, t_package = _layer(target)
            if t_package == package or t_depth > depth:
                continue
            way = "up to" if t_depth < depth else "across to"
            wrong.append(f"{_where(module, target)}: {module} imports {way} {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def _reach(module: str) -> dict[str, list[str]]:
    """Everything a module depends on, directly or not, each with one path to it."""
    paths = {module: [module]}
    todo = [module]
    while todo:
        current = todo.pop()
        for target in graph().get(current, {}):
            if target not in paths:
                paths[target] = [*paths[current], target]
                if target in graph():
                    todo.append(target)
    return paths


def test_the_pure_core_reaches_no_io_even_indirectly() -> None:
    """The core (validation, AS4 messages, routing, PKI, vocabulary) does no I/O."""
    wrong = []
    for module in graph():
        if not module.startswith(PURE) or module in PURE_EXCEPTIONS:
            continue
        for target, path in _reach(module).items():
            impure = target in IMPURE_LIBRARIES or target.startswith(IMPURE_MODULES)
            if impure and not set(path) & PURE_EXCEPTIONS:
                wrong.append(" -> ".join(path))
    assert not wrong, "the pure core reaches I/O:\n" + "\n".join(sorted(set(wrong)))


def _cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    edges = {m: [t for t in ts if t in graph()] for m, ts in graph().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycles_counting_lazy_and_type_checking_imports() -> None:
    """Each module can be understood (and tested) without the ones that use it."""
    cycles = _cycles()
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from gateway.routing import decision\n", {"gateway.routing.decision"}),
        ("def f():\n    import gateway.store.base\n", {"gateway.store.base"}),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from gateway.model import Partner\n",
            {"gateway.model"},
        ),
    ],
)
def test_the_contract_sees_every_kind_of_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, expected: set[str]
) -> None:
    """Lazy, TYPE_CHECKING and from-imports of modules are all edges of the graph."""
    monkeypatch.setitem(modules(), "gateway.core._architecture_probe", tmp_path / "p.py")
    (tmp_path / "p.py").write_text(source)
    found = {
        t
        for name, _ in _imports("gateway.core._architecture_probe")
        if (t := _resolve(name)) and t.startswith("gateway.")
    }
    assert expected <= found, found
