"""The compiled rules (mypyc) behave as their Python sources do.

The build compiles the rule modules; a source edited after the build makes
the package fall back to the sources rather than run stale code. CI must run
the compiled build, since that is what the benchmark measures and what a
built gateway runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.validation.rules import BUILD
from gateway.validation.rules import model as rules_model
from gateway.validation.rules._loader import MANIFEST, inspect
from tests.support import corpus_examples
from tests.validation.mutate import write


def _compiled_or_skip() -> None:
    if not BUILD.compiled:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the compiled rules, but this build runs {BUILD}")
        pytest.skip(f"the rules run from their sources here ({BUILD.reason})")


def test_the_build_in_use_is_the_one_reported() -> None:
    """The rules are loaded from .py files exactly when the build reports them as not compiled
    (skipped outside CI when the build is not compiled)."""
    loaded_from = Path(str(rules_model.__file__))
    assert (loaded_from.suffix == ".py") is not BUILD.compiled, (loaded_from, BUILD)
    _compiled_or_skip()


def _validate_json(files: list[Path], env_extra: dict[str, str]) -> list[dict[str, object]]:
    env = {**os.environ, **env_extra}
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "validate", "--json", *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_compiled_and_python_rules_agree_on_documents_never_seen(tmp_path: Path) -> None:
    """On 300 mutated corpus examples, the compiled and Python rules give the same report
    (verdict, rule ids, messages, locations), and over a third of them reach a fatal rule."""
    _compiled_or_skip()
    files = write(tmp_path / "mutants", corpus_examples(), count=300, seed=20261129)
    compiled = _validate_json(files, {})
    python = _validate_json(files, {"GATEWAY_RULES": "python"})
    assert len(compiled) == len(python) == len(files)
    differ = [c["file"] for c, p in zip(compiled, python, strict=True) if c != p]
    assert not differ, (
        f"{len(differ)} documents differ between compiled and Python rules: {differ[:5]}"
    )
    # The mutants must reach the rules, not only the parser: most are refused by some rule.
    assert sum(1 for c in compiled if c["fatal"]) > len(files) // 3


def _fake_build(directory: Path, sources: dict[str, str]) -> None:
    for name, text in sources.items():
        (directory / f"{name}.py").write_text(text)
        (directory / f"{name}.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    digests = {n: hashlib.sha256(t.encode()).hexdigest() for n, t in sources.items()}
    (directory / MANIFEST).write_text(json.dumps(digests))


def test_compiled_modules_are_used_while_their_sources_are_unchanged(tmp_path: Path) -> None:
    """Compiled rule modules are used while every source matches the digest recorded at build."""
    _fake_build(tmp_path, {"model": "x = 1\n", "core": "y = 2\n"})
    build = inspect(tmp_path)
    assert build.compiled, build


def test_an_edited_source_makes_every_rule_module_load_from_source(tmp_path: Path) -> None:
    """A rule source edited after the build makes the rules run from source, naming the changed
    file."""
    _fake_build(tmp_path, {"model": "x = 1\n", "core": "y = 2\n"})
    (tmp_path / "core.py").write_text("y = 3\n")
    build = inspect(tmp_path)
    assert not build.compiled
    assert "core.py changed since the build" in build.reason


def test_extensions_without_a_record_are_not_trusted(tmp_path: Path) -> None:
    """Compiled modules without the build's digest record are not used, and the reason names the
    missing record."""
    _fake_build(tmp_path, {"model": "x = 1\n"})
    (tmp_path / MANIFEST).unlink()
    build = inspect(tmp_path)
    assert not build.compiled and MANIFEST in build.reason


def test_python_rules_can_be_forced(tmp_path: Path) -> None:
    """GATEWAY_RULES=python forces the Python sources, and an unreadable digest record is
    reported as such."""
    _fake_build(tmp_path, {"model": "x = 1\n"})
    assert inspect(tmp_path, forced_python=True).reason == "GATEWAY_RULES=python"
    (tmp_path / MANIFEST).write_text("{not json")
    assert "unreadable" in inspect(tmp_path).reason


def test_a_process_with_python_rules_loads_no_extension() -> None:
    """A process started with GATEWAY_RULES=python loads every rule module from .py files."""
    code = (
        "import sys, gateway.validation.rules as r;"
        "mods = [m for n, m in sys.modules.items() if n.startswith('gateway.validation.rules.')];"
        "print(r.BUILD.compiled, sorted({str(m.__file__).rsplit('.', 1)[-1] for m in mods}))"
    )
    env = {**os.environ, "GATEWAY_RULES": "python"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert out.strip() == "False ['py']"


def test_gateway_version_says_how_the_rules_run() -> None:
    """`gateway --version` names the rules release and says whether the validation rules run
    compiled or from source, and why."""
    env = {**os.environ, "GATEWAY_RULES": "python"}
    forced = subprocess.run(
        [sys.executable, "-m", "gateway", "--version"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert forced.startswith("gateway ")
    release = "Peppol BIS Billing 3.0 release 2026.5 (EN 16931 CEN 1.3.16)"
    assert f"validation rules: {release}, Python sources: GATEWAY_RULES=python" in forced
    plain = subprocess.run(
        [sys.executable, "-m", "gateway", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"validation rules: {release}, {BUILD}" in plain
