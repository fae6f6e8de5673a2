"""Peppol BIS and national rules: identifier algorithms, XPath details, rule behaviour.

The identifier tests check our implementations against independent reference
versions written here, with hypothesis generating numbers; the document tests
build small UBL snippets and check what the Peppol stage reports on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gateway.model import DocumentKind
from gateway.validation.rules import national, peppol
from gateway.validation.rules.engine import RuleSet
from gateway.validation.rules.kernel import DynamicError, both, either, normalize_space
from gateway.validation.rules.kernel_numbers import (
    date_instant,
    decimal,
    number,
    saxon_div,
    saxon_scale,
    xround,
)
from gateway.validation.rules.model import Doc
from gateway.validation.rules.peppol_ids import (
    abn,
    codice_fiscale,
    codice_ipa,
    gln,
    greek_tin,
    iban,
    mod11,
    mod97_be,
    partita_iva,
    se_orgnr,
)

DIGITS = "0123456789"


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=DIGITS, min_size=n, max_size=n)


def change_one_digit(value: str, data: st.DataObject, positions: Sequence[int]) -> str:
    """``value`` with one digit (in ``positions``) replaced by a different digit."""
    i = data.draw(st.sampled_from(list(positions)))
    new = data.draw(st.sampled_from([d for d in DIGITS if d != value[i]]))
    return value[:i] + new + value[i + 1 :]


# --- reference check digits, written independently ------------------------------------


def ref_gs1(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str(-total % 10)


def ref_no(body: str) -> str | None:
    weights = [3, 2, 7, 6, 5, 4, 3, 2]
    rest = 11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
    check = 0 if rest == 11 else rest
    return None if check == 10 else body + str(check)


def ref_luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str(-total % 10)


def ref_be(body: str) -> str:
    return body + f"{97 - int(body) % 97:02d}"


def ref_piva(body: str) -> str:
    total = 0
    for i, ch in enumerate(body):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return body + str(-total % 10)


def ref_tin(body: str) -> str:
    total = sum(int(d) << (8 - i) for i, d in enumerate(body))
    return body + str(total % 11 % 10)


def ref_abn_valid(number_: str) -> bool:
    weights = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]
    values = [int(number_[0]) - 1] + [int(d) for d in number_[1:]]
    return sum(v * w for v, w in zip(values, weights, strict=True)) % 89 == 0


def ref_iban(country: str, bban: str) -> str:
    moved = bban + country + "00"
    value = int("".join(str(int(c, 36)) for c in moved))
    return f"{country}{98 - value % 97:02d}{bban}"


# --- identifiers: valid numbers pass, single-digit changes fail -----------------------


@given(digits(12), st.data())
def test_gln_gs1_check_digit(body: str, data: st.DataObject) -> None:
    """GLNs with a correct GS1 check digit pass, and any one changed digit fails."""
    value = ref_gs1(body)
    assert gln(value)
    assert not gln(change_one_digit(value, data, range(13)))


@given(digits(8), st.data())
def test_norwegian_number_mod11(body: str, data: st.DataObject) -> None:
    """Norwegian organisation numbers pass with a correct mod-11 digit and fail with one changed
    digit; bodies without a possible check digit never pass."""
    value = ref_no(body)
    if value is None:
        # Remainder 1 would need check digit 10: no check digit makes it valid.
        assert not any(mod11(body + d) for d in DIGITS)
        return
    assert mod11(value) == (int(value) > 0)
    assert not mod11(change_one_digit(value, data, range(9)))


@given(digits(9), st.data())
def test_swedish_organisation_number_luhn(body: str, data: st.DataObject) -> None:
    """Swedish organisation numbers pass with a correct Luhn digit and fail with one changed
    digit."""
    value = ref_luhn(body)
    assert se_orgnr(value)
    assert not se_orgnr(change_one_digit(value, data, range(10)))


@given(digits(8), st.data())
def test_belgian_enterprise_number_mod97(body: str, data: st.DataObject) -> None:
    """Belgian enterprise numbers pass with correct mod-97 digits and fail with one changed
    digit."""
    value = ref_be(body)
    assert mod97_be(value)
    assert not mod97_be(change_one_digit(value, data, range(10)))


@given(digits(10), st.data())
def test_partita_iva(body: str, data: st.DataObject) -> None:
    """Italian partite IVA pass with a correct check digit (in any case of IT) and fail with one
    changed digit; other countries' numbers are not checked."""
    value = ref_piva(body)
    assert partita_iva("IT" + value) and partita_iva("it" + value)
    assert not partita_iva("IT" + change_one_digit(value, data, range(11)))
    # Only Italian numbers are checked.
    assert partita_iva("DE" + change_one_digit(value, data, range(11)))


