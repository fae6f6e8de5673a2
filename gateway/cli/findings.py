"""Validation findings as people read them: each rule once, with where it
fired and how often, instead of the same line fifteen times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SHOWN_LOCATIONS = 3  # the rest are counted; --json has them all


def grouped(findings: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line per (flag, rule, message) in first-seen order, then its locations."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for f in findings:
        key = (str(f.get("flag", "fatal")), str(f.get("id", "?")), str(f.get("message", "")))
        groups.setdefault(key, []).append(str(f.get("location") or ""))
    lines = []
    for (flag, rule, message), locations in groups.items():
        times = f" ({len(locations)} times)" if len(locations) > 1 else ""
        lines.append(f"[{flag}] {rule}{times}: {message}")
        where = [loc for loc in locations if loc]
        if where:
            shown = "; ".join(where[:SHOWN_LOCATIONS])
            more = len(where) - SHOWN_LOCATIONS
            lines.append(f"    at {shown}" + (f" and {more} more" if more > 0 else ""))
    return lines
