"""The official engine: the CEN and Peppol Schematron XSLT artefacts, run by Saxon.

Optional (``pip install einvoice-gateway[official]``, which brings saxonche),
and fed from a directory the admin names: Peppol's licence forbids
redistributing its artefacts, so the project ships none. The directory holds
the two compiled Schematron stylesheets of a Peppol BIS Billing release, as
the release publishes them::

    CEN-EN16931-UBL.xslt      the EN 16931 rules, the CEN copy the release bundles
    PEPPOL-EN16931-UBL.xslt   the Peppol BIS Billing 3.0 rules, national rules included

It runs them as the reference run of the official verdicts does: each
stylesheet over the same parsed document, with the document as the global
context item; every SVRL ``failed-assert`` and ``successful-report`` becomes a
:class:`Finding` (flag ``fatal`` or ``error`` gives fatal, anything else a
warning; the message is the SVRL text, the location the SVRL location). A
stage that stops on a dynamic XPath error gives one fatal ``OFFICIAL-ERROR``
finding naming the stage: the official artefacts reject such a document.

The stylesheets are compiled once per process and directory (about 0.4 s);
one Saxon processor serves the whole process. The native engine
(``gateway.validation.rules``) is the default; this one is the reference it is
checked against (``gateway validate --engine both``).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.config.settings import LimitSettings
from gateway.errors import GatewayError, InputError
from gateway.model import DocumentKind
from gateway.validation.parse import classify, parse_xml
from gateway.validation.report import FATAL, WARNING, Finding, ValidationReport
from gateway.validation.xsd import validate_schema

ENV_VAR = "GATEWAY_OFFICIAL_RULES"
DISTRIBUTION = "saxonche==13.1.1"
ERROR_RULE = "OFFICIAL-ERROR"
# (stage name, stylesheet file), in the order the official artefacts run.
STAGES: tuple[tuple[str, str], ...] = (
    ("cen", "CEN-EN16931-UBL.xslt"),
    ("peppol", "PEPPOL-EN16931-UBL.xslt"),
)
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
_ASSERTIONS = (f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report")
_TEXT = f"{{{SVRL_NS}}}text"
_FATAL_FLAGS = frozenset({"fatal", "error"})
# The SVRL comes from our own Saxon run, yet parse it with the same caution.
_SVRL_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
)


class OfficialRulesError(GatewayError):
    """The official engine cannot run: saxonche or the rule files are missing or broken.

    A usage/configuration fault, not a verdict: the CLI exits 2.
    """

    exit_code = 2
    code = "official_rules_error"


@dataclass(frozen=True)
class _Stage:
    name: str
    file: str
    executable: Any  # saxonche.PyXsltExecutable (untyped)


class OfficialEngine:
    """Both stylesheets of one directory, compiled; use :func:`load` to share them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        if not directory.is_dir():
            raise OfficialRulesError(
                f"official rules directory {directory} does not exist "
                f"(it must hold {' and '.join(f for _, f in STAGES)})",
                directory=str(directory),
            )
        missing = [file for _, file in STAGES if not (directory / file).is_file()]
        if missing:
            raise OfficialRulesError(
                f"official rules directory {directory} lacks {' and '.join(missing)}",
                directory=str(directory),
                missing=missing,
            )
        saxon = _saxon()
        xslt = saxon.processor.new_xslt30_processor()
        stages = []
        for name, file in STAGES:
            try:
                executable = xslt.compile_stylesheet(stylesheet_file=str(directory / file))
            except saxon.api_error as exc:
                raise OfficialRulesError(
                    f"cannot compile {directory / file}: {str(exc).strip()}",
                    file=str(directory / file),
                ) from exc
            stages.append(_Stage(name, file, executable))
        self.stages: tuple[_Stage, ...] = tuple(stages)
        # A compiled executable is not thread-safe; one transformation at a time.
        self._lock = threading.Lock()

    def findings(
        self, document: bytes | etree._Element, limits: LimitSettings | None = None
    ) -> list[Finding]:
        """Every finding of both stages on one document (bytes or a parsed root).

        Bytes go through the gateway's hardened parser first (``limits``, by
        default the default limits) and raise its ``InputError`` if refused.
        """
        if isinstance(document, bytes):
            document = parse_xml(document, limits or LimitSettings())
        return self.run(self.saxon_document(document))

    def saxon_document(self, root: etree._Element) -> Any:
        """The document as a Saxon tree (a ``PyXdmNode``), to :meth:`run` the stages on.

        Saxon parses our serialisation of the tree lxml already parsed
        safely: no DOCTYPE can reach it, so it resolves nothing.
        """
        text = etree.tostring(root, encoding="unicode", with_tail=False)
        with self._lock:
            return _saxon().processor.parse_xml(xml_text=text, encoding="UTF-8")

    def run(self, node: Any) -> list[Finding]:
        """Both stages over one Saxon document, the document as the global context item."""
        api_error = _saxon().api_error
        out: list[Finding] = []
        with self._lock:
            for stage in self.stages:
                try:
                    stage.executable.set_global_context_item(xdm_item=node)
                    svrl = stage.executable.transform_to_string(xdm_node=node)
                except api_error as exc:
                    out.append(
                        Finding(
                            ERROR_RULE,
                            FATAL,
                            f"{stage.name} stage aborted ({stage.file}): {str(exc).strip()}",
                            "/",
                        )
                    )
                    continue
                out.extend(_svrl_findings(svrl))
        return out


