"""``veille demo``: bundled sample feeds served on 127.0.0.1 for an offline tour.

The tour writes a small workspace that stays after it (``./veille-demo/`` by
default): its ``config.yaml``, its store ``veille.db`` and its ``outbox/``, so
that ``veille --config veille-demo/config.yaml mentions`` (triage, rescan…)
can be tried on it next. Running the demo again resets that workspace: the
tour is the same every time.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from veille.errors import UsageError

DEMO_DATA = "demo_data"
DEMO_MARKER = "# veille demo :"  # first line of a config.yaml the demo wrote (and may reset)
DEMO_DB = "veille.db"
DEMO_OUTBOX = "outbox"


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


def prepare_demo_folder(workdir: Path) -> bool:
    """Make ``workdir`` ready for a fresh tour; True when an earlier tour was reset.

    Only what a demo wrote is removed (its store and the ``.eml`` files of its own
    outbox); a folder holding a config.yaml that the demo did not write is refused,
    so ``veille demo --dir`` never touches a real workspace.
    """
    config = workdir / "config.yaml"
    if workdir.exists() and not workdir.is_dir():
        raise UsageError(f"{workdir} n'est pas un dossier : choisissez-en un autre avec --dir")
    if config.exists() and not _written_by_demo(config):
        raise UsageError(
            f"{config} existe et n'est pas celui de la démo : rien n'a été touché ; "
            "choisissez un autre dossier avec --dir"
        )
    reset = config.exists()
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        for name in (DEMO_DB, DEMO_DB + "-wal", DEMO_DB + "-shm"):
            (workdir / name).unlink(missing_ok=True)
        outbox = workdir / DEMO_OUTBOX
        if outbox.is_dir():
            for email_file in outbox.glob("*.eml"):
                email_file.unlink()
    except OSError as exc:
        raise UsageError(f"{workdir} : écriture impossible ({exc.strerror})") from None
    return reset


def _written_by_demo(config: Path) -> bool:
    try:
        with config.open(encoding="utf-8") as handle:
            return handle.readline().startswith(DEMO_MARKER)
    except (OSError, UnicodeDecodeError):
        return False


def write_demo_config(folder: Path, *, base: str, workdir: Path, outbox: Path | None) -> Path:
    """The demo's config.yaml in ``workdir``, pointing at the local server.

    The store and (unless ``outbox`` is given) the outbox are relative to the file,
    so the folder can be moved.
    """
    text = (folder / "demo.yaml").read_text(encoding="utf-8")
    text = (
        text.replace("{base}", base)
        .replace("{db}", DEMO_DB)
        .replace("{outbox}", str(outbox) if outbox is not None else DEMO_OUTBOX)
    )
    header = (
        f"{DEMO_MARKER} écrit par « veille demo », qui le remplace à chaque démo.\n"
        "# Les sources d'exemple n'étaient servies que pendant la démo : ici, veille run\n"
        "# les trouvera en panne. mentions, sources, triage, rescan et match fonctionnent.\n"
    )
    path = workdir / "config.yaml"
    path.write_text(header + text, encoding="utf-8")
    return path
