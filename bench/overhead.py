"""Per-request overhead of ``RobawsClient`` over a raw ``requests.Session``, side by side.

Both list one page of clients (``GET /api/v2/clients?page=0&size=100``, HTTP Basic, JSON decoded) from a
minimal local HTTP server that answers every request with the same fixed JSON page (not the sandbox: its
own work would hide ours). The server runs in a child process, so it does not share the client's
interpreter. Short rounds alternate between them so machine noise hits all alike; the figures are the
medians of the rounds. The client-side limit is off (the ratio's row), then on but never reached: what
booking a slot costs, without any wait. Besides the wall time it prints the client process's CPU time per
request, which a loaded machine's scheduling blurs less (the server's work is in the other process).

    python bench/overhead.py [--requests 500] [--rounds 21]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import time

import requests

from _support import print_table

PAGE = json.dumps(
    {
        "items": [{"id": 1000 + n, "name": f"Client {n}", "email": f"c{n}@example.com"} for n in range(10)],
        "totalPages": 1,
        "totalItems": 10,
        "page": 0,
        "size": 100,
    }
).encode()
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(PAGE)).encode()
    + b"\r\nX-RateLimit-Remaining: 14\r\nX-RateLimit-Daily-Remaining: 9000\r\nX-RateLimit-Daily-Limit: 10000\r\n\r\n"
    + PAGE
)


class _Answer(asyncio.Protocol):
    """Answers each complete request head (the benchmark sends GETs without a body) with the fixed page."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.transport.write(ANSWER)  # type: ignore[attr-defined]


def _serve(sock: socket.socket) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Answer, sock=sock)
        await server.serve_forever()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    from Connectors import RobawsClient

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(sock,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        session = requests.Session()
        session.auth = ("bench", "bench-password")
        raw_url = f"{url}/api/v2/clients?page=0&size=100"
        client = RobawsClient(url, username="bench", password="bench-password", rate_limit="off", daily_quota="none")
        # The same with the client-side limit on, set far above what the loop reaches: booking costs, waits do not.
        limited = RobawsClient(url, username="bench", password="bench-password", rate_limit="1000000/s", burst=10**6)

        def raw() -> None:
            response = session.get(raw_url)
            response.raise_for_status()
            assert len(response.json()["items"]) == 10

        def ours() -> None:
            assert len(list(client.list("clients"))) == 10

        def ours_limited() -> None:
            assert len(list(limited.list("clients"))) == 10

        runs = {"raw requests.Session": raw, "RobawsClient.list": ours, "  with the limit on": ours_limited}
        wall: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        for run in runs.values():
            for _ in range(200):
                run()  # warm up: connections, imports, caches
        for _ in range(args.rounds):
            for name, run in runs.items():
                started, used = time.perf_counter(), time.process_time()
                for _ in range(args.requests):
                    run()
                wall[name].append((time.perf_counter() - started) / args.requests)
                cpu[name].append((time.process_time() - used) / args.requests)
    finally:
        server.terminate()
    rows = [
        [name, args.requests * args.rounds, statistics.median(wall[name]) * 1e6, statistics.median(cpu[name]) * 1e6]
        for name in runs
    ]
    print_table(["client", "requests", "median µs/request (wall)", "client CPU µs/request"], rows)
    (_, _, raw_wall, raw_cpu), (_, _, our_wall, our_cpu), _limited = rows
    print(f"wall: raw {raw_wall:.1f} µs, ours {our_wall:.1f} µs, ratio x{our_wall / raw_wall:.3f}")
    print(f"client CPU: raw {raw_cpu:.1f} µs, ours {our_cpu:.1f} µs, ratio x{our_cpu / raw_cpu:.3f}")


if __name__ == "__main__":
    main()
