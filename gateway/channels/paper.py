"""The ``paper`` reception channel: the document is printed into the day's
print batch (``printing.PdfPrintChannel``), addressed to the postal address
the directory holds for the recipient, else to the buyer's address in the
document. Its final state is ``printed``; the print house's confirmation
later adds ``posted`` or ``returned``.
"""

from __future__ import annotations

from gateway.channels.base import Outcome, Parcel, Recipient
from gateway.channels.printing import PdfPrintChannel
from gateway.errors import InputError
from gateway.model import State


class PaperChannel:
    mode = "paper"

    def __init__(self, printer: PdfPrintChannel) -> None:
        self.printer = printer

    async def deliver(self, parcel: Parcel, recipient: Recipient) -> Outcome:
        try:
            done = await self.printer.deliver(
                recipient.id,
                parcel.meta.id,
                parcel.payload,
                now=parcel.now,
                address=recipient.address,
                name=recipient.name if recipient.address else "",
            )
        except InputError as exc:  # cannot happen for a validated document; say so if it does
            return Outcome.refused(f"it cannot be printed: {exc.message}")
        except OSError as exc:
            return Outcome.retry(f"could not write the print batch: {exc.strerror or exc}")
        return Outcome.delivered(
            f"printed, batch {done.batch}",
            {"batch": done.batch, "location": done.location},
            state=State.PRINTED,
        )
