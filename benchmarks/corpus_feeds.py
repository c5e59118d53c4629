"""News feeds like real ones, served slowly from a local process.

Used by ``bench_collect.py`` and ``bench_store.py``. Everything is drawn from a
seeded generator: the same arguments give the same bytes, so the results of a
run can be compared with results recorded earlier (``bench_collect.py
--record``).

Feed ``n`` of ``count`` holds ``per_feed`` items, as a news site's RSS does:

- titles of 40–120 characters; a syndicated one sometimes ends with
  " - <the feed's title>";
- HTML descriptions (about 150–1,200 characters of text): paragraphs, links,
  ``<strong>``, ``<em>``, ``<br />``, images, entities (``&nbsp;``, ``&#8217;``,
  ``&amp;``, ``&laquo;``), the WordPress « L'article … est apparu en premier
  sur … » line; most escaped, a quarter in CDATA, some plain text without a
  tag; one item in twelve also carries the whole story (``content:encoded``);
- guids as permalinks, as WordPress ``?p=`` ids, or absent; tracking
  parameters on some links; authors and categories;
- one feed in ten is Atom;
- about 2 % of the items name the brand (« Cégep de Drummondville » and its
  usual spellings), a few more name the city or another cégep only;
- syndication: stories from a shared pool appear in two to four feeds, half
  under the same link (deduplicated by key), half under each site's own link
  with the same title (deduplicated by title: « aussi vu sur »); a tenth of
  those stories name the brand.

``round`` draws another corpus of the same shape (new links, new titles):
``bench_store.py`` uses it to repeat a cycle of new items on the same store.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_WORD_LIST = (
    "annonce budget conseil municipal projet école élèves enseignants région ville "
    "route travaux hiver printemps festival culture sport équipe victoire saison "
    "santé hôpital urgence service population citoyens entreprise emploi usine "
    "investissement millions dollars ministre gouvernement Québec député élection "
    "campagne environnement rivière parc vélo piste quartier logement loyer marché "
    "agriculteurs récolte étudiants formation programme diplôme recherche innovation "
    "technologie numérique réseau internet données sécurité police enquête accident "
    "incendie pompiers bénévoles organisme communautaire don fondation hommage "
    "anniversaire spectacle musique théâtre artistes exposition musée bibliothèque "
    "lecture auteurs livre jeunes familles aînés résidence transport autobus train "
    "aéroport circulation pont chantier asphalte déneigement neige tempête pluie "
    "chaleur record température semaine mois année dernier prochain nouveau grand "
    "important majeur local régional provincial national public privé ouvert fermé "
    "premier deuxième plusieurs certains nombreux quelques toujours encore déjà "
    "maintenant bientôt aussi très plus moins selon pendant depuis avant après "
    "entre contre vers pour avec sans sous dans chez lors afin ainsi donc mais"
)
WORDS = tuple(_WORD_LIST.split())
OUTLETS = ("Le Nouvelliste", "La Tribune", "Le Devoir", "La Presse", "Radio-Canada", "TVA")
BRAND = (
    "Cégep de Drummondville",
    "Cégep de Drummondville",
    "Cégep de Drummondville",
    "cégep de Drummondville",
    "Cegep de Drummondville",
    "CÉGEP de Drummondville",
)
NEAR = ("Drummondville", "Cégep de Sherbrooke", "cégep de Trois-Rivières", "Drummond")
BRAND_SHARE = 0.02
NEAR_SHARE = 0.03
SYNDICATED_SHARE = 0.08  # of a feed's items come from the shared pool
FEEDS_PER_STORY = 3  # on average
EPOCH = datetime(2024, 3, 1, 12, tzinfo=UTC)


def sentence(rng: random.Random, extra: str | None = None) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 20))
    if extra:
        words.insert(rng.randrange(len(words) + 1), extra)
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", " !", " ?"))


def title(rng: random.Random, extra: str | None = None) -> str:
    length = rng.randint(40, 120)
    words = [extra] if extra else []
    while len(" ".join(words)) < length:
        words.insert(rng.randrange(len(words) + 1), rng.choice(WORDS))
    text = " ".join(words)
    if len(text) > 120:
        text = text[:120].rsplit(" ", 1)[0]
    if extra and extra not in text:
        text = f"{extra} : {text[: 118 - len(extra)]}"
    return text[0].upper() + text[1:]


def inline(rng: random.Random, text: str, site: str) -> str:
    """Markup around some words of ``text`` (already HTML-escaped)."""
    words = text.split(" ")
    for _ in range(rng.randint(0, 3)):
        i = rng.randrange(len(words))
        j = min(len(words), i + rng.randint(1, 4))
        group = " ".join(words[i:j])
        if "<" in group or "&" in group:
            continue
        kind = rng.random()
        if kind < 0.5:
            slug = "-".join(w for w in group.lower().split() if w.isalnum()) or "page"
            group = f'<a href="https://{site}/{slug}/" target="_blank" rel="noopener">{group}</a>'
        elif kind < 0.8:
            group = f"<strong>{group}</strong>"
        else:
            group = f"<em>{group}</em>"
        words[i:j] = [group]
    html = " ".join(words)
    return (
        html.replace("'", "&#8217;")
        .replace(" :", "&nbsp;:")
        .replace(" !", "&nbsp;!")
        .replace(" ?", "&nbsp;?")
    )


def paragraphs(
    rng: random.Random, count: int, site: str, extra: str | None = None
) -> list[tuple[str, str]]:
    """(plain, html) paragraphs; ``extra`` (a name) goes into one of them."""
    where = rng.randrange(count) if extra else -1
    out = []
    for p in range(count):
        plain = " ".join(
            sentence(rng, extra if p == where and s == 0 else None)
            for s in range(rng.randint(1, 3))
        )
        if rng.random() < 0.1:
            plain += " R&D, « entrevue » : 2 000 $ de plus."
        out.append((plain, inline(rng, escape(plain, quote=False), site)))
    return out


def description(
    rng: random.Random, site: str, channel: str, heading: str, link: str, extra: str | None
) -> tuple[str, str]:
    """(kind, body): kind "html" (markup), "text" (no tag)."""
    parts = paragraphs(rng, rng.randint(1, 3), site, extra)
    if rng.random() < 0.15:
        return "text", escape(" ".join(plain for plain, _ in parts), quote=False)
    html = "".join(f"<p>{markup}</p>" for _, markup in parts)
    if rng.random() < 0.3:
        html = (
            f'<img src="https://{site}/wp-content/uploads/{rng.randrange(10**6)}.jpg" '
            f'alt="{escape(heading[:40])}" width="300" height="200" /><br />' + html
        )
    if rng.random() < 0.3:
        html += (
            f'<p>L&#8217;article <a href="{escape(link)}">{escape(heading, quote=False)}</a> '
            f'est apparu en premier sur <a href="https://{site}">{escape(channel)}</a>.</p>'
        )
    return "html", html


def story_text(rng: random.Random, site: str) -> str:
    return "".join(f"<p>{markup}</p>" for _, markup in paragraphs(rng, rng.randint(4, 8), site))


class Story:
    """One item's content, as a feed writes it."""

    def __init__(
        self,
        rng: random.Random,
        *,
        site: str,
        channel: str,
        link: str,
        extra: str | None,
        heading: str | None = None,
    ):
        self.title = heading or title(rng, extra if rng.random() < 0.4 else None)
        named = extra if extra and extra not in self.title else None
        self.link = link
        self.kind, self.body = description(rng, site, channel, self.title, link, named)
        self.content = story_text(rng, site) if rng.random() < 1 / 12 else None
        self.author = rng.choice(("Marie Tremblay", "Jean Côté", "Rédaction", None))
        self.categories = rng.sample(("Actualités", "Régional", "Éducation", "Sports"), 2)


