"""Broken configuration files are refused with the file, the key and the problem."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gateway.config import loader
from gateway.errors import ConfigError
from tests.builders import network_config
from tests.support import gateway_cli


def _edit(cfg: Path, old: str, new: str) -> None:
    text = cfg.read_text()
    assert re.search(old, text, flags=re.M), f"pattern {old!r} not in the sample config"
    cfg.write_text(re.sub(old, new, text, count=1, flags=re.M))


def test_the_written_config_is_valid(network_dir: tuple[Path, str]) -> None:
    """The config `gateway init` writes loads (network, participants, sender token, SQLite store)
    and `config check` says OK; a wrong token matches no sender."""
    cfg, token = network_dir
    s = loader.load(cfg)
    assert s.network.name == "testnet"
    assert len(s.participants) == 2
    assert s.sender_for_token(token) is not None
    assert s.sender_for_token(token + "x") is None
    assert s.store.url.startswith("sqlite:///")
    out = gateway_cli("config", "check", str(cfg))
    assert "OK" in out.stdout


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        (r"^listen_port = \d+", "listen_port = 70000", "network.listen_port", "TCP port"),
        (r"^listen_port = \d+", 'listen_port = "80"', "network.listen_port", "must be an integer"),
        (r'^base_url = "[^"]*"', 'base_url = "ftp://x"', "network.base_url", "http(s) URL"),
        (r'^key = "certs/ap.key"', 'key = "certs/missing.key"', "network.key", "does not exist"),
        (r'^id = "0088:', 'id = "88:', "participants[0].id", "ISO 6523"),
        (r'^reception = "network"', 'reception = "pigeon"', "participants[0].reception", "one of"),
        (
            r'^reception = "network"',
            'reception = ["api", "api"]',
            "participants[0].reception",
            "names a mode twice",
        ),
        (
            r"^token_sha256 = .*",
            'token_sha256 = "abc"',
            "senders[0].token_sha256",
            "64 hexadecimal",
        ),
        (r"^timeout_seconds = 30", "timeout_seconds = 90", "delivery.lease_seconds", "longer than"),
        (r"^concurrency = 8", "concurrency = 0", "delivery.concurrency", "greater than 0"),
        (
            r"^\[logging\]",
            "[limits]\nauth_failures_per_minute = 0\n[logging]",
            "limits.auth_failures_per_minute",
            "greater than 0",
        ),
        (
            r"^concurrency = 8",
            "concurrency = 2\nper_peer_concurrency = 3",
            "delivery.per_peer_concurrency",
            "at most concurrency (2)",
        ),
        (
            r"^concurrency = 8",
            "connect_timeout_seconds = 31",
            "delivery.connect_timeout_seconds",
            "must not exceed timeout_seconds",
        ),
        (
            r"^concurrency = 8",
            "breaker_open_seconds = 0",
            "delivery.breaker_open_seconds",
            "greater than 0",
        ),
        (r"^\[logging\]", "[logging]\ncolour = true", "logging.colour", "unknown key"),
        (r'^name = "testnet"', "name = ", "", "not valid TOML"),
        (r"^\[network\]", "[netwerk]", "netwerk", "unknown key"),
    ],
)
def test_broken_config_names_file_key_and_problem(
    network_dir: tuple[Path, str], old: str, new: str, key: str, problem: str
) -> None:
    """Each broken config value is refused naming its key and the problem; `config check` exits 2
    with the file, the problem and no traceback."""
    cfg, _ = network_dir
    _edit(cfg, old, new)
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == key
    assert problem in err.value.problem
    # The CLI says the same on one line, exit 2, and no traceback.
    out = gateway_cli("config", "check", str(cfg), check=False)
    assert out.returncode == 2
    assert str(cfg) in out.stderr and problem in out.stderr
    assert "Traceback" not in out.stderr


def test_serve_refuses_a_broken_config_before_starting(network_dir: tuple[Path, str]) -> None:
    """`gateway serve` with an invalid listen_port exits 2 naming the key, without a traceback."""
    cfg, _ = network_dir
    _edit(cfg, r"^listen_port = \d+", "listen_port = -1")
    out = gateway_cli("serve", "--config", str(cfg), check=False)
    assert out.returncode == 2
    assert "network.listen_port" in out.stderr and "Traceback" not in out.stderr


def test_missing_file_and_peer_problems(network_dir: tuple[Path, str], tmp_path: Path) -> None:
    """Loading a missing config file fails with "file not found", and a peer that lists one of
    our own participants is refused naming that peer participant's key."""
    with pytest.raises(ConfigError, match="file not found"):
        loader.load(tmp_path / "nope.toml")
    cfg, _ = network_dir
    s = loader.load(cfg)
    own = str(s.participants[0].id)
    cfg.write_text(
        cfg.read_text()
        + f"""
[[peers]]
name = "beta"
provider_id = "PBETA"
endpoint = "http://127.0.0.1:9/as4"
participants = ["{own}"]
"""
    )
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == "peers[0].participants[0]"
    assert "own participants" in err.value.problem


