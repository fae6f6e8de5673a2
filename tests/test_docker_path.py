"""The Docker path, checked without a Docker engine (none is available here):
what the image and compose.yaml run, run outside them.

* ``gateway init`` separates the listen address from the public URL peers get;
* ``gateway health`` (the image's HEALTHCHECK) asks /healthz on the configured port;
* the entrypoint, run as the image's uid 10001, explains unreadable files;
* compose.yaml parses, and its init command writes a store on the redis service;
* hadolint passes on the Dockerfile.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sysconfig
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO, Network, free_port, gateway_cli

IMAGE_UID = 10001
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"


def _toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _init(directory: Path, port: int, *extra: str, check: bool = True) -> Any:
    return gateway_cli(
        "init", str(directory), "--name", "alpha", "--port", str(port), *extra, check=check
    )


# --- gateway init: listen address and public URL ----------------------------------------


def test_init_writes_listen_host_and_public_url_apart_and_info_hands_out_the_public_url(
    tmp_path: Path,
) -> None:
    """`gateway init --host 0.0.0.0 --public-url https://ap.example.com` writes listen_host
    0.0.0.0 and base_url https://ap.example.com; `gateway info --json` gives peers that URL and
    its /as4 endpoint, never 0.0.0.0."""
    net = tmp_path / "net"
    _init(net, 8080, "--host", "0.0.0.0", "--public-url", "https://ap.example.com/")
    network = _toml(net / "gateway.toml")["network"]
    assert network["listen_host"] == "0.0.0.0"
    assert network["listen_port"] == 8080
    assert network["base_url"] == "https://ap.example.com"
    info = json.loads(gateway_cli("info", "--config", str(net / "gateway.toml"), "--json").stdout)
    assert info["base_url"] == "https://ap.example.com"
    assert info["as4_endpoint"] == "https://ap.example.com/as4"
    assert "0.0.0.0" not in json.dumps(info)


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_init_with_a_wildcard_host_and_no_public_url_refuses_and_writes_nothing(
    tmp_path: Path, host: str
) -> None:
    """A wildcard listen host without --public-url is refused with exit 2 and one line that
    asks for --public-url, and no directory is written (peers would be sent to 0.0.0.0)."""
    net = tmp_path / "net"
    out = _init(net, 8080, "--host", host, check=False)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "--public-url" in lines[0] and f"--host {host}" in lines[0]
    assert not net.exists()


def test_init_without_public_url_gives_peers_the_listen_address(tmp_path: Path) -> None:
    """Without --public-url, base_url is http://HOST:PORT as before (default host 127.0.0.1),
    with an IPv6 host in brackets so that the URL parses."""
    _init(tmp_path / "a", 8081)
    assert _toml(tmp_path / "a" / "gateway.toml")["network"]["base_url"] == "http://127.0.0.1:8081"
    _init(tmp_path / "b", 8082, "--host", "::1")
    info = json.loads(
        gateway_cli("info", "--config", str(tmp_path / "b" / "gateway.toml"), "--json").stdout
    )
    assert info["as4_endpoint"] == "http://[::1]:8082/as4"


@pytest.mark.parametrize(
    "url",
    [
        "ap.example.com",
        "ftp://ap.example.com",
        "http://0.0.0.0:8080",
        "http://[::1",
        'https://ap.example.com/"x',
    ],
)
def test_init_refuses_a_public_url_peers_cannot_use(tmp_path: Path, url: str) -> None:
    """--public-url without http(s), malformed, with a quote that would break gateway.toml, or
    naming a wildcard address, is refused (exit 2, one line naming --public-url) before
    anything is written."""
    out = _init(tmp_path / "net", 8080, "--host", "0.0.0.0", "--public-url", url, check=False)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "--public-url" in out.stderr
    assert not (tmp_path / "net").exists()


def test_readme_docker_init_command_runs_and_gives_a_reachable_base_url(tmp_path: Path) -> None:
    """The `gateway init` line of the README's Docker section runs as written and writes a
    base_url peers can use, with the container listening on every address."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Docker") : readme.index("## Layout")]
    line = next(ln for ln in section.splitlines() if ln.startswith(".venv/bin/gateway init"))
    gateway_cli(*line.split()[1:], cwd=tmp_path)
    network = _toml(tmp_path / "net" / "gateway.toml")["network"]
    assert network["listen_host"] == "0.0.0.0"
    assert network["base_url"] == "http://127.0.0.1:8080"