def _extra(rng: random.Random, brand_share: float) -> str | None:
    draw = rng.random()
    if draw < brand_share:
        return rng.choice(BRAND)
    if draw < brand_share + NEAR_SHARE:
        return rng.choice(NEAR)
    return None


def wire_story(round_: int, number: int) -> tuple[str, str | None]:
    """A syndicated story: (title, the brand or None); its link is shared by even numbers."""
    rng = random.Random(f"{round_}:wire:{number}")
    extra = rng.choice(BRAND) if rng.random() < 0.1 else None
    return title(rng, extra), extra


def feed(number: int, *, count: int, per_feed: int = 30, round_: int = 0) -> bytes:
    """Feed ``number`` of a corpus of ``count`` feeds (RSS, or Atom for one in ten)."""
    rng = random.Random(f"{round_}:{number}")
    site = f"site{number}.test"
    channel = f"{rng.choice(('Journal', 'Le Courrier', 'Info', 'L’Écho'))} {number}"
    pool = max(1, round(count * per_feed * SYNDICATED_SHARE / FEEDS_PER_STORY))
    stories = []
    for i in range(per_feed):
        serial = number * 1000 + i
        if rng.random() < SYNDICATED_SHARE:
            wire = rng.randrange(pool)
            heading, extra = wire_story(round_, wire)
            if wire % 2 == 0:  # the agency's own link, shared as is
                link = f"https://fil.test/r{round_}/depeche-{wire}/"
            else:  # the site's own page, the agency's title
                link = f"https://{site}/r{round_}/fil/{wire}/"
                if rng.random() < 0.5:
                    heading = f"{heading} - {channel}"
            story = Story(rng, site=site, channel=channel, link=link, extra=extra, heading=heading)
            story.title = heading
            guid = link
        else:
            slug = f"r{round_}/{2024}/{serial}"
            link = f"https://{site}/{slug}/"
            if rng.random() < 0.2:
                link += "?utm_source=rss&utm_medium=rss&utm_campaign=fil"
            story = Story(
                rng, site=site, channel=channel, link=link, extra=_extra(rng, BRAND_SHARE)
            )
            draw = rng.random()
            guid = link if draw < 0.5 else f"https://{site}/?p={serial}" if draw < 0.8 else ""
        when = EPOCH - timedelta(minutes=13 * i + number)
        stories.append((story, guid, when))
    if number % 10 == 9:
        return _atom(channel, site, stories)
    return _rss(channel, site, stories, rng)


