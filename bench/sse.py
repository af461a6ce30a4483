"""What idle live-event streams cost: RSS and CPU of a read API holding 1,000 of them.

Starts `slotwise dev` (embedded stack, SQLite in a temporary directory; rate
limits off, since every stream here is one owner's) as a subprocess, makes one
business, measures the process's CPU over --seconds with no stream open, opens
--connections streams of `GET /v1/businesses/{id}/events` over raw sockets,
waits until each has its answer's first bytes, then measures the RSS growth and
the CPU over another --seconds while they sit idle (keep-alive comments every
15 s). CPU is read from /proc (user + system seconds of the server process).

    .venv/bin/python bench/sse.py [--connections 1000] [--seconds 30]

Prints the figures, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from domain.actor import Role
from infra.auth import issue_token

SECRET = "bench-secret-0123456789-0123456789-abcdef"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def idle_cpu(pid: int, seconds: float) -> float:
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - before


async def open_streams(port: int, path: str, token: str, count: int) -> list[asyncio.StreamWriter]:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()

    async def one() -> asyncio.StreamWriter:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"retry:"), 30)
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace")[:200])
        return writer

    writers: list[asyncio.StreamWriter] = []
    for start in range(0, count, 100):  # in waves: the listen backlog stays small
        writers += await asyncio.gather(*(one() for _ in range(min(100, count - start))))
    return writers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 2 * args.connections + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # the server inherits it
    write_port, read_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "SLOTWISE_JWT_SECRET": SECRET,
            "SLOTWISE_RATE_LIMIT_PER_TOKEN": "off",
            "SLOTWISE_RATE_LIMIT_PER_ADDRESS": "off",
        }
        command = [sys.executable, "-m", "infra.cli", "dev", "--data-dir", data]
        command += ["--write-port", str(write_port), "--read-port", str(read_port)]
        server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        try:
            report = measure(server.pid, write_port, read_port, args.connections, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"streams open:         {report['connections']}")
    print(f"RSS before / after:   {report['rss_before_mib']} / {report['rss_after_mib']} MiB")
    print(f"RSS per stream:       {report['rss_per_stream_kib']} KiB")
    print(f"CPU idle, no streams: {report['cpu_idle_seconds']} s over {args.seconds:g} s")
    print(f"CPU idle, streams:    {report['cpu_streams_seconds']} s over {args.seconds:g} s")
    print(json.dumps(report))


def measure(
    pid: int, write_port: int, read_port: int, count: int, seconds: float
) -> dict[str, float]:
    owner = issue_token(SECRET, "bench-owner", Role.OWNER)
    auth = {"Authorization": f"Bearer {owner}"}
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=10) as http:
        while True:
            try:
                http.get(f"http://127.0.0.1:{read_port}/health").raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        business = http.post(
            f"http://127.0.0.1:{write_port}/v1/businesses",
            json={"name": "Bench", "slug": "bench", "timezone": "Europe/Berlin"},
            headers=auth,
        ).json()
        token = business["consistency_token"]
        http.get(
            f"http://127.0.0.1:{read_port}/v1/businesses/{business['id']}",
            headers={"X-Consistency-Token": str(token)},
        ).raise_for_status()
    time.sleep(1.0)  # let the start-up settle before counting
    rss_before = rss_kib(pid)
    cpu_idle = idle_cpu(pid, seconds)
    path = f"/v1/businesses/{business['id']}/events"

    async def hold() -> tuple[int, float]:
        writers = await open_streams(read_port, path, owner, count)
        await asyncio.sleep(1.0)
        rss = rss_kib(pid)
        cpu = await asyncio.to_thread(idle_cpu, pid, seconds)
        for writer in writers:
            writer.close()
        return rss, cpu

    rss_after, cpu_streams = asyncio.run(hold())
    return {
        "connections": count,
        "seconds": seconds,
        "rss_before_mib": round(rss_before / 1024, 1),
        "rss_after_mib": round(rss_after / 1024, 1),
        "rss_per_stream_kib": round((rss_after - rss_before) / count, 1),
        "cpu_idle_seconds": round(cpu_idle, 3),
        "cpu_streams_seconds": round(cpu_streams, 3),
    }


if __name__ == "__main__":
    main()
