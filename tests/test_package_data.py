"""Every file the gateway reads at run time ships in its wheel."""

from __future__ import annotations

import tomllib

from tests.support import REPO

_BUILT = (".py", ".pyc", ".so", ".c", ".pyi")


def test_every_data_file_under_gateway_is_in_the_package_data() -> None:
    """A template, stylesheet, schema hash or sample under gateway/ that pyproject's package
    data does not name would be missing from a wheel-installed gateway (the Docker image):
    each one is matched by a package-data pattern."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["gateway"]
    root = REPO / "gateway"
    data = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(_BUILT)
    ]
    assert data, "gateway/ holds templates and samples"
    shipped = {p.relative_to(root).as_posix() for g in globs for p in root.glob(g)}
    missing = [d for d in data if d not in shipped]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
