"""Collection cycle time and bytes, 200 feed sources on a slow local server.

Run: ``.venv/bin/python benchmarks/bench_collect.py [--sources 200] [--latency 0.1]``

A local HTTP server adds ``latency`` seconds to every answer and serves each
source its own ~20 kB RSS feed with an ETag. In one process it reports:
- one full ``run_once`` cycle with ``http.concurrency`` 8 against the ideal
  (sources × latency ÷ concurrency) and against a sequential baseline
  (concurrency 1);
- the bytes received by a second cycle where nothing changed (304s) against the
  first (target: ≥ 90 % fewer).

All sources share one host, so ``per_host_delay`` is 0 here (with the default
1 s, veille would rightly space the 200 requests to one host a second apart).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from veille.app import build_app, read_config  # noqa: E402


def feed(number: int) -> bytes:
    items = "".join(
        f"<item><title>Article {number}-{i}</title><link>https://site{number}.test/{i}</link>"
        f"<description>{'Texte sans rapport avec le sujet. ' * 12}"
        f"{'Le Cégep de Drummondville annonce un projet.' if i == 0 else ''}</description>"
        "</item>"
        for i in range(30)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Source {number}</title>{items}</channel></rss>"
    ).encode()


def serve(latency: float, count: int) -> ThreadingHTTPServer:
    bodies = {f"/feed/{n}.xml": feed(n) for n in range(count)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body in one write (no Nagle/delayed-ACK stall)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:  # noqa: N802
            time.sleep(latency)
            body = bodies.get(self.path)
            etag = f'"{hash(self.path) & 0xFFFF:x}"'
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_config(folder: Path, base: str, count: int, concurrency: int) -> Path:
    sources = "\n".join(
        f"  - {{name: Source {n}, type: feed, url: '{base}/feed/{n}.xml', every: 1h}}"
        for n in range(count)
    )
    path = folder / "config.yaml"
    path.write_text(
        "brand:\n  name: Cégep de Drummondville\n"
        f"sources:\n{sources}\n"
        "digest:\n  to: [c@cegep.example]\n  from: v@cegep.example\n  at: '23:59'\n"
        "storage:\n  url: sqlite:///veille.db\n"
        f"http:\n  concurrency: {concurrency}\n  per_host_delay: 0s\n  timeout: 30s\n",
        encoding="utf-8",
    )
    return path


def cycle(folder: Path, base: str, count: int, concurrency: int) -> tuple[float, int, float, int]:
    """Two cycles in a fresh store: (first seconds, first bytes, second seconds, second bytes)."""
    config = read_config(write_config(folder, base, count, concurrency))
    app = build_app(config)
    results = []
    for _ in range(2):
        received = app.client.bytes_received
        started = time.perf_counter()
        report = app.run(force_all=True)
        assert not report.failed_sources, report.failed_sources[:3]
        results.append((time.perf_counter() - started, app.client.bytes_received - received))
    return results[0][0], results[0][1], results[1][0], results[1][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added per answer")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    server = serve(args.latency, args.sources)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
            first, first_bytes, second, second_bytes = cycle(
                Path(one), base, args.sources, args.concurrency
            )
            sequential, _, _, _ = cycle(Path(two), base, args.sources, 1)
    finally:
        server.shutdown()
    ideal = args.sources * args.latency / args.concurrency
    print(
        f"{args.sources} sources, {args.latency * 1000:.0f} ms added per answer, "
        f"concurrency {args.concurrency}"
    )
    print(
        f"cycle (veille):          {first:6.2f} s   ideal {ideal:.2f} s   "
        f"ratio {first / ideal:.2f} (target <= 1.5)"
    )
    print(
        f"sequential baseline:     {sequential:6.2f} s   veille is {sequential / first:.1f}x faster"
    )
    print(f"bytes, first cycle:      {first_bytes:,}")
    print(
        f"bytes, unchanged cycle:  {second_bytes:,}   "
        f"{100 * (1 - second_bytes / first_bytes):.1f} % fewer (target >= 90 %), "
        f"{second:.2f} s"
    )


if __name__ == "__main__":
    main()
