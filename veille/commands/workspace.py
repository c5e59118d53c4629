"""The workspace from the command line: ``veille user``, ``veille token``,
``veille exclusions`` and ``veille web`` (serve the workspace).

Passwords come from a prompt (asked twice) or from standard input with
``--password-stdin`` (one line, for scripts); they are stored as Argon2 hashes.
An API token is printed once and only its digest is kept.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from storage.workspace import site_of
from veille.app import build_app, open_store
from veille.commands.console import config_of, format_table, local_time, utc_now
from veille.errors import EXIT_OK, UsageError
from veille.sanitize import one_line
from veille.statuses import ROLES
from veille.users import hash_password, new_token, system_user, token_digest

MIN_PASSWORD = 10  # characters


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError(f"rôle inconnu « {role} » (rôles : {', '.join(ROLES)})")


def _check_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or " " in email or len(email) > 200:
        raise UsageError(f"adresse de courriel invalide « {email} »")
    return email


def read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, else typed twice at a prompt."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Encore une fois : ") != password:
            raise UsageError("les deux mots de passe diffèrent : rien n'a été changé")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"mot de passe trop court (au moins {MIN_PASSWORD} caractères)")
    return password


def cmd_user(args: argparse.Namespace) -> int:
    store = open_store(config_of(args))
    if args.action == "list":
        users = store.users()
        if args.format == "json":
            rows = [{"email": u.email, "role": u.role} for u in users]
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        elif not users:
            print("Aucun utilisateur : veille user add COURRIEL --role éditeur")
        else:
            print(format_table(["Courriel", "Rôle"], [[u.email, u.role] for u in users]))
        return EXIT_OK
    if not args.email:
        raise UsageError(f"veille user {args.action} demande l'adresse de courriel")
    email = _check_email(args.email)
    if args.action == "add":
        _check_role(args.role)
        password = read_password(args.password_stdin)
        if not store.add_user(
            email, role=args.role, password_hash=hash_password(password), now=utc_now()
        ):
            raise UsageError(
                f"l'utilisateur {email} existe déjà (veille user passwd pour son mot de passe)"
            )
        print(f"Utilisateur {email} ajouté ({args.role}).")
    elif args.action == "passwd":
        password = read_password(args.password_stdin)
        if not store.set_password(email, hash_password(password)):
            raise UsageError(f"utilisateur {email} introuvable (voir veille user list)")
        print(f"Mot de passe de {email} changé.")
    elif args.action == "remove":
        if not store.remove_user(email):
            raise UsageError(f"utilisateur {email} introuvable (voir veille user list)")
        print(f"Utilisateur {email} retiré.")
    return EXIT_OK


def cmd_token(args: argparse.Namespace) -> int:
    config = config_of(args)
    store = open_store(config)
    if args.action == "list":
        tokens = store.tokens()
        if not tokens:
            print("Aucun jeton d'API : veille token add NOM --role lecteur")
            return EXIT_OK
        rows = [
            [t.name, t.role, local_time(t.created_at, config), local_time(t.last_used_at, config)]
            for t in tokens
        ]
        print(format_table(["Nom", "Rôle", "Créé le", "Dernier usage"], rows))
        return EXIT_OK
    if not args.name:
        raise UsageError(f"veille token {args.action} demande le nom du jeton")
    name = one_line(args.name)[:200]
    if args.action == "add":
        _check_role(args.role)
        token = new_token()
        if not store.add_token(name, role=args.role, digest=token_digest(token), now=utc_now()):
            raise UsageError(f"un jeton nommé « {name} » existe déjà")
        print(token)
        print(
            f"Jeton « {name} » ({args.role}) créé : copiez-le maintenant, il ne sera plus "
            "jamais affiché (en-tête Authorization: Bearer …).",
            file=sys.stderr,
        )
    elif args.action == "remove":
        if not store.remove_token(name):
            raise UsageError(f"jeton « {name} » introuvable (voir veille token list)")
        print(f"Jeton « {name} » révoqué.")
    return EXIT_OK


def cmd_exclusions(args: argparse.Namespace) -> int:
    config = config_of(args)
    store = open_store(config)
    if args.action in ("add", "remove") and not args.site:
        raise UsageError(f"veille exclusions {args.action} demande le site (exemple.com)")
    if args.action == "add":
        domain = site_of(args.site if "//" in args.site else f"https://{args.site}")
        if not domain:
            raise UsageError(f"site invalide « {args.site} » (exemple : exemple.com)")
        reason = one_line(args.reason or "")
        if store.exclude_site(domain, actor=system_user(), reason=reason, now=utc_now()):
            print(
                f"{domain} ignoré : ses nouveaux éléments ne seront plus des mentions "
                "(veille rescan l'applique aux anciens)."
            )
        else:
            print(f"{domain} est déjà ignoré.")
        return EXIT_OK
    if args.action == "remove":
        domain = site_of(f"https://{args.site}") or args.site
        if not store.remove_excluded_site(domain, actor=system_user(), now=utc_now()):
            raise UsageError(f"{args.site} n'est pas dans la liste (voir veille exclusions list)")
        print(f"{args.site} n'est plus ignoré (veille rescan rétablit ses mentions).")
        return EXIT_OK
    sites = store.excluded_sites()
    if args.format == "yaml":
        for site in sites:
            print(
                f"- {json.dumps(site.domain, ensure_ascii=False)}  # {one_line(site.reason)} "
                f"({site.actor}, {local_time(site.at, config)})"
            )
        return EXIT_OK
    if not sites:
        print("Aucun site ignoré.")
        return EXIT_OK
    rows = [[s.domain, s.actor, local_time(s.at, config), one_line(s.reason)] for s in sites]
    print(format_table(["Site", "Par", "Le", "Pourquoi"], rows))
    return EXIT_OK


def cmd_web(args: argparse.Namespace) -> int:
    """Serve the workspace (default 127.0.0.1:8080, or the web: block's host and port)."""
    from veille.web.server import serve  # uvicorn and Starlette: only for this command

    config = config_of(args)
    host = args.host or (config.web.host if config.web else "127.0.0.1")
    port = args.port or (config.web.port if config.web else 8080)
    serve(build_app(config), host=host, port=port)
    return EXIT_OK
