"""Rules of this family are being written; see docs/validation.md."""

from __future__ import annotations

from gateway.validation.rules.engine import Forbidden, Rule

RULES: tuple[Rule | Forbidden, ...] = ()
