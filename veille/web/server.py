"""``serve``: the workspace on uvicorn (``veille web``, and the daemon when config.yaml
has a ``web:`` block)."""

from __future__ import annotations

import logging

import uvicorn

from veille.app import App
from veille.web.app import create_app

log = logging.getLogger(__name__)


def serve(app: App, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until interrupted. Proxy headers are read by the application itself, and
    only from ``web.trusted_proxies`` (uvicorn's own reading is turned off)."""
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
    log.info("Poste de veille servi sur http://%s:%d (Ctrl+C pour arrêter)", host, port)
    uvicorn.Server(config).run()
