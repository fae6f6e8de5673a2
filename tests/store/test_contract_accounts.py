"""Recipient accounts on both stores: found by token hash while live,
never after revocation, and telling whether anyone reads a participant."""

from __future__ import annotations

import pytest

from gateway.errors import StoreError
from gateway.model import RecipientAccount
from gateway.store.base import Store
from tests.store.builders import T0

BUYER = "0088:7300010000001"
OTHER = "0088:7300010000002"


def account(name: str, token: str, *participants: str) -> RecipientAccount:
    return RecipientAccount(name, token, participants or (BUYER,), T0)


async def test_an_account_is_found_by_its_token_hash_with_what_it_reads(store: Store) -> None:
    """An account added is found by its token hash, with its participants and creation time."""
    await store.add_recipient_account(account("buyer", "h1", BUYER, OTHER))
    found = await store.recipient_account_for_token_hash("h1")
    assert found == RecipientAccount("buyer", "h1", (BUYER, OTHER), T0, False)
    assert await store.recipient_account_for_token_hash("h2") is None


async def test_a_revoked_account_reads_nothing_but_stays_listed(store: Store) -> None:
    """After revocation the token finds no account and the participant has no reader,
    while the list still shows the account as revoked; revoking twice says no."""
    await store.add_recipient_account(account("buyer", "h1"))
    assert await store.has_recipient_account(BUYER)
    assert await store.revoke_recipient_account("buyer") is True
    assert await store.recipient_account_for_token_hash("h1") is None
    assert not await store.has_recipient_account(BUYER)
    assert [(a.name, a.revoked) for a in await store.list_recipient_accounts()] == [("buyer", True)]
    assert await store.revoke_recipient_account("buyer") is False
    assert await store.revoke_recipient_account("nobody") is False


async def test_a_participant_has_a_reader_while_any_live_account_reads_it(store: Store) -> None:
    """Two accounts read the same participant: revoking one leaves it readable."""
    assert not await store.has_recipient_account(BUYER)
    await store.add_recipient_account(account("a", "h1"))
    await store.add_recipient_account(account("b", "h2", BUYER, OTHER))
    await store.revoke_recipient_account("a")
    assert await store.has_recipient_account(BUYER)
    assert await store.has_recipient_account(OTHER)
    assert [a.name for a in await store.list_recipient_accounts()] == ["a", "b"]


async def test_a_taken_name_or_token_is_refused_and_nothing_is_written(store: Store) -> None:
    """A second account under a taken name, or with a taken token hash, is refused
    naming which, and the participant it names gains no reader."""
    await store.add_recipient_account(account("buyer", "h1"))
    with pytest.raises(StoreError, match="name"):
        await store.add_recipient_account(account("buyer", "h2", OTHER))
    with pytest.raises(StoreError, match="token"):
        await store.add_recipient_account(account("other", "h1", OTHER))
    assert not await store.has_recipient_account(OTHER)
    assert [a.name for a in await store.list_recipient_accounts()] == ["buyer"]