# --- gateway health -------------------------------------------------------------------------


@pytest.mark.slow
def test_health_exits_0_against_a_running_gateway_on_its_configured_port(
    tmp_path: Path,
) -> None:
    """`gateway health` on the configuration of a gateway serving on 0.0.0.0 and a free port
    (not 8080) finds it through loopback, exits 0 and says healthy."""
    port = free_port()
    net = Network("alpha", tmp_path / "alpha", port, [])
    _init(net.directory, port, "--host", "0.0.0.0", "--public-url", f"http://127.0.0.1:{port}")
    net.start()
    try:
        out = gateway_cli("health", "--config", str(net.config), check=False)
    finally:
        net.stop()
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"healthy: http://127.0.0.1:{port}/healthz answered 200"


def test_health_exits_1_with_one_line_when_nothing_listens(tmp_path: Path) -> None:
    """With no gateway on the configured port, `gateway health` exits 1 with one line naming
    the URL it asked and that nothing answered."""
    port = free_port()
    _init(tmp_path / "net", port)
    out = gateway_cli("health", "--config", str(tmp_path / "net" / "gateway.toml"), check=False)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert f"unhealthy: http://127.0.0.1:{port}/healthz no answer" in lines[0]


def test_health_without_a_configuration_exits_1_not_docker_reserved_2(tmp_path: Path) -> None:
    """A missing configuration makes `gateway health` exit 1 (unhealthy) with one line, not the
    CLI's usual 2, which Docker reserves in health checks."""
    out = gateway_cli("health", "--config", str(tmp_path / "none.toml"), check=False)
    assert out.returncode == 1
    assert len(out.stderr.strip().splitlines()) == 1 and "not found" in out.stderr


