"""Agreements in the config file: check, add from a peer's info, reload."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.config import loader
from gateway.config.settings import hash_token
from gateway.model import Fees
from gateway.routing.agreements import fees_due
from gateway.server.app import make_app, running
from tests import logwatch
from tests.support import gateway_cli

ADMIN = "admin-token-for-tests-0123456789"
logwatch.register(ADMIN)


@pytest.fixture
def two_configs(tmp_path: Path) -> tuple[Path, Path]:
    gateway_cli("init", str(tmp_path / "a"), "--name", "alpha", "--port", "9101")
    gateway_cli(
        "init",
        str(tmp_path / "b"),
        "--name",
        "beta",
        "--port",
        "9102",
        "--ca",
        str(tmp_path / "a" / "certs"),
    )
    info = gateway_cli("info", "--config", str(tmp_path / "b" / "gateway.toml"), "--json")
    (tmp_path / "beta-info.json").write_text(info.stdout)
    return tmp_path / "a" / "gateway.toml", tmp_path / "beta-info.json"


def test_add_from_peer_info_then_check(two_configs: tuple[Path, Path]) -> None:
    """`agreements add --peer-info` writes the peer's id, endpoint, pinned certificate and the
    given fees and limits; `agreements check` lists them (text and JSON); adding the same peer
    again exits 2 with "exists already"."""
    cfg, info = two_configs
    gateway_cli(
        "agreements",
        "add",
        "--config",
        str(cfg),
        "--peer-info",
        str(info),
        "--fee",
        "0.07",
        "--payer",
        "sender",
        "--monthly-free",
        "10",
        "--monthly-cap",
        "50",
        "--valid-until",
        "2027-12-31",
        "--max-document-bytes",
        "5000000",
    )
    s = loader.load(cfg)
    beta = s.peer_named("beta")
    assert beta is not None and beta.provider_id == "PBETA"
    assert beta.endpoint == "http://127.0.0.1:9102/as4"
    assert beta.certificate is not None and beta.certificate.read_text().startswith("-----BEGIN")
    a = beta.agreement
    assert a.id == "alpha-beta" and a.fees.per_document == Decimal("0.07")
    assert a.fees.monthly_cap == Decimal(50) and a.max_document_bytes == 5_000_000
    out = gateway_cli("agreements", "check", "--config", str(cfg))
    assert "alpha-beta with beta: both" in out.stdout and "0.07 EUR per document" in out.stdout
    rows = json.loads(gateway_cli("agreements", "check", "--config", str(cfg), "--json").stdout)
    assert rows[0]["valid_until"] == "2027-12-31"
    again = gateway_cli(
        "agreements", "add", "--config", str(cfg), "--peer-info", str(info), check=False
    )
    assert again.returncode == 2 and "exists already" in again.stderr


def test_add_with_bad_terms_leaves_the_file_untouched(two_configs: tuple[Path, Path]) -> None:
    """`agreements add` with a bad currency exits 2 naming the key and ISO 4217 and leaves the
    config and peers/ untouched; a peer-info file missing fields exits 2 with "missing"."""
    cfg, info = two_configs
    before = cfg.read_text()
    out = gateway_cli(
        "agreements",
        "add",
        "--config",
        str(cfg),
        "--peer-info",
        str(info),
        "--currency",
        "euro",
        check=False,
    )
    assert out.returncode == 2
    assert "peers[0].agreement.fees.currency" in out.stderr and "ISO 4217" in out.stderr
    assert cfg.read_text() == before
    assert not (cfg.parent / "peers" / "beta.pem").exists()
    bad = info.with_name("bad.json")
    bad.write_text('{"name": "x"}')
    out = gateway_cli(
        "agreements", "add", "--config", str(cfg), "--peer-info", str(bad), check=False
    )
    assert out.returncode == 2 and "missing" in out.stderr


@pytest.mark.parametrize(
    ("fees", "documents", "way", "amount", "payer"),
    [
        (Fees(Decimal("0.10"), "sender"), 100, "send", "10.00", "us"),
        (Fees(Decimal("0.10"), "sender"), 100, "receive", "10.00", "beta"),
        (Fees(Decimal("0.10"), "receiver"), 100, "send", "10.00", "beta"),
        (Fees(Decimal("0.10"), "sender", monthly_free=30), 100, "send", "7.00", "us"),
        (Fees(Decimal("0.10"), "sender", monthly_free=300), 100, "send", "0.00", "us"),
        (Fees(Decimal("0.10"), "sender", monthly_cap=Decimal(5)), 100, "send", "5.00", "us"),
        (Fees(Decimal("0.015"), "sender"), 3, "send", "0.04", "us"),
    ],
)
def test_fees_due(fees: Fees, documents: int, way: str, amount: str, payer: str) -> None:
    """The fee for a month's documents follows per-document price, payer, monthly free documents
    and monthly cap, rounded to the cent, and names who pays (us or the peer)."""
    due = fees_due(fees, documents=documents, way=way, peer="beta")
    assert due.amount == Decimal(amount) and due.payer == payer


async def test_reload_applies_a_valid_file_and_keeps_the_old_one_otherwise(
    two_configs: tuple[Path, Path],
) -> None:
    """/admin/reload refuses a missing or wrong admin token with 401, applies a valid config
    (200, the new peer is known), and on an invalid one answers 422 naming the key and keeps the
    old settings."""
    cfg, info = two_configs
    # `gateway init` writes an admin token of its own: this test's replaces it.
    text = cfg.read_text()
    cfg.write_text(
        text.replace(text.split("[admin]")[1], f'\ntoken_sha256 = "{hash_token(ADMIN)}"\n')
    )
    good = {"Authorization": f"Bearer {ADMIN}"}
    async with running(loader.load(cfg)) as gw, TestClient(TestServer(make_app(gw))) as client:
        assert (await client.post("/admin/reload")).status == 401
        assert (
            await client.post("/admin/reload", headers={"Authorization": "Bearer x"})
        ).status == 401
        gateway_cli("agreements", "add", "--config", str(cfg), "--peer-info", str(info))
        resp = await client.post("/admin/reload", headers=good)
        assert resp.status == 200 and (await resp.json())["reloaded"] is True
        assert gw.pipeline.settings.peer_named("beta") is not None

        cfg.write_text(cfg.read_text().replace('payer = "sender"', 'payer = "nobody"'))
        resp = await client.post("/admin/reload", headers=good)
        answer = await resp.json()
        assert resp.status == 422 and answer["reloaded"] is False
        assert "peers[0].agreement.fees.payer" in answer["message"]
        assert gw.pipeline.settings.peer_named("beta") is not None, "the old settings stay"
