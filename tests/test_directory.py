"""The partner directory: reading CSV and JSON lines files, bad rows by line,
imports (all or nothing, too), and `gateway partners` on both stores."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from gateway.cli.partners import main as partners_cli
from gateway.cli.scaffold import gln
from gateway.directory.partner_files import BadRow, PartnerFileError, import_file, read_rows
from gateway.model import DEFAULT_DOCUMENT_TYPES, Partner
from gateway.store.sqlite import SqliteStore
from tests.builders import SELLER, network_config

REDIS_URL = "redis://127.0.0.1:6379/0"
HEADER = "id,name,network,document_types,reception,email,address,country\n"
INVOICE = DEFAULT_DOCUMENT_TYPES[0]
GLN_1, GLN_2, GLN_3 = (f"0088:{gln(f'57300{n:05d}')}" for n in (1, 2, 3))
HUGE = "x" * 200_000  # past the csv module's field size limit: it stops reading
BAD_GLN = GLN_1[:-1] + str((int(GLN_1[-1]) + 1) % 10)


def write(tmp_path: Path, text: str, name: str = "partners.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(path: Path) -> list[tuple[int, Partner | BadRow]]:
    return list(read_rows(path))


def bad_lines(path: Path) -> dict[int, str]:
    return {line: row.reason for line, row in rows(path) if isinstance(row, BadRow)}


# --- reading files ---------------------------------------------------------------------


def test_csv_rows_become_normalised_partners(tmp_path: Path) -> None:
    """CSV partner rows become partners with normalised ids, names, reception, document types
    (deduplicated), address lines and country, each with its line number."""
    path = write(
        tmp_path,
        HEADER
        + f"{GLN_1},Acme AB,north,,,,,se\n"
        + f'"9957:FR03552081317", EDF ,ours,"busdox-docid-qns::{INVOICE}; x::y ;x::y",'
        + 'Email,ap@edf.fr,"22 avenue de Wagram; ;75008 Paris",FR\n',
    )

    (line1, acme), (line2, edf) = rows(path)

    assert (line1, line2) == (2, 3)
    assert acme == Partner(GLN_1, "Acme AB", "north", country="SE")
    assert edf == Partner(
        id="9957:fr03552081317",
        name="EDF",
        network="ours",
        document_types=(INVOICE, "x::y"),
        reception="email",
        email="ap@edf.fr",
        address=("22 avenue de Wagram", "75008 Paris"),
        country="FR",
    )
    assert acme.receives(INVOICE) and not acme.receives("x::y")
    assert edf.receives("x::y") and not edf.receives(DEFAULT_DOCUMENT_TYPES[1])


def test_a_reception_waterfall_is_imported_in_its_order(tmp_path: Path) -> None:
    """A reception cell naming several modes separated by ';' ("API; email ;paper") is kept as
    the partner's waterfall, in that order; a mode named twice or an unknown one is a bad row
    naming it; with several modes, a missing e-mail address is not an import error (delivery
    falls back past e-mail)."""
    path = write(
        tmp_path,
        HEADER
        + f'{GLN_1},Acme AB,ours,,"API; email ;paper",,"1 Main St;Springfield",\n'
        + f"{GLN_2},Twice Ltd,ours,,api;api,,,\n"
        + f"{GLN_3},Fax Ltd,ours,,api;fax,,,\n",
    )
    (_, acme), (_, twice), (_, fax) = rows(path)
    assert isinstance(acme, Partner) and acme.reception == "api;email;paper"
    assert acme.modes == ("api", "email", "paper")
    assert isinstance(twice, BadRow) and "names a mode twice" in twice.reason
    assert isinstance(fax, BadRow) and fax.reason.startswith("unknown reception 'fax'")


def test_bad_rows_are_reported_by_line_with_the_reason(tmp_path: Path) -> None:
    """Each bad CSV row (bad id syntax or check digit, unknown reception, missing name or id,
    duplicate id, wrong field count, missing email or address, bad email or country) is reported
    at its line with its reason."""
    path = write(
        tmp_path,
        HEADER
        + "9957:FR03552081317,Good,north,,,,,\n"  # line 2
        + "88:123,Bad syntax,,,,,,\n"
        + f"{BAD_GLN},Bad check digit,,,,,,\n"
        + f"{GLN_2},Fax,,,fax,,,\n"  # line 5
        + f"{GLN_2}, ,,,,,,\n"
        + "9957:fr03552081317,Again,,,,,,\n"  # ids are case-insensitive
        + f"{GLN_3},Too few,,\n"
        + f"{GLN_3},No email,,,email,,,\n"
        + f"{GLN_3},No address,,,paper,,,\n"  # line 10
        + f"{GLN_3},Bad email,,,,a@b@c,,\n"
        + f"{GLN_3},Bad country,,,,,,FRA\n"
        + ",No id,,,,,,\n",
    )

    bad = bad_lines(path)

    assert sorted(bad) == list(range(3, 14))
    assert bad[3].startswith("bad id syntax: '88:123' is not an ISO 6523 participant id")
    assert bad[4] == "failed scheme check: GLN check digit is wrong (GS1 mod 10)"
    assert bad[5].startswith("unknown reception 'fax'")
    assert bad[6] == "missing name"
    assert bad[7] == "duplicate id 9957:fr03552081317: already on line 2"
    assert bad[8] == "expected 8 fields, got 4"
    assert bad[9] == "reception is email but no email is given"
    assert bad[10] == "reception is paper but no address is given"
    assert "not an e-mail address" in bad[11]
    assert "two-letter ISO 3166" in bad[12]
    assert bad[13] == "missing id"


def test_line_numbers_follow_quoted_cells_over_several_lines(tmp_path: Path) -> None:
    """Line numbers of CSV rows count the lines of multi-line quoted cells and blank lines."""
    path = write(
        tmp_path,
        "id,name,address\n"
        + f'{GLN_1},Acme,"1 Main Street\nSecond line"\n'
        + "\n"  # blank lines are skipped, and still counted
        + f"{BAD_GLN},Wrong,\n",
    )

    found = rows(path)

    assert [line for line, _ in found] == [2, 5]
    assert isinstance(found[1][1], BadRow) and found[1][1].id == BAD_GLN


def test_columns_may_come_in_any_order_and_optional_ones_may_go(tmp_path: Path) -> None:
    """A CSV with a BOM, only id and name, in another order and with an id scheme prefix, is
    read."""
    path = write(tmp_path, "\ufeffName,ID\nAcme,iso6523-actorid-upis::" + GLN_1 + "\n")

    assert rows(path) == [(2, Partner(GLN_1, "Acme"))]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "header"),
        ("name,network\nAcme,north\n", "id is required"),
        ("id,name,adress\n", "unknown: ['adress']"),
        ("id,name,id\n", "each column once"),
    ],
)
def test_a_file_without_a_usable_header_is_refused(tmp_path: Path, text: str, words: str) -> None:
    """A partner file that is empty, lacks the id column, has an unknown or repeated column is
    refused with a header error saying which."""
    with pytest.raises(PartnerFileError, match="header") as caught:
        rows(write(tmp_path, text))

    assert words in caught.value.message


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    """A partner file that is not UTF-8 or does not exist is refused saying so."""
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"id,name\n0088:1,Soci\xe9t\xe9\n")

    with pytest.raises(PartnerFileError, match="not UTF-8"):
        rows(latin1)
    with pytest.raises(PartnerFileError, match="cannot read"):
        rows(tmp_path / "missing.csv")


def test_a_csv_the_reader_cannot_go_on_with_is_refused_at_its_line(tmp_path: Path) -> None:
    """A CSV cell too large for the reader is refused naming the file and line."""
    path = write(tmp_path, HEADER + f"{GLN_1},Acme,,,,,,\n{GLN_2},{HUGE},,,,,,\n")

    with pytest.raises(PartnerFileError, match=r"partners.csv:3: cannot read the CSV"):
        rows(path)


def test_json_lines_rows(tmp_path: Path) -> None:
    """JSON lines partner files are read (blank lines skipped), and lines that are not JSON, not
    an object, with unknown keys, wrong types or a duplicate id are reported with the reason."""
    good = {"id": GLN_1, "name": "Acme", "address": ["1 Main St", "Oslo"], "document_types": "a;b"}
    path = write(
        tmp_path,
        "\n".join(
            [
                json.dumps(good),
                "",
                "{not json",
                "[1, 2]",
                json.dumps({"id": GLN_2, "name": "X", "adress": "typo"}),
                json.dumps({"id": GLN_2, "name": 42}),
                json.dumps({"id": GLN_2, "name": "X", "address": [1]}),
                json.dumps({**good, "name": "Twice"}),
            ]
        ),
        "partners.jsonl",
    )

    found = rows(path)

    assert found[0] == (
        1,
        Partner(GLN_1, "Acme", address=("1 Main St", "Oslo"), document_types=("a", "b")),
    )
    bad = {line: row.reason for line, row in found if isinstance(row, BadRow)}
    assert bad[3].startswith("not valid JSON")
    assert bad[4] == "expected a JSON object"
    assert bad[5] == "unknown keys ['adress']"
    assert bad[6] == "name must be text, not int"
    assert bad[7] == "address must be text or an array of text"
    assert bad[8] == f"duplicate id {GLN_1}: already on line 1"


# --- importing into a store ----------------------------------------------------------


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    yield store
    await store.close()


def many(count: int, *, bad_at: int | None = None) -> str:
    lines = [HEADER]
    for n in range(count):
        pid = f"0088:{gln(f'58{n:010d}')}"
        lines.append(f"{'0088:1' if n == bad_at else pid},Partner {n},north,,,,,\n")
    return "".join(lines)


async def test_import_writes_the_good_rows_in_batches(
    tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    """Importing writes every good row in batches and reports the bad one by line and id, in text
    and JSON."""
    path = write(tmp_path, many(23, bad_at=10))

    report = await import_file(sqlite_store, path, batch_size=5)

    assert (report.rows, report.written) == (23, 22)
    assert [(b.line, b.id) for b in report.bad] == [(12, "0088:1")]
    assert await sqlite_store.count_partners() == 22
    assert report.to_json()["bad"] == [{"line": 12, "id": "0088:1", "reason": report.bad[0].reason}]


async def test_all_or_nothing_writes_nothing_when_a_row_is_bad(
    tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    """An all-or-nothing import of a file with one bad row writes nothing; without bad rows it
    writes them all."""
    bad = write(tmp_path, many(23, bad_at=22), "bad.csv")
    good = write(tmp_path, many(23), "good.csv")

    refused = await import_file(sqlite_store, bad, all_or_nothing=True, batch_size=5)
    assert (refused.rows, refused.written, len(refused.bad)) == (23, 0, 1)
    assert await sqlite_store.count_partners() == 0

    accepted = await import_file(sqlite_store, good, all_or_nothing=True, batch_size=5)
    assert (accepted.rows, accepted.written, accepted.bad) == (23, 23, [])
    assert await sqlite_store.count_partners() == 23


async def test_a_file_error_midway_says_what_was_written(
    tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    """A file that cannot be read further midway stops the import with the line, and says the
    good rows before it were written (and they are)."""
    path = write(tmp_path, many(12) + f"0088:1,{HUGE},,,,,,\n")

    with pytest.raises(PartnerFileError, match=r"partners\.csv:14: cannot read") as caught:
        await import_file(sqlite_store, path, batch_size=5)

    assert caught.value.message.endswith("; the 12 good row(s) before it were written")
    assert await sqlite_store.count_partners() == 12


async def test_importing_again_updates_in_place(tmp_path: Path, sqlite_store: SqliteStore) -> None:
    """Importing a partner again replaces its data rather than adding a second one."""
    await import_file(sqlite_store, write(tmp_path, HEADER + f"{GLN_1},Old,north,,,,,\n"))
    await import_file(sqlite_store, write(tmp_path, HEADER + f"{GLN_1},New,south,,,,,\n"))

    assert await sqlite_store.get_partner(GLN_1) == Partner(GLN_1, "New", "south")
    assert await sqlite_store.count_partners() == 1


# --- the command ----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A gateway.toml whose store is embedded or a Redis under a fresh prefix."""
    prefix = f"test-{uuid.uuid4().hex}"
    made = network_config(
        tmp_path,
        name="north",
        participants=(SELLER,),
        validation_processes=None,
        store=REDIS_URL if request.param == "redis" else None,
    )
    if request.param == "redis":
        text = made.config.read_text()
        made.config.write_text(text.replace("[store]\n", f'[store]\nprefix = "{prefix}"\n'))
    yield made.config
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = partners_cli(["partners", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_list_and_show(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`partners import` reports bad rows and exits 1; `list` pages with --limit and --after;
    `show` finds a partner in any case and prints what it receives (SQLite and Redis stores)."""
    path = write(tmp_path, many(5, bad_at=2))
    cfg = ["--config", str(config)]

    code, out, _ = cli(capsys, "import", str(path), *cfg)
    assert code == 1
    assert f"{path}:4: failed scheme check: a GLN must be 13 digits" in out
    assert out.rstrip().endswith("5 row(s): 4 partner(s) written, 1 bad row(s)")

    code, out, _ = cli(capsys, "list", "--limit", "3", "--json", *cfg)
    page = json.loads(out)
    assert code == 0 and page["total"] == 4 and len(page["partners"]) == 3
    code, out, _ = cli(capsys, "list", "--after", page["next_after"], *cfg)
    assert code == 0 and out.rstrip().endswith("1 of 4 partner(s)")

    first = page["partners"][0]
    code, out, _ = cli(capsys, "show", first["id"].upper(), "--json", *cfg)
    assert code == 0 and json.loads(out) == first
    code, out, _ = cli(capsys, "show", first["id"], *cfg)
    assert code == 0 and "receives:  BIS Billing 3.0 invoice and credit note" in out


def test_import_json_output_and_all_or_nothing(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`partners import --all-or-nothing --json` with a bad row exits 1, reports it, and writes
    no partner (SQLite and Redis stores)."""
    path = write(tmp_path, many(5, bad_at=4))
    cfg = ["--config", str(config)]

    code, out, _ = cli(capsys, "import", str(path), "--all-or-nothing", "--json", *cfg)
    report = json.loads(out)
    assert code == 1 and report["written"] == 0 and report["bad"][0]["line"] == 6

    code, out, _ = cli(capsys, "list", *cfg)
    assert code == 0 and out.strip() == "0 of 0 partner(s)"


def test_usage_errors_exit_2_and_unknown_partner_1(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway partners` exits 2 for a missing file, bad header, bad id, bad --limit or missing
    config, and 1 for an unknown partner, saying which."""
    cfg = ["--config", str(config)]

    assert cli(capsys, "import", str(tmp_path / "none.csv"), *cfg)[:1] == (2,)
    code, _, err = cli(capsys, "import", str(write(tmp_path, "x,y\n")), *cfg)
    assert code == 2 and "header" in err
    code, _, err = cli(capsys, "show", "not-an-id", *cfg)
    assert code == 2 and "not an ISO 6523" in err
    code, _, err = cli(capsys, "show", GLN_1, *cfg)
    assert code == 1 and f"no partner {GLN_1}" in err
    code, _, err = cli(capsys, "list", "--limit", "0", *cfg)
    assert code == 2
    code, _, err = cli(capsys, "list", "--config", str(tmp_path / "nope.toml"))
    assert code == 2 and "file not found" in err


@pytest.mark.parametrize("action", ["import", "list", "show"])
def test_each_action_has_help(action: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each `gateway partners` action has --help that exits 0 and mentions --config."""
    with pytest.raises(SystemExit) as done:
        partners_cli(["partners", action, "--help"])

    assert done.value.code == 0
    assert "--config" in capsys.readouterr().out
