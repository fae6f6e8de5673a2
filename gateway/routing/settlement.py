"""The month's settlement with each peer network: the documents exchanged
under each agreement (the ledger's counts), the fees due each way under its
financial terms, and who owes whom. `gateway settlement` prints it; the
portal's admin view shows it as the month's traffic."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from gateway.config.settings import Settings
from gateway.model import ExchangeCount
from gateway.routing.agreements import fees_due


def settlement(
    settings: Settings, month: str, counts: Sequence[ExchangeCount]
) -> list[dict[str, Any]]:
    """Per agreement: documents by way and type, the fees due each way, the balance."""
    out = []
    agreements = {(c.peer, c.agreement) for c in counts}
    agreements |= {(p.name, p.agreement.id) for p in settings.peers}
    for peer_name, agreement_id in sorted(agreements):
        mine = [c for c in counts if (c.peer, c.agreement) == (peer_name, agreement_id)]
        peer = settings.peer_named(peer_name)
        fees = peer.agreement.fees if peer and peer.agreement.id == agreement_id else None
        row: dict[str, Any] = {"agreement": agreement_id, "peer": peer_name, "month": month}
        row["documents"] = [
            {"way": c.way, "document_type": c.document_type, "count": c.documents} for c in mine
        ]
        balance = Decimal(0)  # what the peer owes us; negative: what we owe
        dues = []
        for way in ("send", "receive"):
            n = sum(c.documents for c in mine if c.way == way)
            if fees is None:
                continue
            due = fees_due(fees, documents=n, way=way, peer=peer_name)
            balance += due.amount if due.payee == "us" else -due.amount
            dues.append(
                {
                    "way": way,
                    "documents": n,
                    "billable": due.billable,
                    "amount": str(due.amount),
                    "payer": due.payer,
                    "payee": due.payee,
                }
            )
        row["fees"] = dues
        row["currency"] = fees.currency if fees else None
        if fees is None:
            row["note"] = "the agreement is no longer in the configuration: fees not computed"
        elif balance > 0:
            row["balance"] = f"{peer_name} owes us {balance} {fees.currency}"
        elif balance < 0:
            row["balance"] = f"we owe {peer_name} {-balance} {fees.currency}"
        else:
            row["balance"] = "nothing is owed"
        out.append(row)
    return out