def test_revocation_mode_is_read_and_checked(network_dir: tuple[Path, str]) -> None:
    """Revocation checking defaults to soft, hard and its timeout are read, and an unknown mode
    is refused listing off, soft, hard."""
    cfg, _ = network_dir
    assert loader.load(cfg).network.revocation == "soft"
    _edit(cfg, r"^\[network\]", '[network]\nrevocation = "hard"\nrevocation_timeout_seconds = 2')
    s = loader.load(cfg)
    assert (s.network.revocation, s.network.revocation_timeout_seconds) == ("hard", 2.0)
    _edit(cfg, r'^revocation = "hard"', 'revocation = "strict"')
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == "network.revocation" and "off, soft, hard" in err.value.problem


@pytest.mark.parametrize(
    ("line", "key", "problem"),
    [
        ("inflight_bytes = 0", "http.inflight_bytes", "greater than 0"),
        ('body_timeout_seconds = "60"', "http.body_timeout_seconds", "must be a number"),
        ('spool_dir = "no/such/dir"', "http.spool_dir", "does not exist"),
        ("max_connections = 5", "http.max_connections", "unknown key"),
    ],
)
def test_http_limits_are_checked(
    network_dir: tuple[Path, str], line: str, key: str, problem: str
) -> None:
    """Bad [http] settings (zero inflight bytes, a string timeout, a missing spool dir, an
    unknown key) are refused naming the key and the problem."""
    cfg, _ = network_dir
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write(f"\n[http]\n{line}\n")
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert (err.value.key, problem in err.value.problem) == (key, True), err.value


def test_validation_processes_default_to_one_per_spare_core(tmp_path: Path) -> None:
    """Validation processes "auto" (what init writes) or left out means one per spare core, and
    an explicit 0 or 3 is taken as given."""
    made = network_config(tmp_path, name="n", participants=(), validation_processes=None)
    assert 'processes = "auto"' in made.config.read_text()  # what `gateway init` writes
    cores = len(os.sched_getaffinity(0))
    assert loader.load(made.config).validation.pool_size() == max(1, cores - 1)
    _edit(made.config, r'^processes = "auto".*', "")  # left out: the same
    assert loader.load(made.config).validation.pool_size() == max(1, cores - 1)
    for value in (0, 3):
        _edit(made.config, r"^\[validation\]", f"[validation]\nprocesses = {value}")
        assert loader.load(made.config).validation.pool_size() == value
        _edit(made.config, r"^processes = \d+\n", "")


@pytest.mark.parametrize("value", ["-1", '"many"', "true", "1.5"])
def test_bad_validation_processes_are_refused(network_dir: tuple[Path, str], value: str) -> None:
    """A validation.processes that is negative, a word, a boolean or a fraction is refused naming
    the file and the bad value."""
    cfg, _ = network_dir
    _edit(cfg, r"^processes = .*", f"processes = {value}")
    with pytest.raises(ConfigError, match=r'validation.processes: must be "auto"') as raised:
        loader.load(cfg)
    assert str(cfg) in raised.value.message
    assert value.strip('"') in raised.value.message.lower()


def test_attribute_limits_are_read_and_checked(network_dir: tuple[Path, str]) -> None:
    """Attribute limits default to 64 per element, configured values are read, and a zero
    max_attributes is refused."""
    cfg, _ = network_dir
    assert loader.load(cfg).limits.max_attributes_per_element == 64
    text = cfg.read_text() + "\n[limits]\nmax_attributes_per_element = 8\nmax_attributes = 900\n"
    cfg.write_text(text)
    limits = loader.load(cfg).limits
    assert (limits.max_attributes_per_element, limits.max_attributes) == (8, 900)
    cfg.write_text(text.replace("max_attributes = 900", "max_attributes = 0"))
    with pytest.raises(ConfigError, match=r"limits.max_attributes: must be .*greater than 0"):
        loader.load(cfg)
