"""No log line carries a token: what ``gateway serve`` writes when a request
cannot even be parsed. (The whole suite's logs are also searched for every
token it created: tests/logwatch.py.)"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.log import redact
from tests.support import make_network


def raw_status(port: int, request: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@pytest.mark.slow
def test_an_oversize_authorization_header_is_logged_without_the_token(tmp_path: Path) -> None:
    """A request with an oversize Authorization header gets 400 and is logged as http.bad_request
    without the token or a traceback."""
    net = make_network(tmp_path, "alpha", participants=[])
    net.start()
    try:
        token = net.token.encode()
        request = (
            b"POST /api/v1/documents HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"
            b"Authorization: Bearer " + token + b"A" * 9000 + b"\r\nContent-Length: 0\r\n\r\n"
        )
        assert raw_status(net.port, request) == 400
    finally:
        net.stop()
    log = net.log_path.read_text()
    assert '"http.bad_request"' in log and "LineTooLong" in log
    assert net.token[:12] not in log
    assert "Traceback" not in log


def test_anything_shaped_like_a_credential_is_scrubbed() -> None:
    """Bearer tokens, authorization values and private keys in a log line are replaced by
    [redacted] markers."""
    line = redact("b'Authorization: Bearer abc.DEF-123' and authorization=s3cret; bearer xyz")
    assert "abc.DEF" not in line and "s3cret" not in line and "xyz" not in line
    assert line.count("[redacted]") == 3
    pem = "key: -----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY----- done"
    assert redact(pem) == "key: [redacted private key] done"
