"""The workspace's server time on a store of 100,000 mentions.

Run: ``.venv/bin/python benchmarks/bench_web.py [--mentions 100000] [--requests 50]
[--keep DIR] [--only LABEL] [--explain] [--proposed-indexes]``

A SQLite store is filled in bulk (SQLAlchemy Core) as three months of a busy
installation would leave it: 100,000 mentions found over 90 days (weekdays busier),
from a dozen sources of three kinds, with realistic French titles, snippets and
texts; most of them triaged (traité, exclu, en cours), some assigned, tagged, given a
tone, seen by other sources, with their history and a few notes. ``--keep DIR``
fills the store there once and reuses it.

The application built as ``veille web`` builds it (``create_app``) answers in
process (httpx's ASGITransport: no socket), signed in as an editor: the inbox (first
page, filters, a status tab, a tag, a common word, a rare one, a word found nowhere,
page 100), a mention's page and the dashboard. For each page, ``--requests``
requests after three for warm-up: median and 95th percentile of the time to the
whole answer. After each request, the baseline: the store calls behind the page,
timed alone in the same process, so that the page's own cost (templates, session,
thread hop) shows, and so that both meet the same moment of a shared machine (the
load average is printed: on a busy 2-core machine every figure grows).

Targets (issue 11), on SQLite on this 2-core machine: p95 < 150 ms for the inbox
and a mention's page, < 400 ms for the dashboard. A page over its target has its SQL
SELECT statements listed, each run alone, with SQLite's ``EXPLAIN QUERY PLAN``
(every page with ``--explain``). ``--proposed-indexes`` times a copy of the store
with the indexes proposed for migration 0007 (PROPOSED_INDEXES).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import open_database  # noqa: E402
from storage.models import (  # noqa: E402
    ItemRow,
    MentionEventRow,
    MentionNoteRow,
    MentionRow,
    MentionTagRow,
    SightingRow,
)
from storage.packing import pack_text, title_hash  # noqa: E402
from storage.store import MentionStore  # noqa: E402
from storage.workspace import MentionFilter  # noqa: E402
from veille.app import build_app, read_config  # noqa: E402
from veille.users import hash_password  # noqa: E402
from veille.web.app import create_app  # noqa: E402
from veille.web.charts import MEAN_WINDOW  # noqa: E402
from veille.web.pages import DASHBOARD_DAYS  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
DAYS = 90
PASSWORD = "mot de passe du banc d'essai"
EDITOR = "editeur@cegep.example"
PEOPLE = [
    EDITOR,
    "admin@cegep.example",
    "direction.communications@cegep.example",
    "relations.medias@cegep.example",
    "web@cegep.example",
]
NAME = "Cégep de Drummondville"

# (name, type, extra options, outlets it reports, share of the mentions)
SOURCES: list[tuple[str, str, str, list[str], float]] = [
    ("Le Nouvelliste", "feed", "url: 'https://www.lenouvelliste.ca/feed/'", ["Le Nouvelliste"], 9),
    (
        "L'Express de Drummondville",
        "feed",
        "url: 'https://www.journalexpress.ca/feed/'",
        ["L'Express de Drummondville"],
        12,
    ),
    ("Vingt55", "feed", "url: 'https://www.vingt55.ca/feed/'", ["Vingt55"], 8),
    ("La Tribune", "feed", "url: 'https://www.latribune.ca/feed/'", ["La Tribune"], 5),
    (
        "Radio-Canada Mauricie",
        "feed",
        "url: 'https://ici.radio-canada.ca/rss/mauricie'",
        ["Radio-Canada"],
        6,
    ),
    (
        "Blogue Drummond",
        "feed",
        "url: 'https://blogue.drummond.example/feed'",
        ["Blogue Drummond"],
        3,
    ),
    (
        "Google Actualités",
        "search",
        "engine: google_news, query: 'Cégep de Drummondville'",
        [
            "La Presse",
            "Le Devoir",
            "Le Journal de Montréal",
            "TVA Nouvelles",
            "Noovo Info",
            "Le Soleil",
            "98.5 Montréal",
            "CIME FM",
            "Radio-Canada",
            "L'actualité",
            "Les Affaires",
            "Le Quotidien",
        ],
        24,
    ),
    (
        "Bing Actualités",
        "search",
        "engine: bing_news, query: 'Cégep de Drummondville'",
        ["La Presse", "MSN", "Yahoo Québec", "Le Journal de Québec", "Métro"],
        10,
    ),
    (
        "Reddit",
        "search",
        "engine: reddit, query: 'cegep drummondville'",
        ["r/Quebec", "r/Drummondville", "r/cegep", "r/montreal"],
        15,
    ),
    ("Wikipédia", "search", "engine: wikipedia, query: 'Cégep de Drummondville'", ["Wikipédia"], 1),
    (
        "Site de la Ville",
        "page",
        "url: 'https://www.drummondville.ca/nouvelles'",
        ["Ville de Drummondville"],
        4,
    ),
    (
        "Fédération des cégeps",
        "page",
        "url: 'https://www.fedecegeps.ca/salle-de-presse/'",
        ["Fédération des cégeps"],
        3,
    ),
]
TAGS = [
    "recrutement",
    "portes ouvertes",
    "sport",
    "recherche",
    "international",
    "grève",
    "fondation",
    "stages",
    "immobilier",
    "à suivre",
    "réponse envoyée",
    "rectification",
]
OPENINGS = [
    f"Le {NAME}",
    f"Au {NAME},",
    "Drummondville :",
    "Éducation :",
    "Centre-du-Québec :",
    "Enseignement supérieur :",
    "Région :",
]
ACTIONS = [
    "inaugure son nouveau pavillon des sciences",
    "accueille plus de 2 000 visiteurs aux portes ouvertes",
    "lance un programme en intelligence artificielle",
    "reçoit une subvention pour son centre de recherche",
    "forme davantage de techniciens en génie industriel",
    "mise sur les étudiants internationaux",
    "souligne la réussite de ses athlètes",
    "évite la grève de justesse",
    "annonce des travaux d'agrandissement de 40 millions",
    "ouvre une clinique-école en soins dentaires",
    "signe une entente avec une entreprise de la région",
    "présente son plan stratégique",
    "accueille un colloque sur la persévérance scolaire",
    "reconnaît ses bénévoles",
    "fait face à une pénurie d'enseignants",
    "voit ses inscriptions grimper",
    "dévoile son nouveau logo",
    "s'associe au festival de la chanson",
    "critiqué pour le stationnement",
    "reçoit une plainte au sujet des stages",
]
TAILS = [
    "",
    "",
    "",
    " cet automne",
    " pour la rentrée",
    " selon la direction",
    " : les détails",
    " (vidéo)",
    " — ce qu'il faut savoir",
    " en 2026",
]
SENTENCES = [
    "La direction générale a tenu une conférence de presse jeudi matin.",
    "Les étudiants ont été nombreux à réagir sur les réseaux sociaux.",
    "Le projet s'inscrit dans le plan stratégique adopté l'an dernier.",
    "Le ministère de l'Enseignement supérieur finance une partie des travaux.",
    "Plusieurs entreprises de la région ont salué l'initiative.",
    "Le syndicat des enseignants demande plus de ressources.",
    "Les inscriptions pour la session d'hiver sont ouvertes jusqu'au 1er mars.",
    "La Ville de Drummondville collabore au projet depuis le début.",
    "Des représentants du milieu communautaire étaient présents.",
    "Le conseil d'administration se prononcera le mois prochain.",
    "Les résultats seront présentés lors d'une assemblée publique.",
    "Une centaine de personnes ont assisté à l'événement.",
]


def config_yaml(folder: Path, url: str) -> Path:
    lines = [
        "brand:",
        f"  name: {NAME}",
        "  aliases: [Cégep de Drummond, Collège de Drummondville]",
        "  handles: ['@cegepdrummond', cegepdrummond.ca]",
        "alerts:",
        "  keywords: [plainte, poursuite, grève]",
        "sources:",
    ]
    for name, kind, options, _, _ in SOURCES:
        lines.append(f'  - {{name: "{name}", type: {kind}, {options}}}')
    lines += [
        "digest:",
        "  to: [communications@cegep.example]",
        "  from: veille@cegep.example",
        "  timezone: America/Montreal",
        "storage:",
        f'  url: "{url}"',
    ]
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the store ----------------------------------------------------------------------------


def found_times(count: int, rng: random.Random) -> list[datetime]:
    """``count`` moments over the last 90 days, weekdays three times busier, oldest first."""
    days = [NOW - timedelta(days=d) for d in range(DAYS)]
    weights = [3.0 if day.weekday() < 5 else 1.0 for day in days]
    picked = rng.choices(range(DAYS), weights=weights, k=count)
    return sorted(NOW - timedelta(days=d, seconds=rng.uniform(0, 86_400 - 1)) for d in picked)


def status_of(age: timedelta, rng: random.Random) -> str:
    draw = rng.random()
    if age < timedelta(days=7):
        table = [(0.6, "nouveau"), (0.8, "traité"), (0.9, "en cours"), (1.0, "exclu")]
    else:
        table = [(0.04, "nouveau"), (0.84, "traité"), (0.88, "en cours"), (1.0, "exclu")]
    return next(status for limit, status in table if draw < limit)


def fill(url: str, count: int, seed: int = 11) -> None:
    """``count`` mentions (and their items, sightings, tags, history, notes)."""
    rng = random.Random(seed)
    factory = open_database(url)
    store = MentionStore(factory)
    store.sync_sources([(name, kind) for name, kind, *_ in SOURCES])
    hashed = hash_password(PASSWORD)
    for n, email in enumerate(PEOPLE):
        store.add_user(email, role="admin" if n == 1 else "éditeur", password_hash=hashed, now=NOW)
    engine = factory.kw["bind"]
    weights = [share for *_, share in SOURCES]
    times = found_times(count, rng)
    chunk = 5000
    event_id = note_id = 0
    for first in range(0, count, chunk):
        items: list[dict[str, Any]] = []
        mentions: list[dict[str, Any]] = []
        sightings: list[dict[str, Any]] = []
        tags: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        for i in range(first, min(count, first + chunk)):
            ident = i + 1
            found = times[i]
            name, kind, _, outlets, _ = rng.choices(SOURCES, weights=weights)[0]
            outlet = rng.choice(outlets)
            title = rng.choice(OPENINGS) + " " + rng.choice(ACTIONS) + rng.choice(TAILS)
            title = title[0].upper() + title[1:]
            lead = rng.choice(SENTENCES)
            snippet = f"{lead} Selon le {NAME}, {rng.choice(ACTIONS)}."
            if rng.random() < 0.0005:  # a name few mentions carry: a rare search
                snippet += " « C'est une fierté », dit Marie-Ève Lapointe, directrice des études."
            start = snippet.index(NAME)
            text = " ".join([title + ".", *rng.choices(SENTENCES, k=8), snippet])
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower())[:60].strip("-")
            host = re.sub(r"[^a-z0-9]+", "", outlet.lower()) or "site"
            link = f"https://{host}.example/{slug}-{ident}"
            urgent = rng.random() < 0.01
            status = status_of(NOW - found, rng)
            assignee = rng.choice(PEOPLE) if status != "nouveau" and rng.random() < 0.15 else None
            tone = (
                rng.choice(["positif", "positif", "neutre", "neutre", "négatif"])
                if status in ("traité", "en cours") and rng.random() < 0.4
                else None
            )
            items.append(
                {
                    "id": ident,
                    "key": link,
                    "source": name,
                    "url": link,
                    "guid": None,
                    "title": title,
                    "packed_text": pack_text(text),  # as the store writes it
                    "published_at": found - timedelta(minutes=rng.randint(5, 600)),
                    "seen_at": found,
                    "title_hash": title_hash(re.sub(r"[^a-z0-9]+", " ", title.lower()).strip()),
                    "outlet": outlet,
                }
            )
            mentions.append(
                {
                    "id": ident,
                    "item_id": ident,
                    "source": name,
                    "source_type": kind,
                    "url": link,
                    "title": title,
                    "published_at": found - timedelta(minutes=rng.randint(5, 600)),
                    "found_at": found,
                    "matched": NAME,
                    "rule": "nom",
                    "score": 100,
                    "snippet": snippet,
                    "highlight_start": start,
                    "highlight_end": start + len(NAME),
                    "status": status,
                    "status_by_hand": status != "nouveau" or None,
                    "urgent": urgent,
                    "urgent_keyword": "plainte" if urgent else None,
                    "outlet": outlet,
                    "assignee": assignee,
                    "tone": tone,
                }
            )
            when = found + timedelta(hours=rng.uniform(1, 48))
            changes: list[tuple[str, str | None, str | None]] = []
            if status != "nouveau":
                changes.append(("status", "nouveau", status))
            if assignee:
                changes.append(("assignee", None, assignee))
            if tone:
                changes.append(("tone", None, tone))
            if rng.random() < 0.12:
                others = [s[0] for s in SOURCES if s[0] != name]
                for other in rng.sample(others, rng.randint(1, 2)):
                    sightings.append(
                        {
                            "mention_id": ident,
                            "source": other,
                            "url": link + "?via",
                            "seen_at": when,
                        }
                    )
            if rng.random() < 0.10:
                for tag in rng.sample(TAGS, rng.randint(1, 2)):
                    tags.append({"mention_id": ident, "tag": tag})
                    changes.append(("tags", None, tag))
            if rng.random() < 0.02:
                note_id += 1
                body = "Appel à la journaliste : " + rng.choice(SENTENCES)
                notes.append(
                    {"id": note_id, "mention_id": ident, "at": when, "author": EDITOR, "text": body}
                )
                changes.append(("note", None, body))
            for field, before, after in changes:
                event_id += 1
                events.append(
                    {
                        "id": event_id,
                        "mention_id": ident,
                        "at": when,
                        "actor": rng.choice(PEOPLE),
                        "field": field,
                        "before": before,
                        "after": after,
                    }
                )
        with engine.begin() as connection:
            connection.execute(insert(ItemRow.__table__), items)
            connection.execute(insert(MentionRow.__table__), mentions)
            if sightings:
                connection.execute(insert(SightingRow.__table__), sightings)
            if tags:
                connection.execute(insert(MentionTagRow.__table__), tags)
            if events:
                connection.execute(insert(MentionEventRow.__table__), events)
            if notes:
                connection.execute(insert(MentionNoteRow.__table__), notes)
    for n, (name, kind, *_) in enumerate(SOURCES):  # each source's last visit: minutes ago
        store.save_batch(
            source=name,
            source_type=kind,
            items=[],
            etag=None,
            last_modified=None,
            now=NOW - timedelta(minutes=5 + n),
        )
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


# --- timing -------------------------------------------------------------------------------


@dataclass
class Timing:
    median: float  # milliseconds
    p95: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timing:
        ms = sorted(s * 1000 for s in seconds)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return cls(statistics.median(ms), p95)


@dataclass
class Page:
    label: str
    paths: Callable[[int], str]  # request number → path
    baseline: Callable[[int], object]  # request number → the store calls behind it
    target: float  # p95, milliseconds


class Statements:
    """The SQL statements an engine runs while ``watch()`` is open; each can then be
    run alone (time to the last row: SQLite does most of a query's work while its rows
    are fetched, after the cursor's execute) and explained."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[tuple[str, Any]] = []
        self._on = False
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if self._on and statement.lstrip().upper().startswith("SELECT"):
            self.seen.append((statement, params))

    @contextmanager
    def watch(self) -> Iterator[list[tuple[str, Any]]]:
        self.seen = []
        self._on = True
        try:
            yield self.seen
        finally:
            self._on = False

    def run_alone(self, statement: str, params: Any, times: int = 5) -> tuple[float, list[str]]:
        """The median time (ms) of the statement run alone, and its query plan."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            took = []
            for _ in range(times):
                started = time.perf_counter()
                cursor.execute(statement, params)
                cursor.fetchall()
                took.append(time.perf_counter() - started)
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
            plan = [str(row[-1]) for row in cursor.fetchall()]
            return statistics.median(took) * 1000, plan
        finally:
            raw.close()


async def sign_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/connexion")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    answer = await client.post(
        "/connexion", data={"email": EDITOR, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 303, answer.text[:500]


@dataclass
class Result:
    page: Timing
    store: Timing
    statements: list[tuple[str, Any]]


async def time_pages(
    asgi: Any, pages: list[Page], requests: int, statements: Statements
) -> dict[str, Result]:
    """Each page ``requests`` times, each request followed by its baseline (the store
    calls alone), so that both meet the same moment of a shared machine."""
    transport = httpx.ASGITransport(app=asgi, client=("127.0.0.1", 40000))
    results: dict[str, Result] = {}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://veille.test", follow_redirects=False
    ) as client:
        await sign_in(client)
        for page in pages:
            for n in range(3):  # warm-up: caches, first compilations
                answer = await client.get(page.paths(n))
                assert answer.status_code == 200, (page.paths(n), answer.status_code)
                page.baseline(n)
            took: list[float] = []
            alone: list[float] = []
            for n in range(requests):
                path = page.paths(n)
                started = time.perf_counter()
                answer = await client.get(path)
                took.append(time.perf_counter() - started)
                assert answer.status_code == 200, (path, answer.status_code)
                started = time.perf_counter()
                page.baseline(n)
                alone.append(time.perf_counter() - started)
            with statements.watch() as seen:
                await client.get(page.paths(0))
            results[page.label] = Result(Timing.of(took), Timing.of(alone), list(seen))
    return results


# What migration 0007 would add (see the module's docstring); --proposed-indexes tries
# them on a copy of the store.
PROPOSED_INDEXES = [
    # the inbox's status tabs and filters: the rows of one status already newest first
    "CREATE INDEX ix_mentions_status_found_at ON mentions (status, found_at)",
    # the dashboard: every count of the last 118 days read from the index alone
    "CREATE INDEX ix_mentions_found_at_counts ON mentions "
    "(found_at, status, source_type, urgent, tone, outlet, source)",
    "DROP INDEX ix_mentions_status",  # a prefix of the first
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="fill (or reuse) the store in this folder")
    parser.add_argument("--explain", action="store_true", help="query plans of every page")
    parser.add_argument("--only", default="", help="only the pages whose label has this")
    parser.add_argument(
        "--proposed-indexes",
        action="store_true",
        help="time a copy of the store with the indexes proposed for migration 0007",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the random session key's warning: expected

    with tempfile.TemporaryDirectory(prefix="bench-web-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "veille.db"
        if not db.exists():
            started = time.perf_counter()
            fill(f"sqlite:///{db}", args.mentions)
            print(
                f"store: {args.mentions:,} mentions in {time.perf_counter() - started:.0f} s, "
                f"{db.stat().st_size / 1e6:.0f} MB ({db})"
            )
        if args.proposed_indexes:
            copy = folder / "veille-0007.db"
            if not copy.exists():
                shutil.copyfile(db, copy)
                with sqlite3.connect(copy) as connection:
                    for ddl in PROPOSED_INDEXES:
                        connection.execute(ddl)
                    connection.execute("ANALYZE")
                connection.close()
            db = copy
            print(f"with the proposed indexes: {'; '.join(PROPOSED_INDEXES)}")
        config_path = config_yaml(folder, f"sqlite:///{db}")
        app = build_app(read_config(config_path))
        store = app.store
        engine = store._sessions.kw["bind"]
        statements = Statements(engine)
        total = store.inbox(MentionFilter(), limit=0).total
        rng = random.Random(5)
        ids = [rng.randint(1, total) for _ in range(args.requests + 3)]
        zone = app.config.digest.zone
        since_day = (NOW - timedelta(days=30)).astimezone(zone).date()

        def inbox(filters: MentionFilter, offset: int = 0) -> Callable[[int], object]:
            def run(_: int) -> object:
                store.users()
                return store.inbox(filters, offset=offset, limit=50)

            return run

        def mention(n: int) -> object:
            store.users()
            return store.detail(ids[n % len(ids)])

        def dashboard(_: int) -> object:  # what Pages.dashboard asks the store
            since = NOW - timedelta(days=DASHBOARD_DAYS)
            store.daily_counts(NOW - timedelta(days=DASHBOARD_DAYS + MEAN_WINDOW))
            store.tone_counts(since)
            store.inbox(MentionFilter(since=since), limit=0)
            store.top_outlets(since, limit=10)
            store.urgent_count(since)
            return store.sources()

        since_moment = datetime.combine(since_day, clock_time(0), tzinfo=zone)
        pages = [
            Page("boîte, 1re page", lambda n: "/", inbox(MentionFilter()), 150),
            Page(
                "boîte filtrée (statut, source, 30 j)",
                lambda n: f"/?status=trait%C3%A9&source=Reddit&since={since_day}",
                inbox(MentionFilter(status="traité", source="Reddit", since=since_moment)),
                150,
            ),
            Page(
                "boîte filtrée (nouveau, urgent)",
                lambda n: "/?status=nouveau&urgent=oui",
                inbox(MentionFilter(status="nouveau", urgent=True)),
                150,
            ),
            Page(
                "boîte, onglet « nouveau »",
                lambda n: "/?status=nouveau",
                inbox(MentionFilter(status="nouveau")),
                150,
            ),
            Page(
                "boîte, étiquette",
                lambda n: "/?tag=recrutement",
                inbox(MentionFilter(tag="recrutement")),
                150,
            ),
            Page(
                "boîte, recherche « pavillon »",
                lambda n: "/?q=pavillon",
                inbox(MentionFilter(q="pavillon")),
                150,
            ),
            Page(
                "boîte, recherche rare « lapointe »",
                lambda n: "/?q=lapointe",
                inbox(MentionFilter(q="lapointe")),
                150,
            ),
            Page(
                "boîte, recherche sans résultat",
                lambda n: "/?q=introuvable",
                inbox(MentionFilter(q="introuvable")),
                150,
            ),
            Page(
                "boîte, page 100",
                lambda n: "/?page=100",
                inbox(MentionFilter(), offset=99 * 50),
                150,
            ),
            Page("mention", lambda n: f"/mentions/{ids[n % len(ids)]}", mention, 150),
            Page("tableau de bord", lambda n: "/tableau-de-bord", dashboard, 400),
        ]

        pages = [page for page in pages if args.only in page.label]
        load_before = os.getloadavg()[0]
        asgi = create_app(app)
        results = asyncio.run(time_pages(asgi, pages, args.requests, statements))

        print(
            f"\n{total:,} mentions, {args.requests} requests per page "
            "(ms; store = the store calls behind the page, timed alone after each request); "
            f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, "
            f"{os.cpu_count()} CPUs\n"
        )
        header = (
            f"{'page':<40} {'median':>8} {'p95':>8} {'target':>8}  "
            f"{'store med':>9} {'store p95':>9}  {'page cost':>9}  verdict"
        )
        print(header)
        print("-" * len(header))
        missed: list[Page] = []
        for page in pages:
            result = results[page.label]
            ok = result.page.p95 < page.target
            if not ok:
                missed.append(page)
            print(
                f"{page.label:<40} {result.page.median:8.1f} {result.page.p95:8.1f} "
                f"{'< ' + str(page.target):>8}  {result.store.median:9.1f} "
                f"{result.store.p95:9.1f}  {result.page.median - result.store.median:9.1f}  "
                f"{'ok' if ok else 'TROP LENT'}"
            )
        for page in pages if args.explain else missed:
            seen = results[page.label].statements
            print(f"\n== {page.label}: {len(seen)} SELECT statements, each run alone")
            alone = [(statements.run_alone(sql, params), sql) for sql, params in seen]
            for (took, plan), sql in sorted(alone, key=lambda a: -a[0][0]):
                print(f"-- {took:.1f} ms: {' '.join(sql.split())[:300]}")
                for step in plan:
                    print(f"     {step}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
