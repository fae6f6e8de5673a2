"""Helpers for tests that run real gateway processes on loopback: free
ports, the ``gateway`` command, HTTP calls, whole networks (``Network``,
``make_network``), and where the repository and the corpus are.

What tests build (documents, settings, keys) is ``tests.builders``'."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests import logwatch
from tests.builders.settings import peer_toml, set_delivery

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "einvoice-corpus"


def corpus_examples() -> list[Path]:
    """The corpus's example documents; skips where the corpus is absent, fails in CI."""
    examples = sorted((CORPUS / "examples").rglob("*.xml")) if CORPUS.is_dir() else []
    if not examples:
        require_corpus()
    return examples


def require_corpus() -> None:
    """Skip a test that needs ../shared/einvoice-corpus where it is absent; in CI, fail."""
    if (CORPUS / "labels.jsonl").is_file() and (CORPUS / "examples").is_dir():
        return
    import pytest

    if os.environ.get("CI") == "true":
        pytest.fail(f"the labelled corpus is missing at {CORPUS}; CI must have it")
    pytest.skip(f"the labelled corpus is not at {CORPUS}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gateway_cli(
    *args: str, check: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    logwatch.append("cli.log", proc.stderr + "\n")
    if check and proc.returncode != 0:
        raise AssertionError(f"gateway {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def http(
    method: str,
    url: str,
    *,
    token: str | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def wait_healthy(
    url: str,
    proc: subprocess.Popen[bytes],
    log_path: Path,
    *,
    name: str = "the gateway",
    timeout: float = 60,
) -> None:
    """Return once ``url``/healthz answers 200; fail with the log's end if ``proc`` exits or
    the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited: {log_path.read_text()[-3000:]}")
        try:
            if http("GET", url + "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{name} did not become healthy:\n{log_path.read_text()[-3000:]}")


@dataclass
class Network:
    """One gateway: its directory, config, token, and (when running) process."""

    name: str
    directory: Path
    port: int
    participants: list[str]
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.directory / "gateway.log"

    @property
    def config(self) -> Path:
        return self.directory / "gateway.toml"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return (self.directory / "sender.token").read_text().strip()

    def info(self) -> dict[str, Any]:
        out = gateway_cli("info", "--config", str(self.config), "--json")
        return dict(json.loads(out.stdout))

    def append(self, text: str) -> None:
        with open(self.config, "a", encoding="utf-8") as fh:
            fh.write("\n" + text + "\n")

    def set_delivery(self, **values: float) -> None:
        set_delivery(self.config, **values)

    def peer_with(self, other: Network, **agreement: str) -> None:
        info = other.info()
        peers = self.directory / "peers"
        peers.mkdir(exist_ok=True)
        (peers / f"{other.name}.pem").write_text(info["certificate_pem"])
        self.append(
            peer_toml(
                info["name"],
                info["provider_id"],
                f"peers/{other.name}.pem",
                endpoint=info["as4_endpoint"],
                participants=tuple(info["participants"]),
                agreement=agreement,
            )
        )

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        wait_healthy(self.url, self.proc, self.log_path, name=self.name, timeout=30)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def submit(self, body: bytes, *, key: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/xml"}
        if key:
            headers["Idempotency-Key"] = key
        return http(
            "POST", self.url + "/api/v1/documents", token=self.token, body=body, headers=headers
        )

    def status(self, doc_id: str) -> dict[str, Any]:
        code, answer = http("GET", f"{self.url}/api/v1/documents/{doc_id}", token=self.token)
        assert code == 200, answer
        return dict(answer)

    def wait_final(self, doc_id: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            answer = self.status(doc_id)
            if answer["final"]:
                return answer
            if time.monotonic() > deadline:
                raise AssertionError(f"{doc_id} not final after {timeout}s: {answer}")
            time.sleep(0.1)

    def inbox_files(self) -> list[Path]:
        return sorted((self.directory / "inbox").rglob("*.xml"))

    def wait_inbox(self, count: int, timeout: float = 30) -> list[Path]:
        """The inbox once it holds ``count`` documents (the receiver's worker
        delivers them after it has answered the sender's request)."""
        deadline = time.monotonic() + timeout
        while len(files := self.inbox_files()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} inbox has {len(files)} documents, not {count}")
            time.sleep(0.05)
        return files


def make_network(
    root: Path, name: str, *, participants: list[str], ca_dir: Path | None = None
) -> Network:
    port = free_port()
    directory = root / name
    args = ["init", str(directory), "--name", name, "--port", str(port)]
    for p in participants:
        args += ["--participant", p]
    if ca_dir is not None:
        args += ["--ca", str(ca_dir)]
    gateway_cli(*args)
    return Network(name, directory, port, participants)


# --- the command line as a newcomer runs it ---------------------------------


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`gateway ARGS` with only the GATEWAY_* environment the test gives."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, **(env or {})},
        timeout=120,
    )
    logwatch.append("cli.log", proc.stderr + "\n")
    return proc


def bad_invoice(folder: Path, seller: str, buyer: str) -> Path:
    """A sample whose 15 amounts all carry a currency that does not exist: the
    same three rules fire 15 times each."""
    good = folder / "good.xml"
    made = cli("sample", "--seller", seller, "--buyer", buyer, "-o", str(good))
    assert made.returncode == 0, made.stderr
    bad = folder / "bad.xml"
    bad.write_text(good.read_text().replace('currencyID="EUR"', 'currencyID="ZZZ"'))
    return bad


def leaf_parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    from gateway.cli.main import parser

    todo = [("gateway", parser())]
    while todo:
        name, p = todo.pop()
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield name, p
        for action in subs:
            todo += [(f"{name} {n}", child) for n, child in action.choices.items()]


def checkout(tmp_path: Path) -> Path:
    """A directory where the README's commands work: scripts/, pyproject.toml and a
    .venv (already set up, so scripts/_venv.sh installs nothing) running this tree."""
    root = tmp_path / "checkout"
    shutil.copytree(REPO / "scripts", root / "scripts")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    shim = bin_dir / "gateway"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m gateway "$@"\n')
    shim.chmod(0o755)
    (root / ".venv" / ".installed").touch()
    return root