@given(digits(8), st.data())
def test_greek_tin_check_digit(body: str, data: st.DataObject) -> None:
    """Greek TINs pass with a correct check digit and fail when the check digit is changed."""
    value = ref_tin(body)
    assert greek_tin(value)
    # A changed check digit is always caught (a body digit not always: mod 11 mod 10).
    assert not greek_tin(change_one_digit(value, data, range(8, 9)))


@given(digits(11), st.data())
def test_abn_mod89(candidate: str, data: st.DataObject) -> None:
    """Australian ABNs are valid exactly when the mod-89 sum is, and a valid one fails with one
    changed digit."""
    assert abn(candidate) == ref_abn_valid(candidate)
    if ref_abn_valid(candidate):
        assert not abn(change_one_digit(candidate, data, range(11)))


@given(
    st.sampled_from(["DE", "NL", "GB", "FR"]),
    st.text(alphabet=DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=10, max_size=20),
    st.data(),
)
def test_iban_mod97(country: str, bban: str, data: st.DataObject) -> None:
    """IBANs pass with correct check digits, also in groups of four, and fail with one changed
    digit."""
    value = ref_iban(country, bban)
    assert iban(value)
    assert iban(" ".join(value[i : i + 4] for i in range(0, len(value), 4)))
    digit_positions = [i for i, c in enumerate(value) if c.isdigit()]
    assert not iban(change_one_digit(value, data, digit_positions))


def test_identifier_examples() -> None:
    """Published valid identifiers of each scheme pass and their one-off variants fail, with
    lower-case IBAN letters failing."""
    assert gln("5790000435951") and not gln("5790000435952")
    assert mod11("923609016") and not mod11("923609017") and not mod11("000000000")
    assert se_orgnr("5560360793") and not se_orgnr("5560360794")
    assert mod97_be("0403170701") and not mod97_be("0403170702")
    assert abn("51824753556") and not abn("51824753557")
    assert iban("DE89370400440532013000") and iban("GB82WEST12345698765432")
    # Lower case letters count by code point in the German rules' formula.
    assert not iban("gb82WEST12345698765432") and not iban("GB82west12345698765432")
    assert partita_iva("IT00743110157") and not partita_iva("IT00743110158")
    assert codice_fiscale("RSSMRA85T10A562S") and codice_fiscale("12345678901")
    assert not codice_fiscale("RSSMRA8XT10A562S") and not codice_fiscale("1234567890")
    assert codice_ipa("UFABC1") and not codice_ipa("UFABC") and not codice_ipa("UF-BC1")


def test_identifier_edge_cases_follow_the_official_functions() -> None:
    """Identifier edge cases behave as the official functions: only nine Greek TIN characters
    count, and a sign or non-ASCII digits stop the stage."""
    # Only the first nine characters of a Greek TIN count.
    assert greek_tin("0940142981234") and not greek_tin("09401429")
    # A sign or a space in a partita IVA stops the official stage.
    with pytest.raises(DynamicError):
        partita_iva("IT+1234567890")
    # Non-ASCII digits pass the Swedish digit test but break its arithmetic.
    with pytest.raises(DynamicError):
        se_orgnr("\u0665" * 10)
    assert not se_orgnr("556036079")  # no check digit


# --- XPath details --------------------------------------------------------------------


def test_normalize_space_knows_only_xml_whitespace() -> None:
    """normalize-space() collapses XML whitespace only, keeping the no-break space."""
    assert normalize_space(" \t a \n\r b ") == "a b"
    assert normalize_space("\xa0a") == "\xa0a"


