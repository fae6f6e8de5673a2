"""The README's quickstart and two-network walkthrough, run as written.

The shell blocks marked ``<!-- run: NAME -->`` in README.md are taken
verbatim and run by bash in a fresh directory that looks like a checkout:
``scripts/`` and ``pyproject.toml`` copied, and a ``.venv`` whose
``gateway`` runs this tree. Only the ports differ (free ones, through the
environment variables the README names).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests import logwatch
from tests.support import REPO, checkout, free_port, wait_healthy

MARKED = re.compile(r"<!-- run: ([\w-]+) -->\n```sh\n(.*?)```", re.S)


def marked(name: str, doc: str = "README.md") -> list[str]:
    """The shell blocks of ``doc`` marked ``name``, in order."""
    found = [body for marker, body in MARKED.findall((REPO / doc).read_text()) if marker == name]
    assert found, f"{doc} has no block marked {name!r}"
    return found


def blocks(name: str) -> str:
    return "".join(marked(name))


def run(script: str, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        ["bash", "-e", "-c", script],
        cwd=root,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its background servers too: stopped below if it fails
    )
    try:
        out, err = proc.communicate(timeout=180)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    logwatch.append("cli.log", err + "\n")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
def test_quickstart_as_written_delivers_the_sample_invoice(tmp_path: Path) -> None:
    """The README's quickstart blocks, run as written with PORT set to a free port: scripts/serve
    starts a gateway, and send --wait, status by the printed id and documents all show the
    sample invoice delivered."""
    root = checkout(tmp_path)
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - owned by the process
    serve = subprocess.Popen(
        ["bash", "-e", "-c", blocks("quickstart-serve")],
        cwd=root,
        env={**os.environ, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", serve, tmp_path / "serve.log")
        out = run(blocks("quickstart-send"), root, {})
        link = run(blocks("quickstart-portal"), root, {})
        inbox = _open_signed_in(link.stdout.strip()) if link.returncode == 0 else ""
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(20)
    assert out.returncode == 0, out.stderr
    doc_id = out.stdout.splitlines()[0]
    # send --wait, then status by the id send printed, then the listing: all delivered.
    assert out.stdout.count(doc_id) >= 3, out.stdout
    assert "status: delivered" in out.stdout
    assert "1 document(s)" in out.stdout
    # The portal link printed for the sample recipient signs it in, and its inbox lists the
    # sample invoice (its number is ABQ-2026-0147).
    assert link.returncode == 0, link.stderr
    assert link.stdout.strip().startswith(f"http://127.0.0.1:{port}/portal/sign-in/")
    assert "ABQ-2026-0147" in inbox


def _open_signed_in(url: str) -> str:
    """The page a browser shows after opening the sign-in link ``url`` (cookies kept)."""
    logwatch.register(url.rsplit("/", 1)[-1])
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(url, timeout=30) as resp:
        return str(resp.read().decode("utf-8"))


@pytest.mark.slow
def test_two_network_walkthrough_and_the_api_curl_quickstart_as_written(tmp_path: Path) -> None:
    """The README's walkthrough delivers alpha's invoice to beta's inbox; docs/api.md's
    curl block, run while both gateways are up (before the walkthrough stops them),
    submits another one through the HTTP API."""
    root = checkout(tmp_path)
    ports = {"ALPHA_PORT": str(free_port()), "BETA_PORT": str(free_port())}
    *start, stop = marked("walkthrough")
    out = run("".join([*start, *marked("curl", "docs/api.md"), stop]), root, ports)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "alpha-to-beta.xml: valid" in out.stdout
    assert "status: delivered" in out.stdout and "delivered to network beta" in out.stdout
    inbox = list((root / "var" / "beta" / "inbox" / "0088_5791000000019").glob("*.xml"))
    assert len(inbox) >= 1
    assert b"5790000000012" in inbox[0].read_bytes()
    # beta lists the document it received, delivered, from alpha's participant.
    listed = [ln for ln in out.stdout.splitlines() if "inbound" in ln]
    assert len(listed) == 1 and "delivered" in listed[0] and "0088:5790000000012" in listed[0]
    # The curl block: 202 received, then the history of that same id.
    answer = json.loads((root / "answer.json").read_text())
    assert answer["status"] == "received" and answer["location"].endswith(answer["id"])
    history = json.loads(out.stdout.strip().splitlines()[-1])
    assert history["id"] == answer["id"] and history["history"][0]["state"] == "received"
