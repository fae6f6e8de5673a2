"""The gateway command as a newcomer uses it: the README's first command, then send."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO, free_port, gateway_cli, wait_healthy


@pytest.mark.slow
def test_serve_script_then_send_sample_reaches_final_state(tmp_path: Path) -> None:
    """scripts/serve then `gateway send --wait` delivers the sample; `status` prints the id alone
    on its first line; a second send is refused naming the first id and --allow-duplicate, which
    sends it anew; logs name the document but never the token or invoice content."""
    cfg = tmp_path / "dev" / "gateway.toml"
    port = free_port()
    env = {**os.environ, "GATEWAY_CONFIG": str(cfg), "PORT": str(port)}
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(REPO / "scripts" / "serve")], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, tmp_path / "serve.log")
        sample = cfg.parent / "sample-invoice.xml"
        out = gateway_cli("send", str(sample), "--config", str(cfg), "--wait", "20", "--json")
        answer = json.loads(out.stdout)
        assert answer["status"] == "delivered" and answer["final"]
        again = gateway_cli("status", answer["id"] + ":", "--config", str(cfg))
        assert again.stdout.splitlines()[0] == answer["id"]  # the id alone, to copy
        assert "delivered" in again.stdout and "routed" in again.stdout
        # The same invoice a second time is a duplicate: refused, naming the first
        # document and the flag that sends it anyway.
        twice = gateway_cli("send", str(sample), "--config", str(cfg), check=False)
        assert twice.returncode != 0
        assert answer["id"] in twice.stderr and "--allow-duplicate" in twice.stderr
        resent = gateway_cli(
            "send", str(sample), "--config", str(cfg), "--allow-duplicate", "--json"
        )
        assert json.loads(resent.stdout)["id"] != answer["id"]
    finally:
        proc.terminate()
        proc.wait(20)
    logs = (tmp_path / "serve.log").read_text()
    lines = [json.loads(ln) for ln in logs.splitlines() if ln.startswith("{")]
    accepted = [ln for ln in lines if ln.get("event") == "submit.accepted"]
    assert accepted and accepted[0]["document_id"] == answer["id"]
    # Identifiers, yes; the invoice's content and the token, never.
    token = (cfg.parent / "sender.token").read_text().strip()
    assert token not in logs
    assert "<cbc:" not in logs and "Invoice-2" not in logs


def test_validate_exit_codes_and_json(tmp_path: Path, network_dir: tuple[Path, str]) -> None:
    """`gateway validate` exits 0 for a valid file and 1 when any file is invalid or hostile,
    printing one JSON report per file (schema errors under fatal, no traceback); an unreadable
    file exits 2 with "cannot read"."""
    cfg, _ = network_dir
    good = cfg.parent / "sample-invoice.xml"
    bad = tmp_path / "bad.xml"
    bad.write_bytes(good.read_bytes().replace(b"<cbc:IssueDate>", b"<cbc:Nope/><cbc:IssueDate>", 1))
    hostile = tmp_path / "hostile.xml"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    assert gateway_cli("validate", str(good), check=False).returncode == 0
    out = gateway_cli("validate", "--json", str(good), str(bad), str(hostile), check=False)
    assert out.returncode == 1
    reports = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["valid"] for r in reports] == [True, False, False]
    assert "UBL-XSD" in reports[1]["fatal"] and reports[1]["schema_valid"] is False
    assert set(reports[0]) == {
        "file",
        "valid",
        "schema_valid",
        "fatal",
        "warnings",
        "errors",
        "rules",
    }
    assert reports[0]["rules"]["release"] == "2026.5"
    assert reports[2]["errors"] and "Traceback" not in out.stderr
    missing = gateway_cli("validate", str(tmp_path / "none.xml"), check=False)
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_init_info_and_help(tmp_path: Path) -> None:
    """`gateway init` writes a network whose `info --json` shows name, endpoint, participants and
    certificate; init into an existing directory or with a bad participant id exits 2; every
    command has --help."""
    gateway_cli(
        "init",
        str(tmp_path / "n"),
        "--name",
        "north",
        "--port",
        "9001",
        "--participant",
        "0009:73282932000074",
        "--participant",
        "0208:0123456749",
    )
    info = json.loads(
        gateway_cli("info", "--config", str(tmp_path / "n" / "gateway.toml"), "--json").stdout
    )
    assert info["name"] == "north"
    assert info["as4_endpoint"] == "http://127.0.0.1:9001/as4"
    assert info["participants"] == ["0009:73282932000074", "0208:0123456749"]
    assert info["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    again = gateway_cli(
        "init", str(tmp_path / "n"), "--name", "north", "--port", "9001", check=False
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    for cmd in ("serve", "send", "status", "validate", "init", "info", "config"):
        assert gateway_cli(cmd, "--help").stdout.startswith("usage: gateway")
    bad = gateway_cli(
        "init", str(tmp_path / "m"), "--name", "m", "--port", "1", "--participant", "x", check=False
    )
    assert bad.returncode == 2 and "ISO 6523" in bad.stderr


def test_serve_with_unreachable_store_says_so_without_traceback(tmp_path: Path) -> None:
    """`gateway serve` with a Redis store nobody listens on exits 1 naming the address, without a
    traceback."""
    port = free_port()  # nothing listens there
    gateway_cli(
        "init",
        str(tmp_path / "r"),
        "--name",
        "r",
        "--port",
        str(free_port()),
        "--store",
        f"redis://127.0.0.1:{port}/0",
    )
    out = gateway_cli("serve", "--config", str(tmp_path / "r" / "gateway.toml"), check=False)
    assert out.returncode == 1
    assert f"127.0.0.1:{port}" in out.stderr and "Traceback" not in out.stderr


def test_validate_takes_the_official_rules_dir_from_the_config(
    network_dir: tuple[Path, str],
) -> None:
    """`validate --engine both` exits 2 naming the official rules when none are configured, and
    with official_rules_dir in the config both engines agree the sample is valid (skipped outside
    CI when the corpus rules are absent)."""
    from tests.support import CORPUS

    xslt = CORPUS / "rules" / "peppol-bis3-2026.5" / "xslt"
    if not xslt.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the official rules are missing at {xslt}; CI must have them")
        pytest.skip(f"the official rules are not at {xslt}")
    cfg, _ = network_dir
    sample = cfg.parent / "sample-invoice.xml"
    without = gateway_cli("validate", "--engine", "both", str(sample), check=False)
    assert without.returncode == 2 and "official" in without.stderr
    cfg.write_text(
        cfg.read_text().replace(
            "[validation]\n", f'[validation]\nofficial_rules_dir = "{xslt}"\n', 1
        )
    )
    out = gateway_cli("validate", "--engine", "both", "--config", str(cfg), "--json", str(sample))
    report = json.loads(out.stdout)
    assert report["valid"] and report["disagreements"] == {"only_native": [], "only_official": []}


def test_certs_issues_dev_certificates_from_one_ca(tmp_path: Path) -> None:
    """`gateway certs --ca` issues an AP certificate from an existing development CA that passes
    the peer check with the AP id as CN, writes the key mode 0600, and exits 1 when the CA is
    missing."""
    from gateway.pki.certificates import check_peer_certificate, load_certificate

    gateway_cli("certs", str(tmp_path / "one"), "--ap-id", "POP000001")
    gateway_cli(
        "certs", str(tmp_path / "two"), "--ap-id", "POP000002", "--ca", str(tmp_path / "one")
    )
    ca = load_certificate((tmp_path / "one" / "ca.pem").read_bytes())
    two = load_certificate((tmp_path / "two" / "ap.pem").read_bytes())
    # Issued by the first CA: trusted, with the AP id as CN.
    from datetime import UTC, datetime

    check_peer_certificate(
        two, pinned=None, cas=[ca], expected_cn="POP000002", now=datetime.now(UTC)
    )
    assert oct((tmp_path / "two" / "ap.key").stat().st_mode & 0o777) == "0o600"
    bad = gateway_cli(
        "certs", str(tmp_path / "x"), "--ap-id", "P", "--ca", str(tmp_path / "none"), check=False
    )
    assert bad.returncode == 1 and "no development CA" in bad.stderr