def test_number_is_xs_double() -> None:
    """number() reads as xs:double: spaces, exponents and INF as Saxon does, NaN otherwise."""
    assert number(" 12 ") == 12 and number("1e3") == 1000 and number("-INF") == float("-inf")
    assert number("1,5") != number("1,5") and number("") != number("")
    # Saxon reads INF with leading whitespace, not with trailing only.
    assert number(" INF ") == float("inf") and number("INF ") != number("INF ")


def test_decimal_cast() -> None:
    """Casting to xs:decimal accepts the XSD forms and gives nothing for exponents, empty or
    no-break space."""
    assert decimal(" +.5 ") == Decimal("0.5") and decimal("5.") == 5
    assert decimal("1e3") is None and decimal("") is None and decimal("\xa05") is None


def test_saxon_decimal_division() -> None:
    """Decimal division gives Saxon's digits: 18 places or the dividend's scale, halves rounded
    down."""
    # 18 places, or more when the dividend has more; halves round down.
    assert saxon_div(Decimal(2), 0, Decimal(3), 0) == Decimal("0.666666666666666667")
    assert saxon_div(Decimal(3), 0, Decimal(524288), 0) == Decimal("0.000005722045898437")
    assert saxon_scale("3000") == 0 and saxon_scale("3000.0") == -3 and saxon_scale("2.50") == 1
    assert saxon_scale("3000000000") == -9  # beyond a Java int: trailing zeros dropped
    one_third = saxon_div(Decimal(1), 0, Decimal("3000.0"), saxon_scale("3000.0"))
    assert one_third == Decimal("0.000333333333333333333")


@given(
    st.integers(-(10**9), 10**9),
    st.integers(-6, 6),
    st.integers(1, 10**6),
    st.integers(0, 4),
)
def test_saxon_division_is_within_half_a_unit(a: int, ea: int, b: int, eb: int) -> None:
    """Saxon-style decimal division is within half a unit of the last place of the exact
    quotient."""
    x, y = Decimal(a).scaleb(ea), Decimal(b).scaleb(-eb)
    sx, sy = -ea, eb
    q = saxon_div(x, sx, y, sy)
    scale = max(18, sx - sy + 18)
    error = abs(Fraction(q) - Fraction(x) / Fraction(y))
    assert error <= Fraction(1, 2 * 10**scale)


def test_xpath_round_halves_go_up() -> None:
    """XPath round() sends halves towards positive infinity."""
    assert xround(Decimal("2.5")) == 3 and xround(Decimal("-2.5")) == -2
    assert xround(Decimal("-12.5")) == -12 and xround(Decimal("0.49")) == 0


def test_dates() -> None:
    """Dates are checked for leap years and format, and compare by their starting instant across
    zones."""
    assert date_instant("2020-02-29") is not None and date_instant("1900-02-29") is None
    assert date_instant("0000-01-01") is not None and date_instant("2020-1-01") is None
    # Starting instants: a date in UTC+05:00 starts before the same date in UTC.
    plus5, utc = date_instant("2020-01-01+05:00"), date_instant("2020-01-01")
    assert plus5 is not None and utc is not None and plus5 < utc


def _fails() -> bool:
    raise DynamicError("test", schema=False)


def test_and_or_drop_an_error_a_decisive_operand_hides() -> None:
    """and/or drop an error hidden by a deciding operand, and raise it otherwise."""
    assert both(_fails, lambda: False) is False
    assert either(_fails, lambda: True) is True
    with pytest.raises(DynamicError):
        both(_fails, lambda: True)
    with pytest.raises(DynamicError):
        either(lambda: False, _fails)


# --- rules on documents ------------------------------------------------------------------

