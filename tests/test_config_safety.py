"""Configuration safety: peers' endpoints in production, pinned certificates,
and participant ids checked as strictly as the partner directory checks them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.cli.scaffold import gln
from gateway.config import loader
from gateway.errors import ConfigError
from gateway.model import ParticipantId
from gateway.model.identifiers import check
from tests.support import gateway_cli, make_network

BAD_GLN = "0088:5790000435006"  # gln("5790000435") ends in 5
BAD_SIRET = "0009:73282932000075"  # 73282932000074 passes Luhn


def _set(cfg: Path, old: str, new: str) -> None:
    text = cfg.read_text()
    assert re.search(old, text, flags=re.M), f"pattern {old!r} not in the config"
    cfg.write_text(re.sub(old, new, text, count=1, flags=re.M))


def _production(cfg: Path) -> None:
    _set(cfg, r'^environment = "development"', 'environment = "production"')


def _add_peer(cfg: Path, endpoint: str, extra: str = "") -> None:
    cfg.write_text(
        cfg.read_text()
        + f"""
[[peers]]
name = "beta"
provider_id = "PBETA"
endpoint = "{endpoint}"
participants = []
{extra}
"""
    )


def _refused_in_one_line(cfg: Path, *words: str) -> str:
    out = gateway_cli("config", "check", str(cfg), check=False)
    assert out.returncode == 2, out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    for word in (str(cfg), *words):
        assert word in lines[0]
    return lines[0]


# --- peers' endpoints ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "address", "why"),
    [
        ("http://127.0.0.1:9/as4", "127.0.0.1", "plain http (no TLS), 127.0.0.1 is a loopback"),
        ("https://10.1.2.3/as4", "10.1.2.3", "a private address"),
        ("https://172.16.5.4/as4", "172.16.5.4", "a private address"),
        ("https://192.168.1.10/as4", "192.168.1.10", "a private address"),
        ("https://[fd12:3456::1]/as4", "fd12:3456::1", "a private address"),
        ("https://169.254.169.254/as4", "169.254.169.254", "a link-local address"),
        ("https://[fe80::1]/as4", "fe80::1", "a link-local address"),
        ("https://[::1]:8443/as4", "::1", "a loopback address"),
        ("https://localhost:8443/as4", "localhost", "a loopback name"),
        ("https://127.1/as4", "127.1", "a loopback address"),
        ("https://[::ffff:10.0.0.1]/as4", "::ffff:10.0.0.1", "a private address"),
        ("http://ap.beta.example/as4", "http://ap.beta.example/as4", "plain http (no TLS)"),
    ],
)
def test_production_refuses_insecure_peer_endpoints(
    network_dir: tuple[Path, str], endpoint: str, address: str, why: str
) -> None:
    """In production a peer endpoint over plain http or at a loopback, private or link-local
    address is refused naming the address, why, and the allow_insecure escape; config check says
    so on one line."""
    cfg, _ = network_dir
    _production(cfg)
    _add_peer(cfg, endpoint)
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == "peers[0].endpoint"
    assert address in err.value.problem and why in err.value.problem
    assert "peers[0].allow_insecure = true" in err.value.problem
    _refused_in_one_line(cfg, "peers[0].endpoint", address, why, "refused in production")


def test_production_checks_the_smp_url_too(network_dir: tuple[Path, str]) -> None:
    """In production a peer's smp_url at a private address is refused naming that key."""
    cfg, _ = network_dir
    _production(cfg)
    _add_peer(cfg, "https://93.184.216.34/as4", 'smp_url = "https://192.168.0.2/smp"')
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == "peers[0].smp_url"
    assert "192.168.0.2 is a private address" in err.value.problem


def test_absent_environment_means_production(network_dir: tuple[Path, str]) -> None:
    """A config without an environment setting is treated as production: a loopback http peer is
    refused."""
    cfg, _ = network_dir
    _set(cfg, r'^environment = "development"\n', "")
    _add_peer(cfg, "http://127.0.0.1:9/as4")
    with pytest.raises(ConfigError, match="refused in production") as err:
        loader.load(cfg)
    assert err.value.key == "peers[0].endpoint"


def test_production_accepts_public_https_and_does_not_resolve_names(
    network_dir: tuple[Path, str],
) -> None:
    """In production a public https endpoint (a name that never resolves) and a public SMP
    address are accepted without warnings."""
    cfg, _ = network_dir
    _production(cfg)
    # .invalid never resolves: the name is taken as the admin wrote it.
    _add_peer(cfg, "https://ap.beta.invalid/as4", 'smp_url = "https://93.184.216.34/smp"')
    s = loader.load(cfg)
    assert s.network.environment == "production"
    assert s.peers[0].endpoint == "https://ap.beta.invalid/as4" and s.warnings == ()