def _rss(
    channel: str, site: str, stories: list[tuple[Story, str, datetime]], rng: random.Random
) -> bytes:
    items = []
    for story, guid, when in stories:
        if story.kind == "html" and rng.random() < 0.25:
            body = f"<![CDATA[{story.body}]]>"
        elif story.kind == "html":
            body = escape(story.body, quote=False)
        else:
            body = story.body
        parts = [
            f"<title>{escape(story.title, quote=False)}</title>",
            f"<link>{escape(story.link)}</link>",
            f"<pubDate>{format_datetime(when)}</pubDate>",
        ]
        if story.author:
            parts.append(f"<dc:creator><![CDATA[{story.author}]]></dc:creator>")
        parts += [f"<category><![CDATA[{c}]]></category>" for c in story.categories]
        if guid:
            permalink = "true" if guid == story.link else "false"
            parts.append(f'<guid isPermaLink="{permalink}">{escape(guid)}</guid>')
        parts.append(f"<description>{body}</description>")
        if story.content:
            parts.append(f"<content:encoded><![CDATA[{story.content}]]></content:encoded>")
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">'
        f"<channel><title>{escape(channel)}</title><link>https://{site}/</link>"
        f"<description>Les nouvelles de {escape(channel)}</description><language>fr-CA</language>"
        f"<lastBuildDate>{format_datetime(EPOCH)}</lastBuildDate>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _atom(channel: str, site: str, stories: list[tuple[Story, str, datetime]]) -> bytes:
    entries = []
    for story, guid, when in stories:
        summary_type = "html" if story.kind == "html" else "text"
        parts = [
            f'<title type="html">{escape(escape(story.title, quote=False), quote=False)}</title>',
            f'<link rel="alternate" type="text/html" href="{escape(story.link)}"/>',
            f"<id>{escape(guid or story.link)}</id>",
            f"<updated>{when.isoformat()}</updated>",
            f"<published>{when.isoformat()}</published>",
            f'<summary type="{summary_type}">{escape(story.body, quote=False)}</summary>',
        ]
        if story.author:
            parts.append(f"<author><name>{escape(story.author)}</name></author>")
        if story.content:
            parts.append(f'<content type="html">{escape(story.content, quote=False)}</content>')
        entries.append("<entry>" + "".join(parts) + "</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xml:lang="fr-CA">'
        f'<title>{escape(channel)}</title><link href="https://{site}/"/>'
        f"<id>https://{site}/</id><updated>{EPOCH.isoformat()}</updated>"
        + "".join(entries)
        + "</feed>"
    ).encode()


