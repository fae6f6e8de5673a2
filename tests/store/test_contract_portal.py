"""The PortalStore contract, run against every implementation (see conftest):
portal sessions expire by the caller's clock, a sign-in link's nonce is used
once, and a company's reception choices are kept newest first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from gateway.model.portal import PortalChoice, PortalSession
from gateway.store.base import PortalStore
from tests.store.builders import T0

PID = "0208:0123456789"


def _session(sid: str = "a" * 64, participant: str = PID) -> PortalSession:
    return PortalSession(sid, participant, T0, T0 + timedelta(hours=8))


async def test_session_reads_back_until_it_expires(store: PortalStore) -> None:
    """A session reads back with its company until its expiry, and is gone from then on."""
    await store.put_portal_session(_session())

    found = await store.portal_session("a" * 64, now=T0 + timedelta(hours=1))
    assert found == _session()
    almost = T0 + timedelta(hours=8) - timedelta(microseconds=1)
    assert await store.portal_session("a" * 64, now=almost) is not None
    assert await store.portal_session("a" * 64, now=T0 + timedelta(hours=8)) is None
    assert await store.portal_session("b" * 64, now=T0) is None


async def test_deleted_session_signs_nobody_in(store: PortalStore) -> None:
    """Signing out deletes the session at once; deleting it again says there was none."""
    await store.put_portal_session(_session())

    assert await store.delete_portal_session("a" * 64) is True
    assert await store.portal_session("a" * 64, now=T0) is None
    assert await store.delete_portal_session("a" * 64) is False


async def test_link_nonce_is_used_once_even_under_a_race(store: PortalStore) -> None:
    """Of many uses of one sign-in link at the same moment exactly one succeeds; another link's
    nonce is separate."""
    until = T0 + timedelta(minutes=15)
    results = await asyncio.gather(
        *(store.use_link_nonce("n1", expires_at=until, now=T0) for _ in range(10))
    )

    assert sorted(results) == [False] * 9 + [True]
    assert await store.use_link_nonce("n1", expires_at=until, now=T0) is False
    assert await store.use_link_nonce("n2", expires_at=until, now=T0) is True


async def test_choices_are_kept_newest_first_per_company(store: PortalStore) -> None:
    """A company's newest reception choice is the one in force; its history lists every change,
    newest first; another company's choices are separate, and a company with none reads None."""
    first = PortalChoice(PID, ("portal",), "ap@example.com", ("1 rue A", "75001 Paris"), T0)
    second = PortalChoice(PID, ("email", "paper"), "new@example.com", (), T0 + timedelta(days=1))
    other = PortalChoice("0208:999", ("paper",), "", ("Main St 1",), T0)
    for choice in (first, other, second):
        await store.put_portal_choice(choice)

    assert await store.portal_choice(PID) == second
    assert await store.portal_choices(PID) == [second, first]
    assert await store.portal_choices(PID, limit=1) == [second]
    assert await store.portal_choice("0208:999") == other
    assert await store.portal_choice("0208:nobody") is None
    assert await store.portal_choices("0208:nobody") == []
