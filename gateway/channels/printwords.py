"""The wording and number formats of a printed invoice: code lists turned into
words a reader knows, amounts with two decimals. Pure; English, like the rest
of the gateway's output. The label/value rows of the page's blocks are in
``print_rows``.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

# Amounts this long are not amounts; the reader shows them as missing.
MAX_DIGITS = 40

# Tables read better one pair per column than one per line.
# fmt: off
# UNTDID 1001 document type codes that EN 16931 allows.
_TITLES = {
    "380": "Invoice", "384": "Corrected invoice", "389": "Self-billed invoice",
    "386": "Prepayment invoice", "326": "Partial invoice", "381": "Credit note",
    "261": "Self-billed credit note", "396": "Factored credit note",
}
# UNCL 5305 VAT category codes.
_VAT = {
    "S": "Standard rate", "Z": "Zero rated", "E": "Exempt from VAT", "AE": "Reverse charge",
    "K": "Intra-community supply", "G": "Export outside the EU",
    "O": "Outside the scope of VAT", "L": "Canary Islands IGIC", "M": "Ceuta and Melilla IPSI",
}
# UNCL 4461 payment means codes.
_MEANS = {
    "1": "Not defined", "10": "Cash", "20": "Cheque", "30": "Credit transfer",
    "31": "Debit transfer", "42": "Payment to bank account", "48": "Bank card",
    "49": "Direct debit", "57": "Standing agreement", "58": "SEPA credit transfer",
    "59": "SEPA direct debit", "97": "Clearing between partners",
}
# UN/ECE Recommendation 20 unit codes that Peppol invoices use most.
_UNITS = {
    "C62": "unit", "H87": "piece", "EA": "each", "HUR": "hour", "DAY": "day", "WEE": "week",
    "MON": "month", "ANN": "year", "MIN": "minute", "KGM": "kg", "GRM": "g", "TNE": "t",
    "MTR": "m", "KMT": "km", "MTK": "m²", "MTQ": "m³", "LTR": "l", "KWH": "kWh", "SET": "set",
    "PR": "pair", "XPK": "pack", "LS": "lump sum",
}
# The last line of international mail: the country in capitals, in a language
# of the sending country or an international one (UPU; NF Z 10-011 likewise).
_COUNTRIES = {
    "AT": "AUSTRIA", "BE": "BELGIUM", "BG": "BULGARIA", "CH": "SWITZERLAND", "CY": "CYPRUS",
    "CZ": "CZECHIA", "DE": "GERMANY", "DK": "DENMARK", "EE": "ESTONIA", "ES": "SPAIN",
    "FI": "FINLAND", "FR": "FRANCE", "GB": "UNITED KINGDOM", "GR": "GREECE", "HR": "CROATIA",
    "HU": "HUNGARY", "IE": "IRELAND", "IS": "ICELAND", "IT": "ITALY", "LI": "LIECHTENSTEIN",
    "LT": "LITHUANIA", "LU": "LUXEMBOURG", "LV": "LATVIA", "MC": "MONACO", "MT": "MALTA",
    "NL": "NETHERLANDS", "NO": "NORWAY", "PL": "POLAND", "PT": "PORTUGAL", "RO": "ROMANIA",
    "SE": "SWEDEN", "SI": "SLOVENIA", "SK": "SLOVAKIA", "US": "UNITED STATES", "CA": "CANADA",
    "AU": "AUSTRALIA", "NZ": "NEW ZEALAND", "SG": "SINGAPORE", "JP": "JAPAN",
}
# fmt: on


def title_of(type_code: str, *, credit: bool) -> str:
    return _TITLES.get(type_code, "Credit note" if credit else "Invoice")


def country_name(code: str) -> str:
    return _COUNTRIES.get(code.upper(), code.upper())


def means_name(code: str) -> str:
    return _MEANS.get(code, code)


def unit_name(code: str) -> str:
    return _UNITS.get(code, code)


def vat_label(category: str) -> str:
    return _VAT.get(category, category or "VAT")


def money(value: Decimal | None, currency: str) -> str:
    """1234.5 -> "1,234.50 EUR"; None -> a dash."""
    return f"{number(value, 2)} {currency}".strip() if value is not None else "—"


def number(value: Decimal | None, places: int | None = None) -> str:
    """12 -> "12", 0.50 -> "0.5"; with places=2, 1234.5 -> "1,234.50"; None -> ""."""
    if value is None:
        return ""
    ctx = Context(prec=MAX_DIGITS + 10)
    try:
        if places is not None:  # half-even, as the amounts were already rounded
            return f"{value.quantize(Decimal(1).scaleb(-places), context=ctx):,.{places}f}"
        return f"{value.normalize(ctx):,f}"
    except InvalidOperation:
        return str(value)


def percent(rate: Decimal | None) -> str:
    return "" if rate is None else f"{number(rate)}%"


def iban(value: str) -> str:
    """An IBAN in groups of four, as banks print it; anything else unchanged."""
    compact = value.replace(" ", "")
    if len(compact) > 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return value
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
