"""Scheme checks: valid ids of each scheme pass; a single changed digit fails
wherever the scheme's check digits are bound to catch it."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gateway.model import ParticipantId
from gateway.model import identifiers as ids
from gateway.model.identifiers import check


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


def chars(alphabet: str, low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=low, max_size=high)


siren = digits(8).map(lambda b: b + ids.luhn_digit(b))
be_number = st.tuples(st.sampled_from("01"), digits(7)).map(
    lambda t: (b := t[0] + t[1]) + ids.be_check(b)
)
leitweg = st.tuples(digits(2) | chars("0123456789", 2, 12), chars("0123456789abcxyz", 0, 30)).map(
    lambda t: f"{t[0]}-{t[1] + '-' if t[1] else ''}{ids.leitweg_check(t[0], t[1])}"
)
no_org = (
    digits(8).filter(lambda b: ids.no_digit(b) is not None).map(lambda b: b + str(ids.no_digit(b)))
)
la_poste_siret = (
    digits(4)
    .map(lambda b: ids.LA_POSTE_SIREN + b)
    .map(lambda b: b + next(d for d in "0123456789" if sum(map(int, b + d)) % 5 == 0))
)
spis = st.tuples(
    digits(6), chars("0123456789abcz_", 3, 12), chars("0123456789az-._~", 3, 24), st.integers(0, 2)
).map(lambda t: t[0] + (f"-{t[1]}" if t[3] else "") + (f".{t[2]}" if t[3] == 2 else ""))

gln = digits(12).map(lambda b: b + ids.gs1_digit(b))
siret = st.tuples(siren, digits(4)).map(lambda t: (b := t[0] + t[1]) + ids.luhn_digit(b))
fr_address = st.tuples(siren, chars("abz09._-", 0, 20)).map(
    lambda t: t[0] + (f"_{t[1]}" if t[1] else "")
)
fr_vat = siren.map(lambda s: f"fr{ids.fr_vat_key(s)}{s}")
se_org = digits(9).map(lambda b: b + ids.luhn_digit(b))

EVERY = slice(None)
# ICD -> (valid values, the positions where a one-digit change must be caught)
VALID: dict[str, tuple[st.SearchStrategy[str], slice]] = {
    "0088": (gln, EVERY),
    "0002": (siren, EVERY),
    "0009": (siret, EVERY),
    "0225": (fr_address, slice(0, 9)),  # the suffix carries no check
    "9957": (fr_vat, slice(2, None)),
    "0208": (be_number, EVERY),
    "9925": (be_number.map(lambda n: "be" + n), slice(2, None)),
    "0192": (no_org, EVERY),
    "0007": (se_org, EVERY),
    "0204": (leitweg, EVERY),
}


@pytest.mark.parametrize("icd", [*VALID, "0242"])
@given(data=st.data())
def test_generated_valid_ids_pass_in_any_case(icd: str, data: st.DataObject) -> None:
    """Generated valid ids of every supported scheme pass the check, in lower and upper case."""
    value = data.draw(spis if icd == "0242" else VALID[icd][0])

    assert check(ParticipantId(icd, value)) is None
    assert check(f"{icd}:{value.upper()}") is None


@pytest.mark.parametrize("icd", list(VALID))
@given(data=st.data())
def test_one_changed_digit_is_caught(icd: str, data: st.DataObject) -> None:
    """Changing any one checked digit of a valid id makes the scheme check fail with a reason."""
    strategy, checked = VALID[icd]
    value = data.draw(strategy)
    span = range(len(value))[checked]
    positions = [i for i in span if value[i].isdigit()]
    i = data.draw(st.sampled_from(positions))
    new = data.draw(st.sampled_from("0123456789").filter(lambda d: d != value[i]))
    changed = value[:i] + new + value[i + 1 :]
    # La Poste's SIRETs pass by another rule, which a one-digit change can meet.
    assume(not (icd == "0009" and changed.startswith(ids.LA_POSTE_SIREN)))

    reason = check(ParticipantId(icd, changed))

    assert isinstance(reason, str) and reason


@given(la_poste_siret)
def test_la_poste_sirets_pass_by_their_own_rule(value: str) -> None:
    """La Poste SIRETs whose digits sum to a multiple of 5 pass, though not Luhn-valid."""
    assert check(ParticipantId("0009", value)) is None


@pytest.mark.parametrize(
    "pid",
    [
        "0088:7300010000001",
        "0002:552081317",  # EDF
        "0009:73282932000074",
        "0009:35600000000048",  # La Poste head office: an ordinary Luhn number
        "0009:35600000049837",  # a La Poste establishment: digit sum divisible by 5
        "0225:552081317",
        "0225:552081317_55208131766522",
        "0225:552081317_achats-EST.2",
        "9957:FR03552081317",
        "0208:0203201340",
        "9925:BE0203201340",
        "0204:04011000-1234512345-06",  # KoSIT examples
        "0204:992-90009-96",
        "0204:991-33333TEST-33",
        "0204:09564000-NUE0001-49",
        "0242:000306",
        "0242:123456-AB_C.sub-1~x",
        "0192:974760673",  # Brønnøysundregistrene
        "0007:5560360793",
        "9999:anything-goes",  # no rule for this ICD
        "iso6523-actorid-upis::0088:7300010000001",
    ],
)
def test_known_good_ids(pid: str) -> None:
    """Published real and example ids of each scheme (and an unchecked ICD) pass the check."""
    assert check(pid) is None


@pytest.mark.parametrize(
    ("pid", "words"),
    [
        ("0088:730001000000", "13 digits"),
        ("0088:7300010000002", "GLN check digit"),
        ("0002:55208131", "9 digits"),
        ("0002:552081318", "SIREN check digit"),
        ("0009:3560000004983a", "14 digits"),
        ("0009:35600000049838", "SIRET check digit"),
        ("0225:552081317_", "SIREN or SIREN_suffix"),
        ("0225:552081317_a b", "whitespace"),  # ParticipantId refuses it
        ("0225:552081318_x", "SIREN check digit"),
        ("9957:FR04552081317", "key does not match"),
        ("9957:DE03552081317", "FR, a 2-digit key"),
        ("9957:FRAB552081317", "FR, a 2-digit key"),
        ("0208:2203201340", "starts with 0 or 1"),
        ("0208:0203201341", "mod 97"),
        ("9925:0203201340", "BE and the enterprise number"),
        ("9925:BE203201340", "10 digits"),
        ("0192:974760674", "mod 11"),
        ("0007:5560360794", "Luhn"),
        ("0204:04011000-1234512345-07", "MOD 97-10"),
        ("0204:04011000_1234512345-06", "Leitweg-ID must be"),
        ("0204:1-06", "Leitweg-ID must be"),
        ("0242:pop000306", "6 digits"),
        ("0242:000306-ab", "6 digits"),
        ("88:7300010000001", "not an ISO 6523"),
    ],
)
def test_bad_ids_say_why(pid: str, words: str) -> None:
    """Each malformed or wrong-check-digit id fails with a reason naming the rule it breaks."""
    reason = check(pid)

    assert reason is not None and words in reason


def test_norwegian_bodies_without_a_check_digit_are_never_valid() -> None:
    """A Norwegian organisation number whose body has no possible mod-11 check digit fails with
    every final digit."""
    body = next(f"{n:08d}" for n in range(10**8) if ids.no_digit(f"{n:08d}") is None)

    assert all(check(ParticipantId("0192", body + d)) for d in "0123456789")
