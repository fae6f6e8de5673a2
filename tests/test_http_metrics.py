"""What /metrics tells an operator about HTTP answers and the running build."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient


def _sample(directory: Path) -> bytes:
    return (directory / "sample-invoice.xml").read_bytes()


async def _metrics(client: TestClient) -> str:
    return await (await client.get("/metrics")).text()


async def test_refusals_and_acceptances_are_counted_by_route_pattern_and_status(api: Any) -> None:
    """A 401, a 415 and a 202 on the sender API each appear under the route's pattern."""
    client = api.client
    assert (await client.post("/api/v1/documents", data=b"<x/>")).status == 401
    latin1 = b'<?xml version="1.0" encoding="ISO-8859-1"?><Invoice/>'
    assert (await client.post("/api/v1/documents", data=latin1, headers=api.auth())).status == 415
    ok = await client.post("/api/v1/documents", data=_sample(api.directory), headers=api.auth())
    assert ok.status == 202
    doc = (await ok.json())["id"]
    assert (await client.get(f"/api/v1/documents/{doc}", headers=api.auth())).status == 200
    text = await _metrics(client)
    for status in ("401", "415", "202"):
        line = (
            'gateway_http_requests_total{method="POST",route="/api/v1/documents",'
            f'status="{status}"}} 1.0'
        )
        assert line in text, status
    # the document's id is not a label: the pattern is
    assert 'route="/api/v1/documents/{id}",status="200"' in text
    assert doc not in text


async def test_request_durations_are_a_histogram_per_route(api: Any) -> None:
    """Each answered request adds one observation to its route's duration histogram."""
    for _ in range(3):
        assert (await api.client.get("/healthz")).status == 200
    text = await _metrics(api.client)
    count = re.search(
        r'gateway_http_request_duration_seconds_count\{method="GET",route="/healthz"\} (\S+)', text
    )
    assert count is not None and float(count.group(1)) == 3.0
    bucket = 'duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}'
    assert bucket in text


async def test_a_path_that_matches_no_route_is_counted_as_unmatched(api: Any) -> None:
    """Scanners' random paths do not create a series each."""
    assert (await api.client.get("/wp-admin/setup.php")).status == 404
    text = await _metrics(api.client)
    assert 'gateway_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert "wp-admin" not in text


async def test_build_info_names_the_version_and_how_the_rules_run(api: Any) -> None:
    """gateway_build_info names the package version, the rules release and whether the rules
    run compiled."""
    text = await _metrics(api.client)
    info = re.search(r"gateway_build_info\{([^}]*)\} 1\.0", text)
    assert info is not None, text
    labels = dict(re.findall(r'(\w+)="([^"]*)"', info.group(1)))
    assert labels["rules_build"] in ("compiled", "python")
    assert labels["rules_release"] == "2026.5"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*|unknown", labels["version"])


async def test_no_created_series_beside_counters(api: Any) -> None:
    """Counters and histograms come without their `_created` twin series."""
    await api.client.get("/healthz")
    assert "_created" not in await _metrics(api.client)
