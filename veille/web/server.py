"""The workspace on uvicorn: :func:`serve` for ``veille web`` (blocks until Ctrl+C),
:func:`build_server` for the daemon (``server.run()`` in a thread — uvicorn leaves
the signals to the main thread then — and ``server.should_exit = True`` to stop)."""

from __future__ import annotations

import logging

import uvicorn

from veille.app import App
from veille.web.app import create_app

log = logging.getLogger(__name__)


def build_server(app: App, host: str = "127.0.0.1", port: int = 8080) -> uvicorn.Server:
    """A uvicorn server of the workspace. Proxy headers are read by the application
    itself, and only from ``web.trusted_proxies`` (uvicorn's own reading is off)."""
    config = uvicorn.Config(
        create_app(app),
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        date_header=True,
        log_level="warning",
        access_log=False,
    )
    return uvicorn.Server(config)


def serve(app: App, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until interrupted."""
    server = build_server(app, host, port)
    log.info("Poste de veille servi sur http://%s:%d (Ctrl+C pour arrêter)", host, port)
    server.run()
