"""The partner directory: who is where, what they receive, how they want it.

A Partner is one participant: ours, one of an interconnected network, or in
no network yet. Partners come from admins' files (CSV or JSON lines) and live
in the store. This module reads such files into Partners, naming every bad
row by line and reason, and writes the good ones to the store it is given, in
batches.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from gateway.errors import GatewayError
from gateway.model import (
    DOCTYPE_SCHEME,
    RECEPTION_SEPARATOR,
    InvalidIdentifier,
    ParticipantId,
    Partner,
    reception_modes,
)
from gateway.model.identifiers import check


class PartnerSink(Protocol):
    """Where imported partners go: the store, seen from here (the store is an adapter)."""

    async def put_partners(self, partners: Sequence[Partner]) -> None: ...


FIELDS = ("id", "name", "network", "document_types", "reception", "email", "address", "country")
BATCH_SIZE = 5_000
_DOCTYPE_PREFIX = DOCTYPE_SCHEME + "::"
_SPACE = re.compile(r"\s")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")  # a shape check; only a mail server can tell more


class PartnerFileError(GatewayError):
    """The file as a whole cannot be read as a partner file (not a bad row)."""

    exit_code = 2
    code = "bad_partner_file"


class RowError(ValueError):
    """One row cannot become a Partner; the message says why."""


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str
    id: str = ""  # the id as written, when there was one

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.id, "reason": self.reason}


# --- one row ------------------------------------------------------------------------


def _text(fields: Mapping[str, object], key: str) -> str:
    value = fields.get(key)
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    raise RowError(f"{key} must be text, not {type(value).__name__}")


def _values(fields: Mapping[str, object], key: str) -> tuple[str, ...]:
    # CSV cells hold several values separated by ';'; JSON may use an array too.
    value = fields.get(key)
    if isinstance(value, str):
        if ";" not in value:  # the common case, a million times per import
            one = value.strip()
            return (one,) if one else ()
        items = value.split(";")
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    elif value is None:
        return ()
    else:
        raise RowError(f"{key} must be text or an array of text")
    # Blanks and repeats go; the order stays.
    return tuple(dict.fromkeys(filter(None, map(str.strip, items))))


def _document_types(fields: Mapping[str, object]) -> tuple[str, ...]:
    out = []
    for value in _values(fields, "document_types"):
        # Document type ids are case-sensitive: only the optional scheme goes.
        doctype = value[len(_DOCTYPE_PREFIX) :] if value.startswith(_DOCTYPE_PREFIX) else value
        if _SPACE.search(doctype):
            raise RowError(f"document type {value!r} contains whitespace")
        out.append(doctype)
    return tuple(out)


def _participant(raw: str) -> str:
    if not raw:
        raise RowError("missing id")
    try:
        pid = ParticipantId.parse(raw)
    except InvalidIdentifier as exc:
        raise RowError(f"bad id syntax: {exc}") from None
    reason = check(pid)
    if reason is not None:
        raise RowError(f"failed scheme check: {reason}")
    return str(pid)


def _contact(fields: Mapping[str, object]) -> tuple[str, str, tuple[str, ...]]:
    try:
        modes = reception_modes(_text(fields, "reception") or "network")
    except ValueError as exc:
        raise RowError(str(exc)) from None
    reception = RECEPTION_SEPARATOR.join(modes)
    email = _text(fields, "email")
    if email and not _EMAIL.fullmatch(email):
        raise RowError(f"email {email!r} is not an e-mail address")
    address = _values(fields, "address")
    # The only channel the partner chose needs somewhere to deliver to (with
    # several, delivery falls back past one that cannot take a document).
    if modes == ("email",) and not email:
        raise RowError("reception is email but no email is given")
    if modes == ("paper",) and not address:
        raise RowError("reception is paper but no address is given")
    return reception, email, address


def partner_from(fields: Mapping[str, object]) -> Partner:
    """A Partner from one row's fields; RowError says what is wrong."""
    pid = _participant(_text(fields, "id"))
    name = _text(fields, "name")
    if not name:
        raise RowError("missing name")
    reception, email, address = _contact(fields)
    country = _text(fields, "country").upper()
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise RowError(f"country {country!r} is not a two-letter ISO 3166 code")
    return Partner(
        id=pid,
        name=name,
        network=_text(fields, "network"),
        document_types=_document_types(fields),
        reception=reception,
        email=email,
        address=address,
        country=country,
    )


# --- files --------------------------------------------------------------------------

Row = tuple[int, Partner | BadRow]


def _attempt(line: int, fields: Mapping[str, object]) -> Row:
    try:
        return line, partner_from(fields)
    except RowError as exc:
        raw = fields.get("id")
        return line, BadRow(line, str(exc), raw.strip() if isinstance(raw, str) else "")


def _csv_header(reader: Iterator[list[str]], name: str) -> list[str]:
    header = [h.strip().lower() for h in next(reader, [])]
    unknown = [h for h in header if h not in FIELDS]
    if not header or unknown or "id" not in header or len(set(header)) != len(header):
        raise PartnerFileError(
            f"{name}: the first line must be a header naming each column once, from "
            f"{','.join(FIELDS)} (id is required)" + (f"; unknown: {unknown}" if unknown else "")
        )
    return header


