"""Certificates and revocation, the pure part.

Loading and checking certificates, CRL and OCSP verdicts. Callers read the
bytes and pass ``now``; the fetching over HTTP is
``gateway.transport.revocation_client``.
"""
