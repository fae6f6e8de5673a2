"""`gateway recipients add|list|revoke`: a token printed once for one of our
participants (configured, or a directory partner of our network), refused
for anyone else, and dead once revoked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.config import loader
from gateway.config.settings import hash_token
from gateway.model import Partner
from gateway.model.portal import PortalChoice
from gateway.store.factory import make_store
from tests.builders import BUYER, STRANGER, invoice, network_config


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


async def _in_store(config: Path, work: str, arg: str) -> object:
    settings = loader.load(config)
    store = make_store(settings.store.url, prefix=settings.store.prefix)
    await store.open()
    try:
        if work == "token":
            return await store.recipient_account_for_token_hash(hash_token(arg))
        pid, network = arg.split("|")
        await store.put_partners([Partner(pid, "Partner Co", network)])
        return None
    finally:
        await store.close()


def test_add_prints_a_token_once_that_opens_the_inbox_until_revoked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`add` prints a strong rcp_ token whose account reads the participant; `list` shows
    it active without the token; after `revoke` the token finds no account."""
    config = str(network_config(tmp_path).config)
    code, out, _ = run(capsys, "recipients", "add", str(BUYER), "--config", config)
    assert code == 0
    token = out.split("token (shown once, keep it secret): ")[1].strip()
    assert token.startswith("rcp_")
    assert len(token) >= 4 + 43  # 32 random bytes, URL-safe base64
    account = asyncio.run(_in_store(Path(config), "token", token))
    assert account is not None
    assert account.participants == (str(BUYER),)  # type: ignore[attr-defined]

    code, out, _ = run(capsys, "recipients", "list", "--config", config)
    assert code == 0
    assert str(BUYER) in out and "active" in out and token not in out

    assert run(capsys, "recipients", "revoke", str(BUYER), "--config", config)[0] == 0
    assert asyncio.run(_in_store(Path(config), "token", token)) is None
    code, out, _ = run(capsys, "recipients", "list", "--config", config)
    assert "revoked" in out


def test_a_participant_not_ours_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A participant neither configured nor a partner of our network exits 2 naming it and
    creates nothing; a directory partner of our network is accepted; a partner of another
    network is not."""
    made = network_config(tmp_path)
    config = str(made.config)
    code, _, err = run(capsys, "recipients", "add", str(STRANGER), "--config", config)
    assert code == 2
    assert str(STRANGER) in err and "not one of ours" in err
    assert "0 recipient account(s)" in run(capsys, "recipients", "list", "--config", config)[1]

    ours, theirs = "0088:5798000000001", "0088:5798000000002"
    asyncio.run(_in_store(made.config, "partner", f"{ours}|testnet"))
    asyncio.run(_in_store(made.config, "partner", f"{theirs}|elsewhere"))
    assert run(capsys, "recipients", "add", ours, "--config", config)[0] == 0
    code, _, err = run(capsys, "recipients", "add", theirs, "--config", config)
    assert code == 2 and theirs in err


def test_a_taken_name_and_an_unknown_account_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second account under a taken name exits 2 asking for --name; revoking an unknown
    account exits 1 naming it; a bad participant id exits 2."""
    config = str(network_config(tmp_path).config)
    assert run(capsys, "recipients", "add", str(BUYER), "--name", "erp", "--config", config)[0] == 0
    code, _, err = run(capsys, "recipients", "add", str(BUYER), "--name", "erp", "--config", config)
    assert code == 2 and "'erp' exists already" in err
    code, _, err = run(capsys, "recipients", "revoke", "nobody", "--config", config)
    assert code == 1 and "'nobody'" in err
    code, _, err = run(capsys, "recipients", "add", "not-an-id", "--config", config)
    assert code == 2 and "not-an-id" in err


def test_a_bad_webhook_url_at_add_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`recipients add --webhook` with a URL that is not http(s) exits 2 naming the option and
    creates no account (nothing half-made); with a good URL it prints the token and the
    webhook's signing secret once each."""
    config = str(network_config(tmp_path).config)
    code, _, err = run(
        capsys, "recipients", "add", str(BUYER), "--webhook", "ftp://x", "--config", config
    )
    assert code == 2 and "--webhook" in err
    assert "0 recipient account(s)" in run(capsys, "recipients", "list", "--config", config)[1]
    code, out, _ = run(
        capsys,
        "recipients",
        "add",
        str(BUYER),
        "--webhook",
        "https://erp.example/h",
        "--config",
        config,
    )
    assert code == 0
    assert out.count("token (shown once, keep it secret): rcp_") == 1
    assert out.count("secret (shown once): whsec_") == 1


def test_production_refuses_a_plain_http_webhook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In production a webhook URL must be https: `recipients add --webhook http://...` and
    `senders webhook NAME http://...` exit 2 naming the rule and store nothing; https works."""
    made = network_config(tmp_path)
    text = made.config.read_text()
    made.config.write_text(
        text.replace('environment = "development"', 'environment = "production"')
    )
    config = str(made.config)
    plain = "http://erp.example/hooks"
    code, _, err = run(
        capsys, "recipients", "add", str(BUYER), "--webhook", plain, "--config", config
    )
    assert code == 2 and "https:// in production" in err
    assert "0 recipient account(s)" in run(capsys, "recipients", "list", "--config", config)[1]
    code, _, err = run(capsys, "senders", "webhook", "testnet-erp", plain, "--config", config)
    assert code == 2 and "https:// in production" in err
    code, out, _ = run(
        capsys, "senders", "webhook", "testnet-erp", "https://erp.example/hooks", "--config", config
    )
    assert code == 0 and "whsec_" in out


def test_route_explain_follows_a_choice_made_in_the_portal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway route --explain` asks what delivery asks: once the buyer chose e-mail in the
    portal, the dry run routes its invoice by e-mail and says the choice comes from the portal
    preferences, not from the configuration file."""
    made = network_config(tmp_path)
    config = str(made.config)
    sample = tmp_path / "invoice.xml"
    sample.write_bytes(invoice("ROUTE-1"))
    code, before, _ = run(capsys, "route", str(sample), "--explain", "--config", config)
    assert code == 0 and "known from the configuration" in before

    async def choose() -> None:
        settings = loader.load(made.config)
        store = make_store(settings.store.url, prefix=settings.store.prefix)
        await store.open()
        try:
            await store.put_portal_choice(
                PortalChoice(str(BUYER), ("email",), "ap@buyer.example", (), datetime.now(UTC))
            )
        finally:
            await store.close()

    asyncio.run(choose())
    code, after, _ = run(capsys, "route", str(sample), "--explain", "--config", config)
    assert code == 0, after
    assert "local email" in after and "portal preferences" in after
