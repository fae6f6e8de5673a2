"""The PartnerStore contract for the partner directory, run against every
implementation (see conftest)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import Any

from gateway.cli.scaffold import gln
from gateway.model import ParticipantId, Partner
from gateway.store.base import PartnerStore


def pid(n: int) -> str:
    return str(ParticipantId("0088", gln(f"57{n:010d}")))


def partner(n: int, **changes: Any) -> Partner:
    base = Partner(
        id=pid(n),
        name=f"Partner {n}",
        network="north",
        reception="portal",
        email=f"ap{n}@example.com",
        address=(f"{n} Main Street", "0150 Oslo"),
        country="NO",
    )
    return replace(base, **changes)


async def test_partner_round_trips_every_field(store: PartnerStore) -> None:
    """A partner with non-ASCII text, empty fields and several document types and address lines
    reads back equal, as does an ordinary one; both are counted."""
    full = Partner(
        id="0002:552081317",
        name="Électricité de France — siège",
        network="",
        document_types=("urn:x::Invoice##a::2.1", "urn:x::CreditNote##a::2.1"),
        reception="paper",
        email="",
        address=("22-30 avenue de Wagram", "75008 Paris", "France"),
        country="FR",
        address_suspect="letter returned 2026-12-09 (inconnu), document d-1",
    )
    await store.put_partners([full, partner(1)])

    assert await store.get_partner(full.id) == full
    assert await store.get_partner(pid(1)) == partner(1)
    assert await store.count_partners() == 2


async def test_text_holding_separators_round_trips(store: PartnerStore) -> None:
    """Partners whose text holds the encoding's separators, its JSON marker, NUL bytes or empty
    values read back exactly as stored."""
    # The fast encoding joins fields with control characters: text that
    # holds them must still come back as it went in.
    odd = [
        Partner(id=pid(1), name="a\x1fb", address=("x\x1ey", "")),
        Partner(id=pid(2), name="\x02starts with a marker", document_types=("",)),
        Partner(id=pid(3), name="n", email="\x1e", address=("\x02[1]",)),
        Partner(id=pid(4), name="", network="", reception="", country=""),
        Partner(id=pid(5), name="nul\x00inside", address=("\x00",)),
    ]
    await store.put_partners(odd)

    assert [await store.get_partner(p.id) for p in odd] == odd


async def test_unknown_partner_and_empty_directory(store: PartnerStore) -> None:
    """After an empty batch the directory is empty: an unknown partner reads
    as None, nothing is listed or counted."""
    await store.put_partners([])

    assert await store.get_partner(pid(1)) is None
    assert await store.list_partners() == []
    assert await store.count_partners() == 0


async def test_put_replaces_a_partner_with_the_same_id(store: PartnerStore) -> None:
    """Putting a partner whose id is stored replaces it; other partners are untouched and the count
    stays the same."""
    await store.put_partners([partner(1), partner(2)])

    moved = partner(1, network="south", name="Renamed")
    await store.put_partners([moved])

    assert await store.get_partner(pid(1)) == moved
    assert await store.get_partner(pid(2)) == partner(2)
    assert await store.count_partners() == 2


async def test_a_repeated_id_in_one_call_keeps_the_last(store: PartnerStore) -> None:
    """When one batch holds the same id twice, the last one is stored and it is counted once."""
    await store.put_partners([partner(1, name="first"), partner(2), partner(1, name="last")])

    found = await store.get_partner(pid(1))
    assert found is not None and found.name == "last"
    assert await store.count_partners() == 2


async def test_list_pages_through_partners_in_id_order(store: PartnerStore) -> None:
    """Listing pages of 100 after the last id seen walks all 250 partners in id order (100, 100,
    50), whatever order they were put in; a page may start after any listed id; limit 0 lists
    nothing."""
    partners = [partner(n) for n in range(250)]
    random.Random(1).shuffle(partners)
    await store.put_partners(partners[:120])
    await store.put_partners(partners[120:])

    pages, after = [], ""
    while page := await store.list_partners(after=after, limit=100):
        pages.append(page)
        after = page[-1].id

    assert [len(p) for p in pages] == [100, 100, 50]
    assert [p for page in pages for p in page] == sorted(partners, key=lambda p: p.id)
    assert await store.list_partners(after=pages[1][-1].id, limit=3) == pages[2][:3]
    assert await store.list_partners(limit=0) == []


async def test_list_after_an_id_that_is_not_stored(store: PartnerStore) -> None:
    """Listing after an id that is not stored starts at the next stored id; after an id beyond the
    last one, nothing is listed."""
    partners = sorted((partner(n) for n in range(10)), key=lambda p: p.id)
    await store.put_partners(partners)
    between = partners[4].id + "0"  # sorts after partners[4], before partners[5]

    assert await store.list_partners(after=between, limit=2) == partners[5:7]
    assert await store.list_partners(after="9999:zzz") == []


async def test_ten_thousand_partners_in_one_batch(store: PartnerStore) -> None:
    """A batch of 10 000 partners in random order is stored whole: counted, found, listed by id."""
    partners = [partner(n) for n in range(10_000)]
    random.Random(2).shuffle(partners)

    await store.put_partners(partners)

    assert await store.count_partners() == 10_000
    for n in (0, 4_999, 9_999):
        assert await store.get_partner(pid(n)) == partner(n)
    listed: list[Partner] = []
    while page := await store.list_partners(after=listed[-1].id if listed else "", limit=1000):
        listed += page
    assert [p.id for p in listed] == sorted(p.id for p in partners)


async def test_readers_see_a_batch_whole_or_not_at_all(store: PartnerStore) -> None:
    """While a batch of 5 000 partners is being put, reads taken until the put is done (at least
    two) count 0 or 5 000, never a part; and once a read saw the batch (its count, or its last
    partner), no later read misses it."""
    partners = [partner(n) for n in range(5_000)]
    last = partners[-1].id
    put = asyncio.create_task(store.put_partners(partners))
    counts: list[int] = []
    there: list[bool] = []  # per read, in order: did it see the batch?
    while not put.done() or len(counts) < 2:
        counts.append(await store.count_partners())
        there.append(counts[-1] == 5_000)
        there.append(await store.get_partner(last) is not None)
        await asyncio.sleep(0)
    await put

    assert set(counts) <= {0, 5_000}, counts
    first = there.index(True) if True in there else len(there)
    assert all(there[first:]), there
    assert await store.count_partners() == 5_000
