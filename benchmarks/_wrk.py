"""Load from wrk (C, from Debian's `wrk` package) instead of a Python client,
so the load generator takes little of the two cores the gateway runs on.

``run(url, requests, ...)`` posts the given (headers, body) pairs in order,
each once (or the single one over and over), and returns the figures wrk's
`done` hook reports.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_LUA = """
local dir, n, cycle = "%(dir)s", %(n)d, %(cycle)s
local bodies, heads = {}, {}
local i = 0
init = function(args)
  for k = 1, n do
    local f = io.open(dir .. "/" .. k .. ".body", "rb"); bodies[k] = f:read("*a"); f:close()
    local h = io.open(dir .. "/" .. k .. ".head", "rb"); heads[k] = h:read("*a"); h:close()
  end
end
request = function()
  i = i + 1
  if i > n then
    if cycle then i = 1 else wrk.thread:stop(); i = n end
  end
  local headers = {}
  for line in heads[i]:gmatch("[^\\n]+") do
    local k, v = line:match("^([^:]+): (.*)$"); headers[k] = v
  end
  return wrk.format("POST", nil, headers, bodies[i])
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "errors": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration / 1e6, bad,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Figures:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def add_options(p: argparse.ArgumentParser) -> None:
    """The options every HTTP load benchmark takes: how the gateway runs, what loads it."""
    p.add_argument("--workers", type=int, default=1, help="gateway processes serving the port")
    p.add_argument(
        "--validation-processes",
        type=int,
        default=0,
        help="[validation] processes: validate beside the serving process",
    )
    p.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk (C, takes little CPU) when installed, else aiohttp",
    )


def client(args: argparse.Namespace) -> str:
    chosen: str = args.client
    if chosen == "auto":
        return "wrk" if available() else "python"
    return chosen


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    url: str,
    requests: list[tuple[dict[str, str], bytes]],
    *,
    connections: int,
    seconds: float,
    cycle: bool,
) -> Figures:
    with tempfile.TemporaryDirectory(prefix="gw-wrk-") as tmp:
        d = Path(tmp)
        for k, (headers, body) in enumerate(requests, 1):
            (d / f"{k}.body").write_bytes(body)
            head = "".join(f"{name}: {value}\n" for name, value in headers.items())
            (d / f"{k}.head").write_text(head)
        script = d / "post.lua"
        script.write_text(_LUA % {"dir": d, "n": len(requests), "cycle": str(cycle).lower()})
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 120,
        ).stdout
    line = next(ln for ln in reversed(out.splitlines()) if ln.startswith("{"))
    data = json.loads(line)
    return Figures(
        data["requests"],
        data["seconds"],
        data["errors"],
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
    )
