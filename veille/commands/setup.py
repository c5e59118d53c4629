"""``veille init`` (a commented starter config.yaml) and ``veille demo`` (offline tour)."""

from __future__ import annotations

import argparse
import os
import shlex
from email.parser import BytesParser
from email.policy import default as default_policy
from importlib import resources
from pathlib import Path

from veille.alerts import propos_label
from veille.app import build_app, read_config
from veille.commands.console import clip
from veille.demo import DEMO_OUTBOX, prepare_demo_folder, serve_demo_data, write_demo_config
from veille.errors import EXIT_OK, UsageError
from veille.sanitize import one_line


def cmd_init(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    target = folder / "config.yaml"
    if target.exists():
        raise UsageError(f"{target} existe déjà : rien n'a été écrit")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        starter = resources.files("veille").joinpath("starter_config.yaml")
        target.write_text(starter.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{target}: écriture impossible ({exc.strerror})") from None
    print(f"{target} écrit. Adaptez-le, puis vérifiez : veille --config {target} check")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """The offline tour, into a workspace that stays (``--dir``, reset at each demo)."""
    workdir = Path(args.dir)
    reset = prepare_demo_folder(workdir)
    outbox = Path(args.outbox).resolve() if args.outbox else None
    with serve_demo_data() as (base, samples):
        print(f"Démo de veille : sources d'exemple servies sur {base} (hors ligne).")
        path = write_demo_config(samples, base=base, workdir=workdir, outbox=outbox)
        config = read_config(path)
        outbox = config.outbox_dir.resolve()
        before = set(outbox.glob("*.eml")) if outbox.exists() else set()
        app = build_app(config)
        report = app.run(force_all=True)
        items = sum(o.items for o in report.outcomes)
        print(
            f"Cycle terminé : {len(report.outcomes)} sources visitées, "
            f"{len(report.failed_sources)} en panne (exprès), {items} éléments lus, "
            f"{report.new_mentions} mentions trouvées."
        )
        mentions = app.store.mentions()
        for mention in mentions:
            flag = "URGENT " if mention.urgent else ""
            title = clip(mention.title, 100)
            if mention.matched:
                what = f"« {one_line(mention.matched)} » ({mention.rule})"
            else:  # a comment on an official account: in scope without naming the brand
                what = f"commentaire sur {one_line(mention.outlet or mention.source)}"
            propos = f" [propos : {propos_label(mention.propos)}]" if mention.propos else ""
            print(f"  - {flag}{what} — {title}{propos}")
    written = sorted(set(outbox.glob("*.eml")) - before)
    print(f"\n{len(written)} courriel(s) écrit(s) dans {outbox} :")
    for email_file in written:
        print(f"  {email_file}  ({clip(_subject_of(email_file), 120)})")
    print("\nOuvrez ces fichiers .eml avec votre logiciel de courriel (Outlook, Thunderbird…).")
    shown = shlex.quote(str(path))
    state = "remis à neuf (démo précédente effacée)" if reset else "créé"
    print(
        f"\nDossier de la démo {state} : {workdir}{os.sep} garde config.yaml, la base veille.db"
        f"{' et ' + DEMO_OUTBOX + '/' if args.outbox is None else ''}. "
        "Pour continuer sur cette base :"
    )
    first = mentions[-1].id if mentions else 1
    for command in (
        "mentions",
        "mentions --format excel > mentions.csv",
        f"triage {first} --status traité",
        "rescan",
        "sources",
        'match "Bravo au Cegep Drummondville!"',
    ):
        print(f"  veille --config {shown} {command}")
    print("Relancer veille demo efface cette démo et en refait une neuve dans le même dossier.")
    return EXIT_OK


def _subject_of(path: Path) -> str:
    with path.open("rb") as handle:
        message = BytesParser(policy=default_policy).parse(handle, headersonly=True)
    return str(message["Subject"])
