"""Typed reading of a TOML tree, naming the key path on every error."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from gateway.errors import ConfigError
from gateway.model import InvalidIdentifier, ParticipantId
from gateway.model.identifiers import check as scheme_check

T = TypeVar("T")


class Reader:
    """Reads typed values out of the TOML tree, naming the key path on error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(str(self.path), key, problem)

    def table(
        self, data: Mapping[str, Any], key: str, where: str, *, required: bool
    ) -> dict[str, Any]:
        full = f"{where}.{key}" if where else key
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(full, "missing table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(full, f"must be a table, not {type(value).__name__}")
        return value

    def array_of_tables(self, data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, f"must be an array of tables ([[{key}]])")
        return value

    def get(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        kind: type[T],
        default: T | None = None,
    ) -> T:
        full = f"{where}.{key}" if where else key
        if key not in data:
            if default is None:
                raise self.fail(full, "missing required key")
            return default
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(
                full, f"must be {_kind_name(kind)}, not {type(value).__name__} {value!r}"
            )
        return value

    def strings(self, data: Mapping[str, Any], key: str, where: str) -> list[str]:
        full = f"{where}.{key}" if where else key
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(full, "must be an array of strings")
        return value

    def file(self, data: Mapping[str, Any], key: str, where: str, *, must_exist: bool) -> Path:
        raw = self.get(data, key, where, str)
        p = Path(raw)
        p = p if p.is_absolute() else (self.base / p)
        if must_exist and not p.is_file():
            raise self.fail(f"{where}.{key}" if where else key, f"file {str(p)!r} does not exist")
        return p

    def choice(
        self, data: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...], default: str
    ) -> str:
        value = self.get(data, key, where, str, default)
        if value not in choices:
            raise self.fail(f"{where}.{key}", f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def positive(
        self, data: Mapping[str, Any], key: str, where: str, kind: type[T], default: T
    ) -> T:
        value = self.get(data, key, where, kind, default)
        if value <= 0:  # type: ignore[operator]
            raise self.fail(f"{where}.{key}", f"must be greater than 0; got {value!r}")
        return value

    def participant_id(self, raw: str, key: str) -> ParticipantId:
        """A participant id that passes its scheme's check, as the directory requires."""
        try:
            pid = ParticipantId.parse(raw)
        except InvalidIdentifier as exc:
            raise self.fail(key, str(exc)) from None
        reason = scheme_check(pid)
        if reason is not None:
            raise self.fail(key, f"{pid} fails the check of scheme {pid.scheme}: {reason}")
        return pid

    def unknown_keys(self, data: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for k in data:
            if k not in allowed:
                full = f"{where}.{k}" if where else k
                raise self.fail(full, f"unknown key (allowed here: {', '.join(sorted(allowed))})")

    def day(self, data: Mapping[str, Any], key: str, where: str) -> date | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, date):
            raise self.fail(
                f"{where}.{key}", f"must be a TOML date such as 2026-01-01; got {value!r}"
            )
        return value

    def amount(self, data: Mapping[str, Any], key: str, where: str, default: str) -> Decimal:
        """A money amount: a TOML number or a decimal string, never negative."""
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(f"{where}.{key}", f"must be an amount such as 0.05; got {value!r}")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(
                f"{where}.{key}", f"must be an amount such as 0.05; got {value!r}"
            ) from None
        if not amount.is_finite() or amount < 0:
            raise self.fail(f"{where}.{key}", f"must be zero or more; got {value!r}")
        return amount


def _kind_name(kind: type[Any]) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        kind, kind.__name__
    )
