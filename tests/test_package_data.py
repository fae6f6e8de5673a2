"""Every file the gateway reads at run time ships in its wheel."""

from __future__ import annotations

import subprocess
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
    tracked = subprocess.run(
        ["git", "ls-files", "gateway"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()  # the sources, not what a build left beside them (mypyc's)
    data = [path.removeprefix("gateway/") for path in tracked if not path.endswith(_BUILT)]
    assert data, "gateway/ holds templates and samples"
    shipped = {p.relative_to(root).as_posix() for g in globs for p in root.glob(g)}
    missing = [d for d in data if d not in shipped]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