def _csv_rows(f: IO[str], name: str) -> Iterator[Row]:
    reader = csv.reader(f)
    line = 1
    try:
        header = _csv_header(reader, name)
        width = len(header)
        line = reader.line_num + 1
        for cells in reader:
            # A quoted cell may span lines: the row starts where the previous ended.
            if cells and any(c.strip() for c in cells):
                if len(cells) != width:
                    yield line, BadRow(line, f"expected {width} fields, got {len(cells)}")
                else:
                    yield _attempt(line, dict(zip(header, cells, strict=True)))
            line = reader.line_num + 1
    except csv.Error as exc:
        # The reader cannot go on past this (e.g. a field past its size limit).
        raise PartnerFileError(f"{name}:{line}: cannot read the CSV any further: {exc}") from None


def _jsonl_rows(f: IO[str]) -> Iterator[Row]:
    for line, text in enumerate(f, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except ValueError as exc:
            yield line, BadRow(line, f"not valid JSON: {exc}")
            continue
        if not isinstance(data, dict):
            yield line, BadRow(line, "expected a JSON object")
            continue
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            yield line, BadRow(line, f"unknown keys {unknown}", str(data.get("id", "")))
            continue
        yield _attempt(line, data)


def _unique(rows: Iterable[Row]) -> Iterator[Row]:
    first: dict[str, int] = {}
    for line, row in rows:
        if isinstance(row, Partner):
            seen = first.setdefault(row.id, line)
            if seen != line:
                row = BadRow(line, f"duplicate id {row.id}: already on line {seen}", row.id)
        yield line, row


def read_rows(path: Path) -> Iterator[Row]:
    """Every row of a CSV or JSON lines file, in order, as a Partner or a BadRow.

    JSON lines is recognised by a first character of '{'; anything else is CSV.
    """
    try:
        f = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise PartnerFileError(f"cannot read {path}: {exc.strerror}") from None
    with f:
        try:
            head = f.read(4096).lstrip()
            f.seek(0)
            rows = _jsonl_rows(f) if head.startswith("{") else _csv_rows(f, str(path))
            yield from _unique(rows)
        except UnicodeDecodeError:
            raise PartnerFileError(f"{path} is not UTF-8 text") from None


# --- import -------------------------------------------------------------------------


@dataclass
class ImportReport:
    file: str
    rows: int = 0
    written: int = 0
    bad: list[BadRow] = field(default_factory=list)
    all_or_nothing: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "written": self.written,
            "bad": [b.to_json() for b in self.bad],
            "all_or_nothing": self.all_or_nothing,
        }


async def import_file(
    store: PartnerSink, path: Path, *, all_or_nothing: bool = False, batch_size: int = BATCH_SIZE
) -> ImportReport:
    """Write the good rows of ``path`` to the store, in batches, and report the bad.

    With ``all_or_nothing`` the file is read twice: once to find bad rows
    (any of them means nothing is written), then to write. Each batch is
    atomic and the write is an upsert, so re-running an import after a store
    failure part-way is safe.
    """
    report = ImportReport(str(path), all_or_nothing=all_or_nothing)
    if all_or_nothing:
        for _line, row in read_rows(path):
            report.rows += 1
            if isinstance(row, BadRow):
                report.bad.append(row)
        if report.bad:
            return report
        report.rows = 0
    try:
        await _write(store, read_rows(path), report, batch_size)
    except PartnerFileError as exc:
        if not report.written:
            raise
        # Say what already stands: the admin fixes the file and imports again.
        done = f"; the {report.written} good row(s) before it were written"
        raise PartnerFileError(exc.message + done) from None
    return report


class _BatchWriter:
    """Writes batches with one in flight: the store's I/O (the SQLite writer
    thread, the Redis server) overlaps the parsing of the next batch."""

    def __init__(self, store: PartnerSink, report: ImportReport) -> None:
        self._store = store
        self._report = report
        self._pending: asyncio.Task[None] | None = None
        self._pending_count = 0

    async def put(self, batch: list[Partner]) -> None:
        await self.drain()
        if not batch:
            return
        self._pending = asyncio.ensure_future(self._store.put_partners(batch))
        self._pending_count = len(batch)
        await asyncio.sleep(0)  # let the write start before parsing goes on

    async def drain(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            await pending
            self._report.written += self._pending_count

    def abandon(self) -> None:
        # A write already handed to the store may still land: batches are
        # atomic and upserts, so a re-run converges either way.
        if self._pending is not None:
            self._pending.cancel()


async def _write(store: PartnerSink, rows: Iterable[Row], report: ImportReport, size: int) -> None:
    writer = _BatchWriter(store, report)
    batch: list[Partner] = []
    try:
        try:
            for _line, row in rows:
                report.rows += 1
                if isinstance(row, BadRow):
                    report.bad.append(row)
                    continue
                batch.append(row)
                if len(batch) >= size:
                    await writer.put(batch)
                    batch = []
        except PartnerFileError:
            # The file cannot be read past some line; the rows before it are
            # good: write them all, so the report says exactly what stands.
            await writer.put(batch)
            await writer.drain()
            raise
        await writer.put(batch)
        await writer.drain()
    except BaseException:
        writer.abandon()
        raise