def test_allow_insecure_accepts_the_peer_with_a_warning(network_dir: tuple[Path, str]) -> None:
    """allow_insecure = true lets production accept a loopback http peer, and load and config
    check both give one warning naming the endpoint and why."""
    cfg, _ = network_dir
    _production(cfg)
    _add_peer(cfg, "http://127.0.0.1:9/as4", "allow_insecure = true")
    s = loader.load(cfg)
    assert s.peers[0].allow_insecure
    assert len(s.warnings) == 1 and s.warnings[0].startswith("peers[0].endpoint: ")
    out = gateway_cli("config", "check", str(cfg))
    assert "OK" in out.stdout
    assert "warning" in out.stderr and "peers[0].endpoint" in out.stderr
    assert "127.0.0.1 is a loopback address" in out.stderr


def test_development_accepts_loopback_peers_silently(network_dir: tuple[Path, str]) -> None:
    """In development (what init writes) a loopback http peer is accepted without a warning."""
    cfg, _ = network_dir
    assert 'environment = "development"' in cfg.read_text()  # what `gateway init` writes
    _add_peer(cfg, "http://127.0.0.1:9/as4")
    s = loader.load(cfg)
    assert s.network.environment == "development" and s.warnings == ()
    assert gateway_cli("config", "check", str(cfg)).stderr == ""


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        (r"^environment = .*", 'environment = "staging"', "network.environment", "one of"),
        (r"^environment = .*", "environment = 1", "network.environment", "a string"),
    ],
)
def test_bad_environment_values(
    network_dir: tuple[Path, str], old: str, new: str, key: str, problem: str
) -> None:
    """An environment that is not one of the known names, or not a string, is refused naming
    network.environment."""
    cfg, _ = network_dir
    _set(cfg, old, new)
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == key and problem in err.value.problem


def test_a_malformed_ipv6_endpoint_is_a_config_error(network_dir: tuple[Path, str]) -> None:
    """A peer endpoint with a broken IPv6 literal is a config error on that key, not a crash."""
    cfg, _ = network_dir
    _add_peer(cfg, "https://[::1/as4")
    with pytest.raises(ConfigError) as err:  # urllib raises ValueError on it
        loader.load(cfg)
    assert err.value.key == "peers[0].endpoint" and "http(s) URL" in err.value.problem


def test_allow_insecure_must_be_true_or_false(network_dir: tuple[Path, str]) -> None:
    """A peer's allow_insecure that is not a boolean is refused naming that key."""
    cfg, _ = network_dir
    _add_peer(cfg, "https://ap.beta.example/as4", 'allow_insecure = "yes"')
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == "peers[0].allow_insecure"


def test_a_private_key_pinned_as_a_peer_certificate_is_refused(
    network_dir: tuple[Path, str],
) -> None:
    """A private key file given as a peer's pinned certificate is refused naming the 'PRIVATE
    KEY' block."""
    cfg, _ = network_dir
    _add_peer(cfg, "http://127.0.0.1:9/as4", 'certificate = "certs/ap.key"')
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == "peers[0].certificate"
    assert "'PRIVATE KEY' block" in err.value.problem


# --- participant ids ---------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["5790000435", "57123456781", "5730000099", "0", "9999999999"])
def test_scaffold_glns_pass_the_gs1_check(prefix: str) -> None:
    """The GLNs the scaffold builds from any prefix pass the GS1 check-digit check."""
    assert check(ParticipantId("0088", gln(prefix))) is None


@pytest.mark.parametrize(
    ("where", "bad", "problem"),
    [
        ("participants", BAD_GLN, "GLN check digit is wrong (GS1 mod 10)"),
        ("peers", BAD_SIRET, "SIRET check digit is wrong (Luhn)"),
    ],
)
def test_config_check_refuses_a_participant_id_failing_its_scheme(
    network_dir: tuple[Path, str], where: str, bad: str, problem: str
) -> None:
    """A participant id with a wrong GLN or SIRET check digit, ours or a peer's, is refused
    naming the key, the id and the scheme's check, on one line."""
    cfg, _ = network_dir
    if where == "participants":
        # the second participant: the sender's list names only the first
        _set(cfg, r'^(id = "0088:\d+"\n(?:.*\n)*?)id = "0088:\d+"', rf'\1id = "{bad}"')
        key = "participants[1].id"
    else:
        _add_peer(cfg, "http://127.0.0.1:9/as4")
        _set(cfg, r"^participants = \[\]", f'participants = ["{bad}"]')
        key = "peers[0].participants[0]"
    with pytest.raises(ConfigError) as err:
        loader.load(cfg)
    assert err.value.key == key and problem in err.value.problem
    _refused_in_one_line(cfg, key, bad, problem)


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (BAD_GLN, "GLN check digit is wrong (GS1 mod 10)"),
        ("0002:732829321", "SIREN check digit is wrong (Luhn)"),
    ],
)
def test_init_refuses_a_participant_id_failing_its_scheme(
    tmp_path: Path, bad: str, problem: str
) -> None:
    """`gateway init --participant` with a wrong check digit exits 2 naming the flag and the
    check, without a traceback, and writes nothing."""
    target = tmp_path / "n"
    out = gateway_cli(
        "init", str(target), "--name", "n", "--port", "9001", "--participant", bad, check=False
    )
    assert out.returncode == 2
    assert f"--participant {bad}" in out.stderr and problem in out.stderr
    assert "Traceback" not in out.stderr
    assert not target.exists(), "nothing is written for a refused participant"


