"""``veille demo``: bundled sample feeds served on 127.0.0.1 for an offline tour."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

DEMO_DATA = "demo_data"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@contextlib.contextmanager
def serve_demo_data() -> Iterator[tuple[str, Path]]:
    """Serve the sample feeds; yields (base URL, folder of the samples)."""
    with resources.as_file(resources.files("veille") / DEMO_DATA) as folder:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}", Path(folder)
        finally:
            server.shutdown()
            server.server_close()


def write_demo_config(folder: Path, *, base: str, workdir: Path, outbox: Path) -> Path:
    """The demo's config.yaml, pointing at the local server and a temporary store."""
    text = (folder / "demo.yaml").read_text(encoding="utf-8")
    text = (
        text.replace("{base}", base)
        .replace("{db}", str(workdir / "veille-demo.db"))
        .replace("{outbox}", str(outbox))
    )
    path = workdir / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path
