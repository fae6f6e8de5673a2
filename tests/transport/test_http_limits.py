"""Bounded request bodies and connections, against a real `gateway serve`
on loopback: the in-flight budget, read timeouts, connections per address
and the spool file (issue 9, item 1)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli.scaffold import gln
from gateway.model import DocumentKind, ParticipantId
from gateway.samples import sample_document
from tests.support import Network, make_network

SELLER, BUYER = f"0088:{gln('5740000001')}", f"0088:{gln('5740000002')}"
MIB = 1024 * 1024


def _invoice(business_id: str = "INV-1") -> bytes:
    return sample_document(
        DocumentKind.INVOICE,
        seller=ParticipantId.parse(SELLER),
        buyer=ParticipantId.parse(BUYER),
        business_id=business_id,
    )


@pytest.fixture
def gateway(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Network]:
    net = make_network(tmp_path, "limits", participants=[SELLER, BUYER])
    net.append(request.param)
    net.start()
    try:
        yield net
    finally:
        net.stop()


def _connect(net: Network, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", net.port))
    sock.settimeout(30)
    return sock


def _head(path: str, length: int | None, *, token: str = "", ctype: str = "") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: localhost"]
    chunked = "Transfer-Encoding: chunked"
    lines.append(f"Content-Length: {length}" if length is not None else chunked)
    lines.append(f"Content-Type: {ctype or 'application/xml'}")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one response (the connection may close)."""
    data = b""
    while b"\r\n\r\n" not in data:
        got = sock.recv(65536)
        if not got:
            raise ConnectionError(f"closed without an answer: {data!r}")
        data += got
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        got = sock.recv(65536)
        if not got:
            break
        body += got
    return int(lines[0].split()[1]), headers, body


def _closed_by_server(sock: socket.socket, trickle: bytes, deadline: float = 20) -> bool:
    """Send ``trickle`` a byte at a time, slowly; True once the server closes."""
    sock.settimeout(0.3)
    end = time.monotonic() + deadline
    for i in range(len(trickle)):
        if time.monotonic() > end:
            return False
        try:
            sock.sendall(trickle[i : i + 1])
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def _spool_fds(net: Network, spool: Path) -> list[str]:
    assert net.proc is not None
    fd_dir = Path(f"/proc/{net.proc.pid}/fd")
    out = []
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(f"{spool}/"):
            out.append(target)
    return out


def _wait_for(check: object, timeout: float = 20) -> None:
    assert callable(check)
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


BUDGET = "[http]\ninflight_bytes = 2097152\ninflight_wait_seconds = 0.5"