# --- agreements add with a bad certificate -------------------------------------------


@pytest.fixture
def alpha_and_beta_info(tmp_path: Path) -> tuple[Path, dict[str, object], Path]:
    gateway_cli("init", str(tmp_path / "a"), "--name", "alpha", "--port", "9201")
    gateway_cli("init", str(tmp_path / "b"), "--name", "beta", "--port", "9202")
    info = gateway_cli("info", "--config", str(tmp_path / "b" / "gateway.toml"), "--json")
    return tmp_path / "a" / "gateway.toml", json.loads(info.stdout), tmp_path / "b" / "certs"


def _csr(key_file: Path) -> str:
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PBETA")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


BAD_PEMS = {
    "private key": (lambda cert, certs: (certs / "ap.key").read_text(), "'PRIVATE KEY' block"),
    "CSR": (lambda cert, certs: _csr(certs / "ap.key"), "'CERTIFICATE REQUEST' block"),
    "certificate then key": (
        lambda cert, certs: cert + (certs / "ap.key").read_text(),
        "'PRIVATE KEY' block",
    ),
    "non-ASCII": (lambda cert, certs: cert.replace("A", "\u00c4", 1), "non-ASCII character"),
    "not PEM": (lambda cert, certs: "hello", "no '-----BEGIN CERTIFICATE-----' line"),
    "broken body": (
        lambda cert, certs: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "not a readable PEM certificate",
    ),
}


@pytest.mark.parametrize("case", list(BAD_PEMS))
def test_agreements_add_refuses_a_non_certificate_and_leaves_no_file(
    alpha_and_beta_info: tuple[Path, dict[str, object], Path], case: str
) -> None:
    """`agreements add` whose peer info carries a key, CSR, non-ASCII, non-PEM or broken
    certificate exits 2 with one line naming certificate_pem and the problem, and writes nothing."""
    cfg, info, beta_certs = alpha_and_beta_info
    make, problem = BAD_PEMS[case]
    info["certificate_pem"] = make(str(info["certificate_pem"]), beta_certs)
    peer_info = cfg.parent.parent / "beta-info.json"
    peer_info.write_text(json.dumps(info), encoding="utf-8")
    before = cfg.read_bytes()
    out = gateway_cli(
        "agreements", "add", "--config", str(cfg), "--peer-info", str(peer_info), check=False
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "certificate_pem" in lines[0] and problem in lines[0]
    assert cfg.read_bytes() == before
    assert not (cfg.parent / "peers").exists()


def test_serve_logs_the_warning_of_an_allowed_insecure_peer(tmp_path: Path) -> None:
    """`gateway serve` with an allowed insecure peer in production logs exactly one
    config.warning line naming the endpoint."""
    net = make_network(tmp_path, "alpha", participants=[f"0088:{gln('5790000001')}"])
    _production(net.config)
    _add_peer(net.config, "http://127.0.0.1:9/as4", "allow_insecure = true")
    net.start()
    try:
        lines = [json.loads(ln) for ln in net.log_path.read_text().splitlines() if ln[:1] == "{"]
    finally:
        net.stop()
    warned = [ln for ln in lines if ln.get("event") == "config.warning"]
    assert len(warned) == 1 and warned[0]["level"] == "warning"
    assert warned[0]["detail"].startswith("peers[0].endpoint: 'http://127.0.0.1:9/as4'")


def test_a_refused_agreement_restores_a_certificate_file_that_was_there(
    alpha_and_beta_info: tuple[Path, dict[str, object], Path],
) -> None:
    """A refused `agreements add` removes the peers/ folder it created, and leaves a certificate
    file that was already there as it was."""
    cfg, info, _ = alpha_and_beta_info
    peer_info = cfg.parent.parent / "beta-info.json"
    peer_info.write_text(json.dumps(info), encoding="utf-8")
    add = ("agreements", "add", "--config", str(cfg), "--peer-info", str(peer_info))
    out = gateway_cli(*add, "--currency", "euro", check=False)
    assert out.returncode == 2 and "ISO 4217" in out.stderr
    assert not (cfg.parent / "peers").exists(), "the folder it made is gone again"
    kept = cfg.parent / "peers" / "beta.pem"
    kept.parent.mkdir()
    kept.write_bytes((cfg.parent / "certs" / "ap.pem").read_bytes())
    before = kept.read_bytes()
    out = gateway_cli(*add, "--currency", "euro", check=False)
    assert out.returncode == 2
    assert kept.read_bytes() == before, "the file that was there is left as it was"
