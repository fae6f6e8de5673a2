"""``[channels.email]`` in gateway.toml: read into EmailSettings, and every
broken value refused naming its key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import loader
from gateway.errors import ConfigError


def _with_email(cfg: Path, table: str) -> Path:
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write("\n[channels.email]\n" + table + "\n")
    return cfg


def test_no_email_table_means_no_email_channel(network_dir: tuple[Path, str]) -> None:
    """Without [channels.email] the gateway has no e-mail channel."""
    cfg, _ = network_dir
    assert loader.load(cfg).channels.email is None


def test_a_provider_over_starttls_with_a_password_file(network_dir: tuple[Path, str]) -> None:
    """Host, STARTTLS on 587 by default, the login with its password read from its own file
    (trailing newline dropped), the From address, the portal link and the time-outs are read;
    the password does not show in the settings' repr."""
    cfg, _ = network_dir
    (cfg.parent / "smtp-password").write_text("pa55-w0rd\n", encoding="utf-8")
    _with_email(
        cfg,
        'host = "smtp.provider.example"\n'
        'username = "gateway@example.com"\n'
        'password_file = "smtp-password"\n'
        'from = "invoices@example.com"\n'
        'portal_url = "https://portal.example.com/"\n'
        "connect_timeout_seconds = 3\n"
        "timeout_seconds = 20.5\n",
    )
    email = loader.load(cfg).channels.email
    assert email is not None
    assert (email.host, email.port, email.tls) == ("smtp.provider.example", 587, "starttls")
    assert (email.username, email.password) == ("gateway@example.com", "pa55-w0rd")
    assert (email.sender, email.sender_domain) == ("invoices@example.com", "example.com")
    assert email.portal_url == "https://portal.example.com/"
    assert (email.connect_timeout_seconds, email.timeout_seconds) == (3.0, 20.5)
    assert email.connections == 4 and email.ca_file is None
    assert "pa55-w0rd" not in repr(email)


def test_a_local_relay_without_tls_or_login(network_dir: tuple[Path, str]) -> None:
    """tls = "none" defaults to port 25 and needs no login."""
    cfg, _ = network_dir
    _with_email(cfg, 'host = "127.0.0.1"\ntls = "none"\nfrom = "ap@gateway.example"')
    email = loader.load(cfg).channels.email
    assert email is not None
    assert (email.port, email.tls, email.username, email.password) == (25, "none", "", "")


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ('from = "a@b.example"', "channels.email.host", "missing required key"),
        ('host = "h"', "channels.email.from", "missing required key"),
        ('host = "h"\nfrom = "not an address"', "channels.email.from", "e-mail address"),
        ('host = "h"\nfrom = "a@-bad-.example"', "channels.email.from", "invalid domain"),
        ('host = "h"\nfrom = "Acme <a@b.example>"', "channels.email.from", "before the @"),
        ('host = "h"\nfrom = "a@b.example"\ntls = "ssl"', "channels.email.tls", "one of"),
        ('host = "h"\nfrom = "a@b.example"\nport = 0', "channels.email.port", "between 1"),
        ('host = "h"\nfrom = "a@b.example"\nport = "25"', "channels.email.port", "integer"),
        ('host = "a b"\nfrom = "a@b.example"', "channels.email.host", "host name"),
        (
            'host = "h"\nfrom = "a@b.example"\nusername = "u"',
            "channels.email.password_file",
            "needed",
        ),
        (
            'host = "h"\nfrom = "a@b.example"\nusername = "u"\npassword_file = "absent"',
            "channels.email.password_file",
            "does not exist",
        ),
        (
            'host = "h"\nfrom = "a@b.example"\nusername = "u"\npassword_file = "."',
            "channels.email.password_file",
            "cannot read",
        ),
        (
            'host = "h"\nfrom = "a@b.example"\nportal_url = "ftp://x"',
            "channels.email.portal_url",
            "http(s) URL",
        ),
        (
            'host = "h"\nfrom = "a@b.example"\ntimeout_seconds = 0',
            "channels.email.timeout_seconds",
            "greater than 0",
        ),
        (
            'host = "h"\nfrom = "a@b.example"\nconnect_timeout_seconds = -1',
            "channels.email.connect_timeout_seconds",
            "greater than 0",
        ),
        (
            'host = "h"\nfrom = "a@b.example"\nconnections = 0',
            "channels.email.connections",
            "greater than 0",
        ),
        (
            'host = "h"\nfrom = "a@b.example"\nca_file = "absent.pem"',
            "channels.email.ca_file",
            "does not exist",
        ),
        ('host = "h"\nfrom = "a@b.example"\npassword = "x"', "channels.email.password", "unknown"),
        (
            'host = "h"\nfrom = "a@b.example"\nrender_processes = -1',
            "channels.email.render_processes",
            "between 0 and 64",
        ),
    ],
)
def test_broken_email_settings_name_the_key_and_the_problem(
    network_dir: tuple[Path, str], table: str, key: str, problem: str
) -> None:
    """Each broken [channels.email] value is a ConfigError naming the key and what is wrong."""
    cfg, _ = network_dir
    _with_email(cfg, table)
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert (err.value.key, problem in err.value.problem) == (key, True), err.value


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"", "is empty"), (b"\n", "is empty"), (b"one\ntwo\n", "one line"), (b"\xff\xfe", "UTF-8")],
)
def test_an_unusable_password_file_is_refused(
    network_dir: tuple[Path, str], content: bytes, problem: str
) -> None:
    """An empty, multi-line or non-UTF-8 password file is refused naming password_file."""
    cfg, _ = network_dir
    (cfg.parent / "pw").write_bytes(content)
    _with_email(cfg, 'host = "h"\nfrom = "a@b.example"\nusername = "u"\npassword_file = "pw"')
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == "channels.email.password_file"
    assert problem in err.value.problem


def test_a_password_file_without_a_username_is_refused(network_dir: tuple[Path, str]) -> None:
    """password_file alone is refused: the login needs a username too."""
    cfg, _ = network_dir
    (cfg.parent / "pw").write_text("secret", encoding="utf-8")
    _with_email(cfg, 'host = "h"\nfrom = "a@b.example"\npassword_file = "pw"')
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == "channels.email.username"