# --- the entrypoint, as the image's user --------------------------------------------------


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A temporary directory another uid can enter (pytest's tmp_path is private to us)."""
    path = Path(tempfile.mkdtemp(prefix="gateway-docker-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _entrypoint(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run docker/entrypoint.sh as the image would: as uid 10001 when we are root (as in CI),
    else as ourselves; `gateway` on its PATH is a stand-in that says how it was called."""
    shim = root / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "gateway").write_text('#!/bin/sh\necho "ran gateway $*"\n')
    (shim / "gateway").chmod(0o755)
    env = {"PATH": f"{shim}:/usr/bin:/bin", "GATEWAY_CONFIG": str(root / "net" / "gateway.toml")}
    user: list[str] = []
    if os.geteuid() == 0:
        user = ["setpriv", f"--reuid={IMAGE_UID}", f"--regid={IMAGE_UID}", "--clear-groups"]
    return subprocess.run(
        [*user, "sh", str(ENTRYPOINT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_entrypoint_explains_files_the_image_user_cannot_use(shared_dir: Path) -> None:
    """Files written by `gateway init` as another user (keys and tokens 0600) make the entrypoint
    exit 1 naming the file, the container's uid and both fixes (chown -R, docker run --user),
    without starting the gateway; once fixed it runs `gateway serve`."""
    net = shared_dir / "net"
    _init(net, 8080, "--host", "0.0.0.0", "--public-url", "http://127.0.0.1:8080")
    if os.geteuid() != 0:  # not root: make one key unreadable to ourselves instead
        (net / "certs" / "ap.key").chmod(0)
    out = _entrypoint(shared_dir, "serve")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "ran gateway" not in out.stdout
    uid = IMAGE_UID if os.geteuid() == 0 else os.geteuid()
    assert re.search(rf"{re.escape(str(net))}\S* is not (readable|writable)", out.stderr)
    assert f"(uid {uid})" in out.stderr
    assert f"chown -R {uid} net/" in out.stderr
    assert 'docker run --user "$(id -u)"' in out.stderr
    if os.geteuid() == 0:
        shutil.chown(net, IMAGE_UID)
        for path in net.rglob("*"):
            shutil.chown(path, IMAGE_UID)
    else:
        (net / "certs" / "ap.key").chmod(0o600)
    fixed = _entrypoint(shared_dir, "serve")
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.strip() == "ran gateway serve"


def test_entrypoint_without_a_mounted_configuration_says_to_mount_it(shared_dir: Path) -> None:
    """With nothing mounted (no gateway.toml), the entrypoint exits 1 saying to mount the
    directory written by gateway init, instead of the gateway's own not-found error."""
    out = _entrypoint(shared_dir, "serve")
    assert out.returncode == 1
    assert "mount the directory written by gateway init" in out.stderr
    assert "ran gateway" not in out.stdout


# --- compose.yaml and the Dockerfile ---------------------------------------------------------


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _expand(arg: str) -> str:
    """Compose's ${NAME:-default}, taking the default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", arg)


def test_compose_runs_the_gateway_and_redis_with_health_checks_and_volumes() -> None:
    """compose.yaml parses and names a gateway service checked by `gateway health` and a redis
    service checked by PING, the gateway started once Redis is healthy, both on named volumes."""
    compose = _compose()
    services = compose["services"]
    gateway, redis = services["gateway"], services["redis"]
    assert gateway["healthcheck"]["test"][:3] == ["CMD", "gateway", "health"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert gateway["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "gateway-data:/data" in gateway["volumes"]
    assert {"gateway-data", "redis-data"} <= set(compose["volumes"])


def test_compose_init_writes_a_configuration_whose_store_is_the_redis_service(
    tmp_path: Path,
) -> None:
    """The compose init service's command, run as written (defaults taken, /data a temporary
    directory), writes a valid configuration with the store at the redis service, listening on
    every address and giving peers the public URL."""
    compose = _compose()
    command = [_expand(a) for a in compose["services"]["init"]["command"]]
    store = command[command.index("--store") + 1]
    assert store.startswith("redis://redis:")  # the host is the compose service
    assert "redis" in compose["services"]
    data = tmp_path / "data"
    gateway_cli(*[str(data) if a == "/data" else a for a in command])
    gateway_cli("config", "check", str(data / "gateway.toml"))
    written = _toml(data / "gateway.toml")
    assert written["store"]["url"] == "redis://redis:6379/0"
    assert written["network"]["listen_host"] == "0.0.0.0"
    assert written["network"]["base_url"] == "http://127.0.0.1:8080"


def _hadolint() -> str:
    found = shutil.which("hadolint", path=sysconfig.get_path("scripts")) or shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: it comes with the dev extra (pip install -e '.[dev]')")
    return found


def test_hadolint_passes_on_the_dockerfile() -> None:
    """hadolint finds nothing in the Dockerfile, infos included (scripts/test runs it too)."""
    out = subprocess.run(
        [_hadolint(), "--no-color", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == ""


def test_hadolint_would_catch_a_shell_form_health_check(tmp_path: Path) -> None:
    """The lint has teeth: the Dockerfile with its HEALTHCHECK in shell form fails with
    DL3025, the warning the old health check raised."""
    dockerfile = (REPO / "Dockerfile").read_text()
    broken = re.sub(
        r'CMD \["gateway", "health", "--timeout", "5"\]', "CMD gateway health", dockerfile
    )
    assert broken != dockerfile, "the Dockerfile's HEALTHCHECK is not the one this test expects"
    (tmp_path / "Dockerfile").write_text(broken)
    out = subprocess.run(
        [_hadolint(), "--no-color", str(tmp_path / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1 and "DL3025" in out.stdout
