"""The gateway command as a newcomer meets it (issue #18): sample documents,
one rule for --config, findings shown once with where and how often, the
admin token of `init`, listings, and help that says what each option does.

Everything runs the real command in a subprocess; the commands that talk to
a gateway talk to a real one, started once for the module on a free port.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.cli.scaffold import gln
from tests.support import Network, bad_invoice, checkout, cli, http, leaf_parsers, make_network

SELLER = f"0088:{gln('579200000001')}"
BUYER = f"0088:{gln('579200000002')}"
NOWHERE = f"0088:{gln('579299999999')}"  # a French company in no network


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    net = make_network(tmp_path_factory.mktemp("newcomer"), "solo", participants=[SELLER, BUYER])
    net.start()
    try:
        yield net
    finally:
        net.stop()


# --- item 2: gateway sample ------------------------------------------------------------


@pytest.mark.parametrize(
    ("buyer", "kind", "root"),
    [(BUYER, "invoice", b"<Invoice"), ("0208:0123456749", "credit-note", b"<CreditNote")],
)
def test_sample_between_any_two_parties_passes_the_gateways_validation(
    tmp_path: Path, buyer: str, kind: str, root: bytes
) -> None:
    """gateway sample writes an invoice or credit note between any two valid ids (GLN, Belgian)
    that gateway validate finds valid; without -o it prints a new document, with a new number."""
    out = tmp_path / "doc.xml"
    made = cli("sample", "--seller", SELLER, "--buyer", buyer, "--type", kind, "-o", str(out))
    assert made.returncode == 0, made.stderr
    assert root in out.read_bytes() and buyer.split(":")[1].encode() in out.read_bytes()
    checked = cli("validate", "--json", str(out))
    assert checked.returncode == 0 and json.loads(checked.stdout)["valid"]
    # Without -o the document goes to standard output, and each one has a new number.
    again = cli("sample", "--seller", SELLER, "--buyer", buyer, "--type", kind)
    assert again.stdout.startswith("<?xml") and again.stdout != out.read_text()


def test_sample_refuses_ids_that_would_fail_validation_and_writes_nothing(tmp_path: Path) -> None:
    """An id that breaks its scheme's rule (a GLN check digit) makes sample exit 1 naming the
    rule and where, and no file is written."""
    out = tmp_path / "doc.xml"
    broken = "0088:5790000000013"  # wrong GS1 check digit
    made = cli("sample", "--seller", broken, "--buyer", BUYER, "-o", str(out))
    assert made.returncode == 1 and not out.exists()
    assert "PEPPOL-COMMON-R040" in made.stderr and "AccountingSupplierParty" in made.stderr


# --- item 4: one rule for --config, the URL and the token ---------------------------------


def test_config_check_takes_the_file_as_argument_option_or_environment(gw: Network) -> None:
    """config check accepts the file as FILE, as --config FILE (which used to fail with a
    usage error) and from GATEWAY_CONFIG."""
    for args, env in (
        ([str(gw.config)], {}),
        (["--config", str(gw.config)], {}),
        ([], {"GATEWAY_CONFIG": str(gw.config)}),
    ):
        out = cli("config", "check", *args, env=env)
        assert out.returncode == 0 and ": OK: network solo" in out.stdout, (args, out.stderr)


def test_a_mistyped_config_is_not_found_naming_where_the_name_came_from(
    tmp_path: Path, gw: Network
) -> None:
    """A configuration path that does not exist is "config file not found", naming the path and
    whether it came from --config, GATEWAY_CONFIG or the default, for send, status, info,
    documents and settlement alike (no more "give --url and --token")."""
    typo = str(tmp_path / "gateway.tmol")
    for command in (["send", str(gw.directory / "sample-invoice.xml")], ["status", "x"], ["info"]):
        out = cli(*command, "--config", typo)
        assert out.returncode == 2
        assert f"{typo}: config file not found (from --config)" in out.stderr, out.stderr
    from_env = cli("documents", env={"GATEWAY_CONFIG": typo})
    assert "not found (from $GATEWAY_CONFIG)" in from_env.stderr
    default = cli("settlement", cwd=tmp_path)  # no gateway.toml there
    assert "gateway.toml: config file not found (from the default" in default.stderr


def test_gateway_token_in_the_environment_beats_the_token_file(gw: Network) -> None:
    """GATEWAY_TOKEN is used even when sender.token exists beside the configuration (a wrong one
    gets 401); GATEWAY_URL with GATEWAY_TOKEN needs no configuration at all."""
    sent = cli("send", str(gw.directory / "sample-invoice.xml"), "--config", str(gw.config))
    assert sent.returncode == 0, sent.stderr
    doc_id = sent.stdout.splitlines()[0]
    wrong = cli("status", doc_id, "--config", str(gw.config), env={"GATEWAY_TOKEN": "not-it-x"})
    assert wrong.returncode == 1 and "401" in wrong.stderr
    # URL and token from the environment alone: no configuration needed at all.
    bare = cli("status", doc_id, env={"GATEWAY_URL": gw.url, "GATEWAY_TOKEN": gw.token})
    assert bare.returncode == 0 and bare.stdout.splitlines()[0] == doc_id


def test_serve_script_refuses_a_port_that_disagrees_with_its_existing_file(
    tmp_path: Path, gw: Network
) -> None:
    """scripts/serve with a PORT other than the existing file's listen_port stops with exit 2 and
    says so, instead of serving on the old port silently."""

    root = checkout(tmp_path)
    env = {**os.environ, "GATEWAY_CONFIG": str(gw.config), "PORT": str(gw.port + 1)}
    out = subprocess.run(
        [str(root / "scripts" / "serve")], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert f"does not listen on PORT={gw.port + 1}" in out.stderr


def test_help_of_each_command_states_the_configuration_rule() -> None:
    """The --help of each command that reads a configuration states the default path and the
    environment variables."""
    for command in (["serve"], ["send"], ["status"], ["documents"], ["config", "check"], ["info"]):
        text = cli(*command, "--help").stdout
        assert "$GATEWAY_CONFIG, else ./gateway.toml" in text, command
    assert "$GATEWAY_TOKEN" in cli("send", "--help").stdout


# --- item 5: findings once, with locations and counts -------------------------------------


def test_send_and_status_show_each_finding_once_with_locations_and_count(
    tmp_path: Path, gw: Network
) -> None:
    """A document whose 15 amounts break the same rule: send and status print that rule once,
    with "(15 times)", its first locations and how many more."""
    bad = bad_invoice(tmp_path, SELLER, BUYER)
    sent = cli("send", str(bad), "--config", str(gw.config))
    status = cli("status", sent.stdout.splitlines()[0], "--config", str(gw.config))
    for out in (sent, status):
        assert out.stdout.count("BR-CL-03") == 1, out.stdout
        assert "[fatal] BR-CL-03 (15 times): An amount's currency" in out.stdout
        assert "at /*/cac:AllowanceCharge[1]/cbc:Amount;" in out.stdout
        assert "and 12 more" in out.stdout
    assert sent.returncode == 1 and "status: rejected" in status.stdout


# --- item 7: the admin token of init --------------------------------------------------------


def test_init_writes_an_admin_token_that_reloads_the_running_gateway(gw: Network) -> None:
    """gateway init writes admin.token (mode 0600, only its hash in the config): POST
    /admin/reload with it answers 200; the sender token gets 401 naming admin.token."""
    admin = (gw.directory / "admin.token").read_text().strip()
    assert oct((gw.directory / "admin.token").stat().st_mode & 0o777) == "0o600"
    assert admin not in gw.config.read_text()  # only its hash is in the file
    code, answer = http("POST", f"{gw.url}/admin/reload", token=admin)
    assert code == 200, answer
    code, answer = http("POST", f"{gw.url}/admin/reload", token=gw.token)
    assert code == 401  # the sender token is no admin token; the answer says which one is
    assert "admin.token" in json.dumps(answer)


# --- item 9: listings -----------------------------------------------------------------------


def test_documents_lists_by_state_and_time(tmp_path: Path, gw: Network) -> None:
    """gateway documents --state rejected lists only rejected documents (a rejected send among
    them); --since a future time lists none."""
    bad = bad_invoice(tmp_path, SELLER, BUYER)
    rejected_id = cli("send", str(bad), "--config", str(gw.config)).stdout.splitlines()[0]
    out = cli("documents", "--state", "rejected", "--json", "--config", str(gw.config))
    rows = json.loads(out.stdout)
    assert rejected_id in [r["id"] for r in rows]
    assert {r["status"] for r in rows} == {"rejected"}
    text = cli("documents", "--config", str(gw.config)).stdout
    assert rejected_id in text and "document(s)" in text
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    none = cli("documents", "--since", later, "--config", str(gw.config))
    assert none.returncode == 0 and none.stdout.strip() == "0 document(s)"


def test_route_dry_run_records_no_prospect_and_partners_list_labels_prospects(
    tmp_path: Path, gw: Network
) -> None:
    """route --explain for a recipient a mandate refuses says it *would be* recorded as a prospect
    and records nothing; a partner in no network is shown as (prospect) by list and show."""
    doc = tmp_path / "to-nowhere.xml"
    assert cli("sample", "--seller", SELLER, "--buyer", NOWHERE, "-o", str(doc)).returncode == 0
    routed = cli("route", str(doc), "--explain", "--config", str(gw.config))
    assert routed.returncode == 1 and "refuse" in routed.stdout
    assert "would be recorded as a prospect" in routed.stdout
    assert "this dry run records nothing" in routed.stdout
    listed = cli("partners", "list", "--config", str(gw.config))
    assert NOWHERE not in listed.stdout  # route recorded nothing
    rows = tmp_path / "partners.csv"
    rows.write_text(
        f"id,name,network,document_types,reception,email,address,country\n"
        f"{NOWHERE},Nowhere SAS,,,,,,FR\n"
    )
    assert cli("partners", "import", str(rows), "--config", str(gw.config)).returncode == 0
    listed = cli("partners", "list", "--config", str(gw.config))
    line = next(ln for ln in listed.stdout.splitlines() if ln.startswith(NOWHERE))
    assert "(prospect)" in line
    shown = cli("partners", "show", NOWHERE, "--config", str(gw.config))
    assert "(prospect): in no network yet" in shown.stdout


def test_settlement_defaults_to_the_previous_calendar_month(gw: Network) -> None:
    """settlement without --month reports the previous calendar month, and its help says so."""
    today = datetime.now(UTC).date()
    last = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    out = cli("settlement", "--config", str(gw.config))
    assert out.returncode == 0 and out.stdout.startswith(f"settlement for {last}, network solo")
    assert "previous calendar month" in cli("settlement", "--help").stdout


# --- item 11: help ----------------------------------------------------------------------------


def test_every_option_has_help_and_every_command_examples() -> None:
    """Every option of every command has a help text, and every command's --help ends with
    examples."""
    commands = dict(leaf_parsers())
    assert len(commands) >= 17  # every leaf command, e.g. `gateway agreements add`
    for name, p in commands.items():
        missing = [a.dest for a in p._actions if not a.help]
        assert not missing, f"{name}: no help for {missing}"
        assert "examples:\n  gateway" in (p.epilog or ""), f"{name} has no examples"
    # And the real command prints them.
    text = cli("agreements", "add", "--help").stdout
    assert "examples:" in text and "documents a month free of fees" in text
    assert "days the access point certificate is valid" in cli("certs", "--help").stdout