@pytest.mark.parametrize("gateway", [BUDGET], indirect=True)
def test_flood_beyond_the_budget_is_503_and_a_small_request_succeeds_after(
    gateway: Network,
) -> None:
    """Uploads beyond the in-flight byte budget (sized or chunked) get 503 with Retry-After on
    /as4 and the API; once the holder finishes, a new document is accepted."""
    # One upload holds most of the budget: its headers and part of its body are in.
    holder = _connect(gateway)
    holder.sendall(_head("/as4", 3 * MIB // 2, ctype="multipart/related") + b"x" * 1000)
    time.sleep(0.3)
    for path, token in (("/as4", ""), ("/api/v1/documents", gateway.token)):
        sock = _connect(gateway)
        sock.sendall(_head(path, MIB, token=token) + b"y" * MIB)
        status, headers, body = _answer(sock)
        sock.close()
        assert status == 503, (path, status, body[:200])
        assert int(headers["retry-after"]) >= 1
        if path != "/as4":
            assert b'"busy"' in body
    # A chunked body reserves as it arrives, and is refused once it would not fit.
    sock = _connect(gateway)
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"c" * 64 * 1024)
    sock.sendall(_head("/api/v1/documents", None, token=gateway.token) + chunk * 16)
    status, headers, _ = _answer(sock)
    sock.close()
    assert status == 503 and "retry-after" in headers
    # The holder finishes: its bytes are returned, and a new document gets in.
    holder.sendall(b"x" * (3 * MIB // 2 - 1000))
    status, _, _ = _answer(holder)
    holder.close()
    assert status != 503
    code, answer = gateway.submit(_invoice())
    assert code == 202, answer


TIMEOUTS = "[http]\nheader_timeout_seconds = 1\nbody_timeout_seconds = 1"


@pytest.mark.parametrize("gateway", [TIMEOUTS], indirect=True)
def test_slow_headers_and_slow_bodies_are_closed_by_the_server(gateway: Network) -> None:
    """A client trickling headers, an API body or an AS4 body past the timeouts is disconnected,
    and other submissions still get 202."""
    slow_head = _connect(gateway)
    slow_head.sendall(b"POST /as4 HTTP/1.1\r\nHost: x\r\n")
    assert _closed_by_server(slow_head, b"X-Padding: " + b"a" * 200)
    slow_body = _connect(gateway)
    slow_body.sendall(_head("/api/v1/documents", 1000, token=gateway.token))
    assert _closed_by_server(slow_body, b"<" * 1000)
    slow_as4 = _connect(gateway)
    slow_as4.sendall(_head("/as4", 1000, ctype="multipart/related"))
    assert _closed_by_server(slow_as4, b"-" * 1000)
    code, _ = gateway.submit(_invoice())
    assert code == 202


PER_ADDRESS = "[http]\nmax_connections_per_address = 3\nheader_timeout_seconds = 60"


@pytest.mark.parametrize("gateway", [PER_ADDRESS], indirect=True)
def test_connections_past_the_limit_per_address_are_refused(gateway: Network) -> None:
    """A fourth connection from one address is refused while another address is served, and once
    one closes the address is served again."""
    idle = [_connect(gateway) for _ in range(3)]
    time.sleep(0.3)
    extra = _connect(gateway)
    try:
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, _ = _answer(extra)
    except OSError:
        status = 0  # closed before or while answering: refused all the same
    extra.close()
    assert status in (0, 503)
    # Another client address is served meanwhile (all of 127/8 is loopback).
    other = _connect(gateway, source="127.0.0.2")
    other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert _answer(other)[0] == 200
    other.close()
    idle.pop().close()
    time.sleep(0.3)
    again = _connect(gateway)
    again.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert _answer(again)[0] == 200
    for sock in [again, *idle]:
        sock.close()


def _spool_config(tmp_path: Path) -> str:
    spool = tmp_path / "spool"
    spool.mkdir()
    return f'[http]\nspool_threshold_bytes = 65536\nspool_dir = "{spool}"'


@pytest.fixture
def spooling(tmp_path: Path) -> Iterator[tuple[Network, Path]]:
    net = make_network(tmp_path, "spooler", participants=[SELLER, BUYER])
    net.append(_spool_config(tmp_path))
    net.start()
    try:
        yield net, tmp_path / "spool"
    finally:
        net.stop()


def _half_sent(net: Network, path: str, body: bytes, spool: Path) -> socket.socket:
    """A connection that has sent half of ``body``, spooled by the server."""
    sock = _connect(net)
    ctype = "multipart/related" if path == "/as4" else "application/xml"
    sock.sendall(_head(path, len(body), token=net.token, ctype=ctype) + body[: len(body) // 2])
    _wait_for(lambda: _spool_fds(net, spool))
    return sock


def test_a_large_body_leaves_no_spool_file_behind(spooling: tuple[Network, Path]) -> None:
    """A body spooled to disk leaves no spool file whether it is accepted, refused, or abandoned
    mid-upload, and the server keeps running."""
    net, spool = spooling
    from tests.validation.docs import attach

    large = attach(_invoice("INV-LARGE"), 2 * MIB)
    # Accepted: the document comes back whole from the spool.
    sock = _half_sent(net, "/api/v1/documents", large, spool)
    sock.sendall(large[len(large) // 2 :])
    assert _answer(sock)[0] == 202
    sock.close()
    _wait_for(lambda: not _spool_fds(net, spool))
    # Refused (not an AS4 message) after the whole body was spooled.
    sock = _half_sent(net, "/as4", b"z" * 2 * MIB, spool)
    sock.sendall(b"z" * MIB)
    assert _answer(sock)[0] in (400, 415)
    sock.close()
    _wait_for(lambda: not _spool_fds(net, spool))
    # The client goes away in the middle of its upload.
    sock = _half_sent(net, "/api/v1/documents", large, spool)
    sock.close()
    _wait_for(lambda: not _spool_fds(net, spool))
    assert list(spool.iterdir()) == []
    assert net.proc is not None and net.proc.poll() is None
