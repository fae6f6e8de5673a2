"""Reading the interconnection agreements and mandates of gateway.toml."""

from __future__ import annotations

from typing import Any

from gateway.config.reader import Reader
from gateway.model import DIRECTIONS, PAYERS, Agreement, Fees, Mandate


def agreement(r: Reader, t: dict[str, Any], w: str, default_id: str) -> Agreement:
    r.unknown_keys(
        t,
        w,
        {
            "id",
            "direction",
            "document_types",
            "valid_from",
            "valid_until",
            "max_document_bytes",
            "require_document_signature",
            "delivery_deadline_hours",
            "fees",
        },
    )
    a = Agreement(
        id=r.get(t, "id", w, str, default_id),
        direction=r.choice(t, "direction", w, DIRECTIONS, "both"),
        document_types=tuple(r.strings(t, "document_types", w)),
        valid_from=r.day(t, "valid_from", w),
        valid_until=r.day(t, "valid_until", w),
        max_document_bytes=r.get(t, "max_document_bytes", w, int, 0),
        require_document_signature=r.get(t, "require_document_signature", w, bool, False),
        delivery_deadline_hours=r.get(t, "delivery_deadline_hours", w, float, 0.0),
        fees=_fees(r, r.table(t, "fees", w, required=False), f"{w}.fees"),
    )
    if a.valid_from and a.valid_until and a.valid_until < a.valid_from:
        raise r.fail(f"{w}.valid_until", "is before valid_from")
    if a.max_document_bytes < 0:
        raise r.fail(f"{w}.max_document_bytes", "must be 0 (no own limit) or more")
    if a.delivery_deadline_hours < 0:
        raise r.fail(f"{w}.delivery_deadline_hours", "must be 0 (the network default) or more")
    return a


def _fees(r: Reader, t: dict[str, Any], w: str) -> Fees:
    r.unknown_keys(t, w, {"per_document", "payer", "monthly_free", "monthly_cap", "currency"})
    currency = r.get(t, "currency", w, str, "EUR")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise r.fail(f"{w}.currency", f"must be an ISO 4217 code such as EUR; got {currency!r}")
    free = r.get(t, "monthly_free", w, int, 0)
    if free < 0:
        raise r.fail(f"{w}.monthly_free", "must be 0 or more")
    return Fees(
        per_document=r.amount(t, "per_document", w, "0"),
        payer=r.choice(t, "payer", w, PAYERS, "sender"),
        monthly_free=free,
        monthly_cap=r.amount(t, "monthly_cap", w, "0"),
        currency=currency,
    )


def mandates(r: Reader, rows: list[dict[str, Any]]) -> tuple[Mandate, ...]:
    out = []
    for i, t in enumerate(rows):
        w = f"mandates[{i}]"
        r.unknown_keys(t, w, {"country", "scope", "from", "reference"})
        country = r.get(t, "country", w, str)
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            raise r.fail(f"{w}.country", f"must be an ISO 3166 code such as FR; got {country!r}")
        start = r.day(t, "from", w)
        if start is None:
            raise r.fail(f"{w}.from", "missing required key (the date the mandate starts)")
        out.append(
            Mandate(
                country=country,
                scope=r.choice(t, "scope", w, ("domestic-b2b",), "domestic-b2b"),
                start=start,
                reference=r.get(t, "reference", w, str, ""),
            )
        )
    return tuple(out)