NS = (
    'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)
RULES = RuleSet(list(peppol.RULES) + list(national.RULES))


def parties(supplier: str, customer: str, extra: str = "") -> str:
    def party(role: str, country: str) -> str:
        return (
            f"<cac:{role}><cac:Party><cbc:EndpointID schemeID='0088'>5790000435951</cbc:EndpointID>"
            f"<cac:PostalAddress><cac:Country><cbc:IdentificationCode>{country}"
            f"</cbc:IdentificationCode></cac:Country></cac:PostalAddress>{extra}"
            f"</cac:Party></cac:{role}>"
        )

    return party("AccountingSupplierParty", supplier) + party("AccountingCustomerParty", customer)


def findings(body: str) -> dict[str, str]:
    root = etree.fromstring(f"<Invoice {NS}>{body}</Invoice>")
    return {f.id: f.flag for f in RULES.evaluate(Doc(root, DocumentKind.INVOICE))}


def line(quantity: str, amount: str, price: str, base: str | None = None) -> str:
    base_xml = f"<cbc:BaseQuantity>{base}</cbc:BaseQuantity>" if base else ""
    return (
        f"<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity>{quantity}</cbc:InvoicedQuantity>"
        f"<cbc:LineExtensionAmount currencyID='EUR'>{amount}</cbc:LineExtensionAmount>"
        f"<cac:Price><cbc:PriceAmount currencyID='EUR'>{price}</cbc:PriceAmount>{base_xml}"
        "</cac:Price></cac:InvoiceLine>"
    )


def test_line_net_amount_uses_saxon_division() -> None:
    """PEPPOL-EN16931-R120 computes the line amount with Saxon's division, firing just outside
    the 0.02 tolerance and not inside it."""
    # 3 x 10/3: Saxon's quotient 3.333333333333333333 gives 9.999999999999999999,
    # so 10.02 lies just outside the 0.02 tolerance while 9.98 lies inside.
    assert "PEPPOL-EN16931-R120" in findings(line("3", "10.02", "10", "3"))
    assert "PEPPOL-EN16931-R120" not in findings(line("3", "9.98", "10", "3"))
    assert "PEPPOL-EN16931-R120" not in findings(line("3", "30.02", "10"))
    assert "PEPPOL-EN16931-R120" in findings(line("3", "30.03", "10"))


def test_non_decimal_amount_stops_the_stage_without_findings() -> None:
    """An empty quantity stops the Peppol stage without any PEPPOL finding, as the official stage
    does."""
    # The official stage stops on xs:decimal(''); the XSD rejects such a document.
    out = findings(line("", "10", "10") + "<cbc:Note/>")
    assert not any(i.startswith("PEPPOL-") for i in out)


def test_error_the_schema_does_not_explain_rejects_through_its_rule() -> None:
    """A customization id split by a comment stops the stage and is reported as a fatal
    PEPPOL-EN16931-R004 only."""
    # Two text nodes in the customization id (a comment in between) stop the
    # official stage; the rule that stops it is reported as fatal.
    out = findings("<cbc:CustomizationID>urn:x<!-- c -->y</cbc:CustomizationID>")
    assert out == {"PEPPOL-EN16931-R004": "fatal"}


def test_tax_total_sign_masks_a_bad_amount_when_the_other_side_decides() -> None:
    """A bad tax amount in the other currency is masked when the other side decides, and R055
    fires."""
    body = (
        "<cbc:DocumentCurrencyCode>SEK</cbc:DocumentCurrencyCode>"
        "<cbc:TaxCurrencyCode>EUR</cbc:TaxCurrencyCode>"
        "<cac:TaxTotal><cbc:TaxAmount currencyID='EUR'>abc</cbc:TaxAmount></cac:TaxTotal>"
    )
    assert findings(body).get("PEPPOL-EN16931-R055") == "fatal"


def test_tax_total_sign_orders_nan_above_every_number() -> None:
    """R055 treats an untyped NaN as greater than every number, as Saxon does."""

    # Saxon compares an untyped 'NaN' with 0 as if it were larger than any
    # number: NaN >= 0 holds, NaN <= 0 does not.
    def totals(tax: str, document: str) -> str:
        return (
            "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>"
            "<cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode>"
            f"<cac:TaxTotal><cbc:TaxAmount currencyID='EUR'>{document}</cbc:TaxAmount>"
            f"</cac:TaxTotal><cac:TaxTotal><cbc:TaxAmount currencyID='SEK'>{tax}</cbc:TaxAmount>"
            "</cac:TaxTotal>"
        )

    assert "PEPPOL-EN16931-R055" not in findings(totals("100", "NaN"))
    assert "PEPPOL-EN16931-R055" in findings(totals("-100", "NaN"))
    assert "PEPPOL-EN16931-R055" not in findings(totals("-0", "5"))


def test_empty_elements_include_comment_only_ones() -> None:
    """An element holding only a comment counts as empty for PEPPOL-EN16931-R008."""
    out = findings("<cbc:Note><!-- nothing --></cbc:Note><cbc:ID>1</cbc:ID>")
    assert "PEPPOL-EN16931-R008" in out
    assert "PEPPOL-EN16931-R008" not in findings("<cbc:ID>1</cbc:ID>")


def test_allowance_with_percentage_only_skips_the_indicator_rule() -> None:
    """An allowance with a bad indicator and only a percentage fires R041 but not R043."""
    body = (
        "<cac:AllowanceCharge><cbc:ChargeIndicator>maybe</cbc:ChargeIndicator>"
        "<cbc:MultiplierFactorNumeric>10</cbc:MultiplierFactorNumeric>"
        "<cbc:Amount currencyID='EUR'>1</cbc:Amount></cac:AllowanceCharge>"
    )
    out = findings(body)
    assert "PEPPOL-EN16931-R041" in out and "PEPPOL-EN16931-R043" not in out


def test_dutch_vat_number_is_checked_unless_a_scheme_rule_took_it() -> None:
    """A Dutch VAT number warns under R056-2 without a scheme, not with scheme 0088, and R057
    does not fire with scheme 0217."""

    def vat(scheme: str) -> str:
        attr = f" schemeID='{scheme}'" if scheme else ""
        return parties(
            "NL",
            "NL",
            f"<cac:PartyTaxScheme><cbc:CompanyID{attr}>NL123</cbc:CompanyID>"
            "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>",
        )

    assert findings(vat("")).get("PEPPOL-COMMON-R056-2") == "warning"
    assert "PEPPOL-COMMON-R056-2" not in findings(vat("0088"))
    assert "PEPPOL-COMMON-R057" not in findings(vat("0217"))


def test_national_rules_follow_the_seller_country() -> None:
    """National rules apply by the seller's country: Swedish and German rules fire for sellers
    there and not otherwise."""
    swedish_vat = (
        "<cac:PartyTaxScheme><cbc:CompanyID>SE55603607930</cbc:CompanyID>"
        "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
    )
    assert "SE-R-001" in findings(parties("SE", "SE", swedish_vat))
    assert "SE-R-001" not in findings(parties("NO", "SE", swedish_vat))
    german = findings(parties("DE", "DE"))
    assert german.get("DE-R-001") == "fatal" and german.get("DE-R-015") == "fatal"
    assert "DE-R-001" not in findings(parties("DE", "FR"))


def test_date_format_masks_a_split_text_when_the_value_is_no_date() -> None:
    """A date split by a comment fails F001 when it is no date, but stops the stage when it is
    one."""
    # A comment splits the text: string-length(text()) is an error, which the
    # other operand hides when the value is no date (the rule just fails) ...
    out = findings("<cbc:IssueDate>20<!--c-->x</cbc:IssueDate><cbc:Note/>")
    assert out.get("PEPPOL-EN16931-F001") == "fatal" and "PEPPOL-EN16931-R008" in out
    # ... but not when it is one: the official stage stops there.
    out = findings("<cbc:IssueDate>2020-01<!--c-->-01</cbc:IssueDate><cbc:Note/>")
    assert out == {"PEPPOL-EN16931-F001": "fatal"}


def test_danish_payment_ids_stop_the_stage() -> None:
    """Two Danish payment ids stop the Peppol stage at DK-R-011, the only finding."""
    body = parties("DK", "DK") + (
        "<cac:PaymentMeans><cbc:PaymentMeansCode>93</cbc:PaymentMeansCode>"
        "<cbc:PaymentID>73#1</cbc:PaymentID><cbc:PaymentID>73#2</cbc:PaymentID>"
        "<cac:PayeeFinancialAccount><cbc:ID>12</cbc:ID></cac:PayeeFinancialAccount>"
        "</cac:PaymentMeans><cbc:Note/>"
    )
    # DK-R-010 is decided by the short account despite the two payment ids,
    # DK-R-011 needs the length of both: the official stage stops.
    assert findings(body) == {"DK-R-011": "fatal"}
