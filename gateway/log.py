"""structlog set-up: JSON lines in production, readable lines on a terminal.

Context (document id, message id) is bound with contextvars once per request
or job, so every line of that unit of work carries it. Payloads and secrets
are never passed to the logger.

Libraries log through the standard ``logging`` module; their records are
handed to structlog too (one format, one stream). aiohttp's own records
about requests it could not parse would quote the request head, bearer
token included, so they are logged by the error's class alone. As a last
guard, every line is scrubbed of anything shaped like a credential.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from aiohttp.http_exceptions import HttpProcessingError

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

# "Authorization: <value>", "Bearer <token>" and PEM private keys.
_CREDENTIAL = re.compile(
    r"(?i)(authorization['\"]?\s*[:=,]\s*['\"]?(?:bearer\s+|basic\s+)?|bearer\s+)[^\s'\"\\,;]+"
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
)


def redact(text: str) -> str:
    text = _CREDENTIAL.sub(r"\1[redacted]", text)
    return _PRIVATE_KEY.sub("[redacted private key]", text)


def _redact_values(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact(value)
    return event


class _Bridge(logging.Handler):
    """Hands standard-library records to structlog."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            logger = structlog.get_logger(record.name)
            exc = record.exc_info[1] if record.exc_info else None
            if isinstance(exc, HttpProcessingError):
                # A malformed request is the client's problem, not an error here.
                level = min(record.levelno, logging.INFO)
                logger.log(level, "http.bad_request", error=type(exc).__name__, status=exc.code)
                return
            logger.log(record.levelno, record.getMessage(), exc_info=record.exc_info)
        except Exception:
            self.handleError(record)


def configure(fmt: str = "auto", level: str = "info", *, stream: Any = None) -> None:
    out = stream if stream is not None else sys.stderr
    json_lines = fmt == "json" or (fmt == "auto" and not out.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            # Tracebacks become text here, so that the scrubbing sees them.
            structlog.processors.format_exc_info,
            _redact_values,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Bridge)]:
        root.removeHandler(handler)
    root.addHandler(_Bridge())
    root.setLevel(_LEVELS[level])
    # aiohttp's access log is replaced by our own request line.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def get(name: str) -> Any:
    return structlog.get_logger(name)