@dataclass(frozen=True)
class _Saxon:
    processor: Any  # saxonche.PySaxonProcessor
    api_error: type[Exception]


_saxon_instance: _Saxon | None = None
_engines: dict[Path, OfficialEngine] = {}
_lock = threading.Lock()
_saxon_lock = threading.Lock()


def _saxon() -> _Saxon:
    """The process's one Saxon processor (SaxonC wants one per process)."""
    global _saxon_instance
    with _saxon_lock:
        if _saxon_instance is None:
            try:
                import saxonche
            except ImportError as exc:
                raise OfficialRulesError(
                    f"the official engine needs saxonche, which is not installed: "
                    f"pip install 'einvoice-gateway[official]' (or {DISTRIBUTION})"
                ) from exc
            processor = saxonche.PySaxonProcessor(license=False)
            _saxon_instance = _Saxon(processor, saxonche.PySaxonApiError)
        return _saxon_instance


def load(directory: Path | str) -> OfficialEngine:
    """The compiled engine for ``directory`` (compiled on first use, then kept)."""
    path = Path(directory).expanduser().resolve()
    with _lock:
        engine = _engines.get(path)
        if engine is None:
            engine = _engines[path] = OfficialEngine(path)
        return engine


def rules_dir(explicit: str | Path | None = None) -> Path:
    """The directory to use: ``explicit`` (``--official-dir``), else env GATEWAY_OFFICIAL_RULES."""
    value = explicit or os.environ.get(ENV_VAR)
    if not value:
        raise OfficialRulesError(
            f"the official engine needs the directory of the official rules "
            f"({' and '.join(f for _, f in STAGES)}): give --official-dir DIR "
            f"or set {ENV_VAR}"
        )
    return Path(value)


def official_findings(
    document: bytes | etree._Element, directory: Path | str, limits: LimitSettings | None = None
) -> list[Finding]:
    """The official artefacts' findings on one document (bytes or a parsed root)."""
    return load(directory).findings(document, limits)


def check_parsed_official(
    root: etree._Element,
    kind: DocumentKind,
    engine: OfficialEngine,
    *,
    schema_dir: Path | None = None,
) -> ValidationReport:
    """UBL 2.1 XSD, then the official CEN and Peppol stylesheets (cf. ``check_parsed``)."""
    schema = validate_schema(root, kind, schema_dir=schema_dir)
    rules = engine.findings(root)
    return ValidationReport(kind=kind, schema_valid=not schema, findings=(*schema, *rules))


def validate_official(
    data: bytes, limits: LimitSettings, engine: OfficialEngine, *, schema_dir: Path | None = None
) -> ValidationReport:
    """``gateway.validation.validate`` with the official engine in place of the native rules."""
    try:
        root = parse_xml(data, limits)
        kind = classify(root)
    except InputError as exc:
        return ValidationReport.refused(exc)
    return check_parsed_official(root, kind, engine, schema_dir=schema_dir)


def validate_both(
    data: bytes, limits: LimitSettings, engine: OfficialEngine, *, schema_dir: Path | None = None
) -> tuple[ValidationReport, ValidationReport]:
    """The native and the official report on one document, parsed and XSD-checked once."""
    from gateway.validation.rules import native_findings

    try:
        root = parse_xml(data, limits)
        kind = classify(root)
    except InputError as exc:
        refused = ValidationReport.refused(exc)
        return refused, refused
    schema = validate_schema(root, kind, schema_dir=schema_dir)
    native = ValidationReport(
        kind=kind, schema_valid=not schema, findings=(*schema, *native_findings(root, kind))
    )
    official = ValidationReport(
        kind=kind, schema_valid=not schema, findings=(*schema, *engine.findings(root))
    )
    return native, official


def disagreements(native: ValidationReport, official: ValidationReport) -> dict[str, list[str]]:
    """Rule ids one engine reports and the other does not, fatal and warning sets apart.

    An id both report, but with different flags, is in both lists.
    """
    ours = {(f.id, f.flag) for f in native.findings}
    theirs = {(f.id, f.flag) for f in official.findings}
    return {
        "only_native": sorted({i for i, _ in ours - theirs}),
        "only_official": sorted({i for i, _ in theirs - ours}),
    }


def _svrl_findings(svrl: str) -> list[Finding]:
    root = etree.fromstring(svrl.encode("utf-8"), _SVRL_PARSER)
    out = []
    for node in root.iter(*_ASSERTIONS):
        flag = FATAL if (node.get("flag") or "").lower() in _FATAL_FLAGS else WARNING
        text = node.find(_TEXT)
        words = "".join(str(t) for t in text.itertext()) if text is not None else ""
        message = " ".join(words.split())
        rule_id = node.get("id") or "OFFICIAL-UNNAMED"
        out.append(Finding(rule_id, flag, message, node.get("location") or ""))
    return out
