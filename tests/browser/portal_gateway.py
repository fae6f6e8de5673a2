"""The gateway a browser test signs in to: one real ``gateway serve`` process
(tests.support) with a seller who sends through the sender API and a buyer
who receives in the portal, and a real SMTP server on loopback
(tests.builders.smtp) that the gateway's ``[channels.email]`` sends to, so the
test reads the sign-in links and notices from it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.cli.scaffold import gln
from tests import logwatch
from tests.builders import invoice, set_delivery, set_participant, smtp_server
from tests.builders.smtp import Mailbox
from tests.support import Network, cli, free_port, make_network

SELLER = f"0088:{gln('5730000401')}"
BUYER = f"0088:{gln('5730000402')}"
BUYER_NAME = "Maison Verlaine Hotellerie SARL"  # as the sample invoice names it
BUYER_EMAIL = "ap@verlaine.example"


@dataclass
class PortalGateway:
    net: Network
    box: Mailbox
    seller: str = SELLER
    buyer: str = BUYER
    buyer_name: str = BUYER_NAME
    buyer_email: str = BUYER_EMAIL

    @property
    def url(self) -> str:
        return self.net.url

    def send(self, number: str) -> dict[str, Any]:
        """Send an invoice numbered ``number`` from the seller to the buyer
        through the sender API; its status once delivered."""
        code, answer = self.net.submit(invoice(number, seller=self.seller, buyer=self.buyer))
        assert code == 202, answer
        final = self.net.wait_final(answer["id"])
        assert final["status"] == "delivered", final["history"]
        return final


@contextmanager
def portal_gateway(root: Path) -> Iterator[PortalGateway]:
    """A running gateway whose buyer receives in the portal (then by e-mail
    if it chooses so), e-mailing through a real SMTP server on loopback."""
    net = make_network(root, "alpha", participants=[SELLER, BUYER])
    # Names by hand: set_participant would drop the [[senders]] table's name too.
    text = net.config.read_text()
    text = text.replace('"alpha participant 1"', '"Atelier Bressand Quincaillerie SAS"')
    net.config.write_text(text.replace('"alpha participant 2"', f'"{BUYER_NAME}"'))
    set_participant(net.config, BUYER, email=BUYER_EMAIL, reception="portal")
    set_delivery(net.config, poll_seconds=0.05, initial_backoff_seconds=0.2)
    smtp_port = free_port()
    net.append(
        "[channels.email]\n"
        f'host = "127.0.0.1"\nport = {smtp_port}\ntls = "none"\n'
        'from = "invoices@alpha.example"\n'
        f'portal_url = "{net.url}/portal/"\n'
    )
    added = cli("recipients", "add", BUYER, "--config", str(net.config))
    assert added.returncode == 0, added.stderr
    logwatch.register(*(w for w in added.stdout.split() if w.startswith("rcp_")))
    with smtp_server(smtp_port) as box:
        net.start()
        try:
            yield PortalGateway(net, box)
        finally:
            net.stop()
