"""The Peppol AS4 profile, sans-IO: messages, SBDH envelopes, receipts and
errors to and from bytes. No sockets, no clock, no event loop: the aiohttp
adapters in ``gateway.transport.as4_client`` and ``as4_server`` do the I/O.

* ``outbound.build_request`` / ``inbound.read_request``: a UserMessage;
* ``receipt``: the signed receipt and ebMS error signals, and their checks;
* ``sbdh``, ``mime``, ``wssec``, ``payload``, ``message``: the layers.
"""
