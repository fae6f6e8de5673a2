"""The partner encodings shared by the stores give back any Partner they get."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.model import Partner
from gateway.store._codec import (
    dump_partner,
    dump_values,
    load_partner,
    load_values,
    partner_from_row,
    partner_row,
)

# Plenty of the separators and the JSON marker, so the fallbacks are exercised.
text = st.text(st.sampled_from('ab;:[]"\\\x1e\x1f\x02é ') | st.characters(), max_size=12)
values = st.lists(text, max_size=4).map(tuple)
partners = st.builds(
    Partner,
    id=text,
    name=text,
    network=text,
    document_types=values,
    reception=text,
    email=text,
    address=values,
    country=text,
    address_suspect=text,
)


@given(values)
def test_values_round_trip(vals: tuple[str, ...]) -> None:
    """Any tuple of strings, separators and markers included, reads back as written."""
    assert load_values(dump_values(vals)) == vals


@given(partners)
def test_partner_round_trips_as_a_row(p: Partner) -> None:
    """Any partner, separators and markers included, reads back equal from its SQLite row form."""
    assert partner_from_row(partner_row(p)) == p


@given(partners)
def test_partner_round_trips_as_a_record(p: Partner) -> None:
    """Any partner, separators and markers included, reads back equal from its Redis record form."""
    assert load_partner(p.id, dump_partner(p)) == p


def test_ordinary_partners_take_the_fast_form() -> None:
    """A partner without separator characters is encoded in the fast form, not the JSON fallback:
    no JSON marker, address lines joined by the record separator."""
    p = Partner("0088:7300010000001", "Acme", "north", ("a", "b"), "network", "", ("l1", "l2"))

    assert not dump_partner(p).startswith("\x02")
    assert dump_values(p.address) == "l1\x1el2"


def test_a_record_written_before_address_suspect_reads_as_not_suspect() -> None:
    """A Redis partner record of the seven fields an older version wrote reads back whole,
    its address not suspect."""
    old = "\x1f".join(("Acme", "north", "", "network", "", "l1\x1el2", "NO"))
    assert load_partner("0088:7300010000001", old) == Partner(
        "0088:7300010000001", "Acme", "north", (), "network", "", ("l1", "l2"), "NO"
    )