def feed_path(number: int, round_: int = 0) -> str:
    return f"/r{round_}/feed/{number}.xml"


class Corpus:
    """The feeds of one or more rounds, generated on first request and kept."""

    def __init__(self, count: int, per_feed: int):
        self.count, self.per_feed = count, per_feed
        self._bodies: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> tuple[bytes, str] | None:
        found = self._bodies.get(path)
        if found is not None:
            return found
        try:
            _, round_part, _, name = path.split("/")
            round_, number = int(round_part[1:]), int(name.removesuffix(".xml"))
        except ValueError:
            return None
        if not 0 <= number < self.count:
            return None
        body = feed(number, count=self.count, per_feed=self.per_feed, round_=round_)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        with self._lock:
            self._bodies[path] = (body, etag)
        return body, etag


def _serve_forever(
    latency: float, count: int, per_feed: int, ready: Any, prepare: tuple[int, ...]
) -> None:
    corpus = Corpus(count, per_feed)
    for round_ in prepare:  # generated before the clock starts
        for number in range(count):
            corpus.get(feed_path(number, round_))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body in one write (no Nagle/delayed-ACK stall)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:  # noqa: N802
            time.sleep(latency)
            found = corpus.get(self.path)
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, etag = found
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            kind = "atom" if body.startswith(b'<?xml version="1.0" encoding="utf-8"') else "rss"
            self.send_response(200)
            self.send_header("Content-Type", f"application/{kind}+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    ready.send(server.server_address[1])
    server.serve_forever()


class FeedServer:
    """The corpus served by another process (its CPU is not counted as the client's),
    each answer ``latency`` seconds late, with an ETag (304 when it matches)."""

    def __init__(
        self, latency: float, count: int, per_feed: int = 30, prepare: tuple[int, ...] = (0,)
    ):
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve_forever,
            args=(latency, count, per_feed, send, prepare),
            daemon=True,
        )
        self._process.start()
        if not receive.poll(600):
            raise RuntimeError("le serveur de flux n'a pas démarré")
        self.base = f"http://127.0.0.1:{receive.recv()}"

    def url(self, number: int, round_: int = 0) -> str:
        return self.base + feed_path(number, round_)

    def shutdown(self) -> None:
        self._process.terminate()
        self._process.join(10)


def write_config(
    folder: Path,
    url: Callable[[int], str],
    count: int,
    concurrency: int,
    *,
    extra: str = "",
) -> Path:
    """A config.yaml of ``count`` feed sources (``url(n)``), in ``folder``."""
    sources = "\n".join(
        f"  - {{name: Source {n}, type: feed, url: '{url(n)}', every: 1h}}" for n in range(count)
    )
    path = folder / "config.yaml"
    path.write_text(
        "brand:\n  name: Cégep de Drummondville\n"
        f"sources:\n{sources}\n"
        "digest:\n  to: [c@cegep.example]\n  from: v@cegep.example\n  at: '23:59'\n"
        "storage:\n  url: sqlite:///veille.db\n"
        f"http:\n  concurrency: {concurrency}\n  per_host_delay: 0s\n  timeout: 60s\n" + extra,
        encoding="utf-8",
    )
    return path
