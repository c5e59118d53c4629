"""The workspace in a real browser: Selenium drives Debian's headless Chromium against
the real application served by uvicorn on 127.0.0.1, on a real store (SQLite in
tmp_path, or PostgreSQL in CI's second pass) filled through the store's API.

What a person does: sign in, filter the inbox (the URL keeps the filters), open a
mention, triage with the keyboard, assign in bulk, write a note and find it in the
history, export the filter as CSV for Excel, sign out. What must not happen: a POST
without the session's CSRF token, a reader changing anything, a ``<script>`` title
running. Screenshots of the inbox, a mention and the dashboard go to
``tests/artefacts/`` (git-ignored); the README's copies in ``docs/`` are taken from
there by hand: ``cp tests/artefacts/{boite,mention,tableau-de-bord}.png docs/``.

Every wait is on a condition (WebDriverWait), never a sleep. Needs ``chromium`` and
``chromium-driver`` (Debian's packages; .ci/run installs them); skipped without them.
"""

from __future__ import annotations

import asyncio
import base64
import random
import re
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import (
    NoAlertPresentException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from storage.store import MentionStore, NewItem, NewMention
from tests.conftest import Workspace
from veille.app import App, build_app, read_config
from veille.config import WebConfig
from veille.pipeline import title_key
from veille.users import hash_password
from veille.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="navigateur absent : installez les paquets Debian chromium et chromium-driver "
    "(/usr/bin/chromium, /usr/bin/chromedriver)",
)

ARTEFACTS = Path(__file__).resolve().parent.parent / "artefacts"
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
PASSWORD = "mot de passe très long"
READER = "lecteur@cegep.example"
EDITOR = "editeur@cegep.example"
ADMIN = "admin@cegep.example"
WAIT = 10  # seconds a condition may take before the test fails
WINDOW = (1280, 900)
SHOT_HEIGHT = 1600
SCRIPT_TITLE = "<script>alert('piège')</script> Spectacle de fin de session au Cégep"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

SOURCES = [
    {"name": "Le Nouvelliste", "type": "feed", "url": "http://127.0.0.1:9/nouvelliste.xml"},
    {"name": "L'Express", "type": "feed", "url": "http://127.0.0.1:9/express.xml"},
    {
        "name": "Google Actualités",
        "type": "search",
        "engine": "google_news",
        "query": "Cégep de Drummondville",
    },
    {"name": "Reddit", "type": "search", "engine": "reddit", "query": "cegep drummondville"},
]


@dataclass(frozen=True)
class Story:
    """One mention of the test store, as the pipeline would have found it."""

    source: str
    outlet: str
    title: str
    days_ago: float
    urgent: bool = False
    host: str = "www.nouvelliste.example"


# Newest first once stored (found_at = NOW - days_ago); indexes name them in tests.
STORIES = [
    Story(
        "Le Nouvelliste",
        "Le Nouvelliste",
        "Une plainte déposée contre le Cégep de Drummondville au sujet des stages",
        0.05,
        urgent=True,
    ),
    Story(
        "Google Actualités",
        "Radio-Canada",
        "Le Cégep de Drummondville inaugure son pavillon des sciences de la santé",
        0.2,
        host="ici.radio-canada.example",
    ),
    Story(
        "L'Express",
        "L'Express de Drummondville",
        SCRIPT_TITLE,
        0.4,
        host="www.journalexpress.example",
    ),
    Story(
        "Google Actualités",
        "La Presse",
        "Pénurie de main-d'œuvre : le Cégep de Drummondville forme plus de techniciens",
        0.9,
        host="www.lapresse.example",
    ),
    Story(
        "Reddit",
        "r/Quebec",
        "Quelqu'un a fait le DEC en soins infirmiers au Cégep de Drummondville?",
        1.3,
        host="www.reddit.example",
    ),
    Story(
        "Le Nouvelliste",
        "Le Nouvelliste",
        "Portes ouvertes : le Cégep de Drummondville attend 2 000 visiteurs",
        2.1,
    ),
    Story(
        "Google Actualités",
        "Le Devoir",
        "Les cégeps de région misent sur les étudiants "
        "internationaux; le Cégep de Drummondville en tête",
        3.4,
        host="www.ledevoir.example",
    ),
    Story(
        "L'Express",
        "L'Express de Drummondville",
        "Le pavillon des sciences du Cégep de Drummondville ouvrira en janvier",
        4.2,
        host="www.journalexpress.example",
    ),
    Story(
        "Google Actualités",
        "TVA Nouvelles",
        "Grève étudiante évitée au Cégep de Drummondville",
        6.0,
        host="www.tvanouvelles.example",
    ),
    Story(
        "Reddit",
        "r/Drummondville",
        "Stationnement au Cégep de Drummondville : vos trucs?",
        8.5,
        host="www.reddit.example",
    ),
]
TOPICS = [
    (
        "Le Nouvelliste",
        "Le Nouvelliste",
        "www.nouvelliste.example",
        "Le Cégep de Drummondville honore ses bénévoles",
    ),
    (
        "L'Express",
        "L'Express de Drummondville",
        "www.journalexpress.example",
        "Les Cheetahs du Cégep de Drummondville remportent le championnat",
    ),
    (
        "Google Actualités",
        "Radio-Canada",
        "ici.radio-canada.example",
        "Nouveau programme en intelligence artificielle au Cégep de Drummondville",
    ),
    (
        "Google Actualités",
        "Le Journal de Montréal",
        "www.journaldemontreal.example",
        "Le Cégep de Drummondville accueille un colloque sur la persévérance scolaire",
    ),
    (
        "Reddit",
        "r/Quebec",
        "www.reddit.example",
        "Retour aux études à 35 ans au Cégep de Drummondville, des conseils?",
    ),
    (
        "Le Nouvelliste",
        "Le Nouvelliste",
        "www.nouvelliste.example",
        "La Fondation du Cégep de Drummondville dépasse son objectif",
    ),
]
# Older mentions, so that the dashboard's 90 days have a shape.
STORIES += [
    Story(source, outlet, f"{title} ({n + 1})", 10 + n * 2.6 + (n % 3) * 0.4, host=host)
    for n, (source, outlet, host, title) in enumerate(TOPICS * 5)
]


def _source_type(source: str) -> str:
    return next(s["type"] for s in SOURCES if s["name"] == source)


def _stored(story: Story, key: str) -> NewItem:
    text = f"{story.title}. Article de {story.outlet}, avec les réactions de la région."
    if "Cégep de Drummondville" not in story.title:
        text += " Le Cégep de Drummondville a réagi."
    start = text.index("Cégep de Drummondville")
    return NewItem(
        key=key,
        url=f"https://{story.host}/{key}",
        guid=None,
        title=story.title,
        text=text,
        published_at=NOW - timedelta(days=story.days_ago, hours=1),
        mention=NewMention(
            matched="Cégep de Drummondville",
            rule="nom",
            score=100,
            snippet=text,
            highlight_start=start,
            highlight_end=start + len("Cégep de Drummondville"),
            urgent=story.urgent,
            urgent_keyword="plainte" if story.urgent else None,
        ),
        title_key=title_key(story.title, story.outlet),
        outlet=story.outlet,
    )


def fill(store: MentionStore) -> list[int]:
    """The stories, saved oldest first as the pipeline saves them; their ids in the
    order of STORIES. Older ones triaged, assigned, tagged and given a tone."""
    store.sync_sources([(s["name"], s["type"]) for s in SOURCES])
    order = sorted(range(len(STORIES)), key=lambda n: -STORIES[n].days_ago)
    ids: dict[int, int] = {}
    for n in order:
        story = STORIES[n]
        (ids[n],) = store.save_batch(
            source=story.source,
            source_type=_source_type(story.source),
            items=[_stored(story, f"article-{n}")],
            etag=None,
            last_modified=None,
            now=NOW - timedelta(days=story.days_ago),
        )
    # the same story seen again by another source: « aussi vu sur »
    store.save_batch(
        source="Google Actualités",
        source_type="search",
        items=[_stored(STORIES[5], "article-5-google")],
        etag=None,
        last_modified=None,
        now=NOW - timedelta(days=2),
    )
    every = [ids[n] for n in range(len(STORIES))]
    older = every[10:]
    store.change(older[::2], actor=ADMIN, now=NOW, status="traité", tone="positif")
    store.change(older[1::4], actor=ADMIN, now=NOW, status="traité", tone="neutre")
    store.change(older[3::8], actor=ADMIN, now=NOW, status="exclu")
    store.change(
        every[5:8],
        actor=ADMIN,
        now=NOW,
        status="en cours",
        assignee=ADMIN,
        add_tags=["portes ouvertes"],
    )
    store.change(every[6:9], actor=ADMIN, now=NOW, add_tags=["recrutement"], tone="positif")
    store.change([every[8]], actor=ADMIN, now=NOW, tone="négatif")
    return every


def fill_history(store: MentionStore) -> None:
    """Three months of ordinary days (weekdays busier), for the dashboard's chart in
    the screenshots."""
    rng = random.Random(28)
    subjects = [
        "accueille les finissants du secondaire",
        "lance une campagne de recrutement à l'international",
        "reçoit une subvention pour son centre de recherche",
        "présente sa nouvelle technique en informatique",
        "souligne la réussite de ses athlètes",
        "ouvre une clinique-école en soins dentaires",
        "tient sa soirée reconnaissance",
        "annonce des travaux d'agrandissement",
        "participe à la Semaine de la persévérance",
        "signe une entente avec une entreprise de la région",
    ]
    outlets = {
        "Le Nouvelliste": [("Le Nouvelliste", "www.nouvelliste.example")],
        "L'Express": [("L'Express de Drummondville", "www.journalexpress.example")],
        "Google Actualités": [
            ("Radio-Canada", "ici.radio-canada.example"),
            ("La Presse", "www.lapresse.example"),
            ("Le Journal de Montréal", "www.journaldemontreal.example"),
            ("Vingt55", "www.vingt55.example"),
        ],
        "Reddit": [("r/Quebec", "www.reddit.example")],
    }
    n = 0
    tones: dict[str, list[int]] = {"positif": [], "neutre": [], "négatif": []}
    handled: list[int] = []
    for days_ago in range(88, 0, -1):
        busy = 1.0 if (NOW - timedelta(days=days_ago)).weekday() < 5 else 0.3
        for source, choices in outlets.items():
            for _ in range(sum(rng.random() < 0.45 * busy for _ in range(3))):
                outlet, host = rng.choice(choices)
                title = f"Le Cégep de Drummondville {rng.choice(subjects)}"
                story = Story(source, outlet, title, days_ago + rng.random() * 0.9, host=host)
                ids = store.save_batch(
                    source=source,
                    source_type=_source_type(source),
                    items=[_stored(story, f"ancien-{n}")],
                    etag=None,
                    last_modified=None,
                    now=NOW - timedelta(days=story.days_ago),
                )
                n += 1
                handled += ids
                tone = rng.choice(["positif", "positif", "neutre", "négatif", ""])
                if tone:
                    tones[tone] += ids
    store.change(handled, actor=ADMIN, now=NOW, status="traité")
    for tone, ids in tones.items():
        store.change(ids, actor=ADMIN, now=NOW, tone=tone)
    for minutes, source in enumerate(outlets):  # each source's last visit: a while ago
        store.save_batch(
            source=source,
            source_type=_source_type(source),
            items=[],
            etag=None,
            last_modified=None,
            now=NOW - timedelta(minutes=12 + 9 * minutes),
        )


# --- the server ---------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn, with an event once it listens (no polling) and no signal handlers."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    def install_signal_handlers(self) -> None:  # a thread cannot, and must not
        pass


@dataclass
class Live:
    """The workspace served on 127.0.0.1: its App, the ids of STORIES, its address."""

    app: App
    ids: list[int]
    url: str = ""
    _server: _Server | None = None
    _thread: threading.Thread | None = None
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def store(self) -> MentionStore:
        return self.app.store

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.app, clock=lambda: NOW, web=WebConfig()),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            proxy_headers=False,
            server_header=False,
        )
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[sock])),  # type: ignore[union-attr]
            name="veille-web",
            daemon=True,
        )
        self._thread.start()
        assert self._server.ready.wait(WAIT), "le serveur n'a pas démarré"
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(WAIT)
            assert not self._thread.is_alive(), "le serveur ne s'est pas arrêté"

    def http(self, cookies: dict[str, str] | None = None) -> httpx.Client:
        """A plain HTTP client on the live server (no proxy from the environment)."""
        client = httpx.Client(
            base_url=self.url, trust_env=False, follow_redirects=False, cookies=cookies
        )
        self._clients.append(client)
        return client

    def status(self, mention_id: int) -> str:
        detail = self.store.detail(mention_id)
        assert detail is not None
        return detail.mention.status


_HASH = hash_password(PASSWORD)


@pytest.fixture
def live(workspace: Workspace) -> Iterator[Live]:
    workspace.write(SOURCES)
    app = build_app(read_config(workspace.config))
    for email, role in ((READER, "lecteur"), (EDITOR, "éditeur"), (ADMIN, "admin")):
        assert app.store.add_user(email, role=role, password_hash=_HASH, now=NOW)
    server = Live(app, fill(app.store))
    server.start()
    yield server
    server.stop()


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-proxy-server",
        "--lang=fr-CA",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs", {"download.prompt_for_download": False, "intl.accept_languages": "fr-CA,fr"}
    )
    service = Service(str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: webdriver.Chrome, live: Live) -> Iterator[webdriver.Chrome]:
    """The module's browser, on a blank page without cookies."""
    chromium.get("about:blank")
    chromium.delete_all_cookies()
    yield chromium
    chromium.get("about:blank")  # leaves the server: no open page keeps it busy
    chromium.delete_all_cookies()


def wait(driver: webdriver.Chrome) -> WebDriverWait[webdriver.Chrome]:
    """A wait that asks again when a query lands mid-navigation (an element of the page
    being replaced, or Chromium's « Node with given id does not belong to the
    document »); a lasting error still ends in a TimeoutException."""
    return WebDriverWait(
        driver, WAIT, ignored_exceptions=(StaleElementReferenceException, WebDriverException)
    )


def gone(element: WebElement) -> Callable[[webdriver.Chrome], bool]:
    """Has the page holding ``element`` been replaced? (EC.staleness_of, except that a
    query landing mid-navigation may also fail with Chromium's « Node with given id does
    not belong to the document »: gone too)"""

    def check(_: webdriver.Chrome) -> bool:
        try:
            element.is_enabled()
        except (StaleElementReferenceException, WebDriverException):
            return True
        return False

    return check


def sign_in(driver: webdriver.Chrome, live: Live, email: str, password: str = PASSWORD) -> None:
    driver.get(live.url + "/connexion")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "se-connecter").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "utilisateur")))


def row(driver: webdriver.Chrome, mention_id: int) -> WebElement:
    return driver.find_element(By.ID, f"mention-{mention_id}")


def shown_ids(driver: webdriver.Chrome) -> list[int]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#mentions tr.rangee")
    return [int(r.get_attribute("data-mention-id") or 0) for r in rows]


def flash(driver: webdriver.Chrome, text: str) -> WebElement:
    """The message shown after a redirect, once it says ``text``."""
    locator = (By.CSS_SELECTOR, "p.message")
    wait(driver).until(EC.text_to_be_present_in_element(locator, text))
    return driver.find_element(*locator)


def press(driver: webdriver.Chrome, keys: str) -> None:
    ActionChains(driver).send_keys(keys).perform()


def session_cookies(driver: webdriver.Chrome) -> dict[str, str]:
    return {c["name"]: c["value"] for c in driver.get_cookies()}


def no_alert(driver: webdriver.Chrome) -> bool:
    try:
        driver.switch_to.alert  # noqa: B018 (the property raises when there is none)
    except NoAlertPresentException:
        return True
    return False


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """The page from its top, beyond the window's height (up to SHOT_HEIGHT pixels), as
    a PNG in the artefacts folder."""
    ARTEFACTS.mkdir(exist_ok=True)
    width, height = driver.execute_script(
        "var e = document.documentElement; return [e.scrollWidth, e.scrollHeight];"
    )
    clip = {"x": 0, "y": 0, "width": width, "height": min(height, SHOT_HEIGHT), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True, "clip": clip},
    )
    path = ARTEFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


# --- a person at work ----------------------------------------------------------------------


def test_sign_in_brings_back_the_page_asked_and_a_wrong_password_is_refused(
    browser: webdriver.Chrome, live: Live
) -> None:
    mention_id = live.ids[3]
    browser.get(f"{live.url}/mentions/{mention_id}")
    wait(browser).until(EC.url_contains("/connexion"))
    browser.find_element(By.ID, "email").send_keys(EDITOR)
    browser.find_element(By.ID, "password").send_keys("pas le bon")
    browser.find_element(By.ID, "se-connecter").click()
    error = wait(browser).until(EC.visibility_of_element_located((By.ID, "erreur-connexion")))
    assert error.text == "Courriel ou mot de passe incorrect."
    assert browser.find_element(By.ID, "email").get_attribute("value") == EDITOR

    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "se-connecter").click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "mention")))
    assert browser.current_url == f"{live.url}/mentions/{mention_id}"
    assert EDITOR in browser.find_element(By.ID, "utilisateur").text
    assert "(éditeur)" in browser.find_element(By.ID, "utilisateur").text


def test_the_inbox_filters_stay_in_the_url(browser: webdriver.Chrome, live: Live) -> None:
    sign_in(browser, live, EDITOR)
    assert shown_ids(browser)[:3] == live.ids[:3]  # newest first
    Select(browser.find_element(By.ID, "filtre-source")).select_by_visible_text("Google Actualités")
    browser.find_element(By.ID, "filtre-q").send_keys("pavillon")
    browser.find_element(By.ID, "filtrer").click()
    wait(browser).until(EC.url_contains("q=pavillon"))
    assert "source=Google+Actualit%C3%A9s" in browser.current_url
    expected = [
        live.ids[n]
        for n, s in enumerate(STORIES)
        if s.source == "Google Actualités" and "pavillon" in s.title
    ]
    assert expected and shown_ids(browser) == expected

    # the URL alone gives the same view (shareable): a fresh load keeps the form filled
    shared = browser.current_url
    browser.get("about:blank")
    browser.get(shared)
    wait(browser).until(EC.presence_of_element_located((By.ID, "mentions")))
    assert shown_ids(browser) == expected
    assert browser.find_element(By.ID, "filtre-q").get_attribute("value") == "pavillon"
    chosen = Select(browser.find_element(By.ID, "filtre-source")).first_selected_option
    assert chosen.text == "Google Actualités"

    # a status tab keeps the other filters
    browser.find_element(By.ID, "filtre-q").clear()
    browser.find_element(By.ID, "filtrer").click()
    wait(browser).until(lambda d: "pavillon" not in d.current_url)
    browser.find_element(By.ID, "onglet-traite").click()
    wait(browser).until(EC.url_contains("status=trait%C3%A9"))
    assert "source=Google+Actualit%C3%A9s" in browser.current_url
    statuses = {
        r.get_attribute("data-status")
        for r in browser.find_elements(By.CSS_SELECTOR, "#mentions tr.rangee")
    }
    assert statuses == {"traité"}
    sources = {live.store.detail(i).mention.source for i in shown_ids(browser)}  # type: ignore[union-attr]
    assert sources == {"Google Actualités"}


def test_a_mention_opens_with_its_sources_snippet_and_way_back(
    browser: webdriver.Chrome, live: Live
) -> None:
    sign_in(browser, live, EDITOR)
    browser.get(live.url + "/?source=Le+Nouvelliste")
    portes = live.ids[5]
    browser.find_element(By.ID, f"lien-{portes}").click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "mention")))
    assert browser.current_url.startswith(f"{live.url}/mentions/{portes}")
    title = browser.find_element(By.ID, "titre").text
    assert f"N° {portes}" in title and STORIES[5].title in title
    assert browser.find_element(By.ID, "media").text == "Le Nouvelliste"
    assert browser.find_element(By.ID, "source").text == "Le Nouvelliste (feed)"
    assert browser.find_element(By.ID, "aussi-vu-sur").text == "Google Actualités"
    marked = browser.find_element(By.CSS_SELECTOR, "#extrait mark")
    assert marked.text == "Cégep de Drummondville"
    assert "règle : nom" in browser.find_element(By.ID, "explication").text
    assert browser.find_element(By.CSS_SELECTOR, "#bloc-statut .statut").text == "en cours"

    browser.find_element(By.ID, "retour").click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "mentions")))
    assert browser.current_url == live.url + "/?source=Le+Nouvelliste"


def test_triage_with_the_keyboard(browser: webdriver.Chrome, live: Live) -> None:
    first, second = live.ids[0], live.ids[1]
    sign_in(browser, live, EDITOR)
    press(browser, "j")
    wait(browser).until(lambda d: "courante" in (row(d, first).get_attribute("class") or ""))
    press(browser, "j")
    wait(browser).until(lambda d: "courante" in (row(d, second).get_attribute("class") or ""))
    assert "courante" not in (row(browser, first).get_attribute("class") or "")
    press(browser, "k")
    wait(browser).until(lambda d: "courante" in (row(d, first).get_attribute("class") or ""))

    # t: the chosen row becomes « traité », the page comes back
    before = row(browser, first)
    press(browser, "t")
    wait(browser).until(gone(before))
    flash(browser, "1 mention(s) modifiée(s)")
    assert row(browser, first).get_attribute("data-status") == "traité"
    assert live.status(first) == "traité"
    assert live.status(second) == "nouveau"

    # ? shows the help; j, o open the chosen mention; e and x change it there
    press(browser, "?")
    wait(browser).until(lambda d: d.find_element(By.ID, "aide-clavier").get_attribute("open"))
    press(browser, "?")
    press(browser, "jj")
    wait(browser).until(lambda d: "courante" in (row(d, second).get_attribute("class") or ""))
    press(browser, "o")
    wait(browser).until(EC.presence_of_element_located((By.ID, "mention")))
    assert browser.current_url.startswith(f"{live.url}/mentions/{second}")
    press(browser, "e")
    flash(browser, "Modification enregistrée")
    assert browser.find_element(By.ID, "mention").get_attribute("data-status") == "en cours"
    assert live.status(second) == "en cours"
    press(browser, "x")
    wait(browser).until(
        lambda d: d.find_element(By.ID, "mention").get_attribute("data-status") == "exclu"
    )
    assert live.status(second) == "exclu"
    detail = live.store.detail(second)
    assert detail is not None
    assert [(e.actor, e.field, e.before, e.after) for e in detail.history] == [
        (EDITOR, "status", "nouveau", "en cours"),
        (EDITOR, "status", "en cours", "exclu"),
    ]


def test_bulk_assign_from_the_inbox(browser: webdriver.Chrome, live: Live) -> None:
    chosen = [live.ids[1], live.ids[3], live.ids[4]]
    sign_in(browser, live, ADMIN)
    for mention_id in chosen:
        browser.find_element(By.ID, f"choix-{mention_id}").click()
    Select(browser.find_element(By.ID, "lot-responsable")).select_by_value(EDITOR)
    browser.find_element(By.ID, "lot-etiquette").send_keys("à suivre")
    browser.find_element(By.ID, "lot-appliquer").click()
    flash(browser, "3 mention(s) modifiée(s)")
    for mention_id in chosen:
        cell = row(browser, mention_id).find_element(By.CSS_SELECTOR, "td[data-assignee]")
        assert cell.text == EDITOR
        detail = live.store.detail(mention_id)
        assert detail is not None
        assert detail.mention.assignee == EDITOR
        assert list(detail.mention.tags) == ["à suivre"]
        assert detail.mention.status == "nouveau"  # « inchangé » left it alone
    assert live.store.detail(live.ids[2]).mention.assignee is None  # type: ignore[union-attr]

    Select(browser.find_element(By.ID, "filtre-responsable")).select_by_value(EDITOR)
    browser.find_element(By.ID, "filtrer").click()
    wait(browser).until(EC.url_contains("assignee="))
    assert shown_ids(browser) == chosen


def test_a_note_appears_in_the_notes_and_the_history(browser: webdriver.Chrome, live: Live) -> None:
    mention_id = live.ids[0]
    text = "Appel à la journaliste : rectification demandée sur les dates de stage."
    sign_in(browser, live, EDITOR)
    browser.get(f"{live.url}/mentions/{mention_id}")
    browser.find_element(By.ID, "note-texte").send_keys(text)
    browser.find_element(By.ID, "ajouter-note").click()
    flash(browser, "Note ajoutée")
    note = browser.find_element(By.CSS_SELECTOR, "#liste-notes li.note")
    assert note.get_attribute("data-author") == EDITOR
    assert note.find_element(By.CSS_SELECTOR, ".texte-note").text == text

    browser.find_element(By.ID, "statut-traite").click()
    flash(browser, "Modification enregistrée")
    events = browser.find_elements(By.CSS_SELECTOR, "#table-historique tr.evenement")
    assert [e.get_attribute("data-field") for e in events] == ["note", "status"]
    assert text in events[0].text and EDITOR in events[0].text
    assert "nouveau → traité" in events[1].text
    assert browser.find_element(By.ID, "statut-traite").get_attribute("disabled")


def test_export_csv_of_the_filter_for_excel(
    browser: webdriver.Chrome, live: Live, tmp_path: Path
) -> None:
    downloads = tmp_path / "téléchargements"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    sign_in(browser, live, READER)  # reading is enough to export
    browser.get(live.url + "/?source=Reddit")
    link = wait(browser).until(EC.element_to_be_clickable((By.ID, "export-csv")))
    assert link.get_attribute("href") == live.url + "/export.csv?source=Reddit"
    link.click()

    def downloaded(_: object) -> Path | None:
        done = [p for p in downloads.iterdir() if p.suffix == ".csv"]
        return done[0] if done else None

    path = wait(browser).until(downloaded)
    assert path.name == "mentions-2026-11-28.csv"
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data[3:].decode("utf-8").split("\r\n")
    header = lines[0].split(";")
    assert header[:4] == ["N°", "Titre", "Média", "Source"]
    assert {"Statut", "Urgent", "Responsable", "Étiquettes", "Ton"} <= set(header)
    rows = [line.split(";") for line in lines[1:] if line]
    reddit = [live.ids[n] for n, s in enumerate(STORIES) if s.source == "Reddit"]
    assert sorted(int(r[0]) for r in rows) == sorted(reddit)
    assert {r[header.index("Source")] for r in rows} == {"Reddit"}
    assert {r[header.index("Urgent")] for r in rows} == {"non"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows[0][header.index("Trouvée le")])


def test_sign_out_ends_the_session(browser: webdriver.Chrome, live: Live) -> None:
    sign_in(browser, live, EDITOR)
    browser.find_element(By.ID, "deconnexion").click()
    wait(browser).until(EC.url_to_be(live.url + "/connexion"))
    flash(browser, "Vous êtes déconnecté")
    assert not browser.find_elements(By.ID, "utilisateur")
    browser.get(live.url + "/tableau-de-bord")
    wait(browser).until(EC.url_contains("/connexion"))
    assert browser.find_elements(By.ID, "form-connexion")


# --- what must not happen -------------------------------------------------------------------


def _signed_in_http(live: Live, email: str) -> tuple[httpx.Client, str]:
    """A plain HTTP client signed in as ``email`` and its session's CSRF token."""
    client = live.http()
    page = client.get("/connexion")
    found = CSRF.search(page.text)
    assert found, page.text
    answer = client.post(
        "/connexion", data={"email": email, "password": PASSWORD, "csrf_token": found.group(1)}
    )
    assert answer.status_code == 303, answer.text
    inbox = client.get("/")
    token = CSRF.search(inbox.text)
    assert inbox.status_code == 200 and token
    return client, token.group(1)


def test_a_post_without_the_csrf_token_is_refused(live: Live) -> None:
    mention_id = live.ids[0]
    anonymous = live.http()
    anonymous.get("/connexion")
    refused = anonymous.post("/connexion", data={"email": EDITOR, "password": PASSWORD})
    assert refused.status_code == 403
    assert "jeton de sécurité" in refused.text

    client, token = _signed_in_http(live, EDITOR)
    for form in ({"status": "traité"}, {"status": "traité", "csrf_token": "contrefait"}):
        answer = client.post(f"/mentions/{mention_id}/modifier", data=form)
        assert answer.status_code == 403, form
    answer = client.post(f"/mentions/{mention_id}/notes", data={"text": "sans jeton"})
    assert answer.status_code == 403
    answer = client.post("/mentions/lot", data={"ids": str(mention_id), "status": "exclu"})
    assert answer.status_code == 403
    detail = live.store.detail(mention_id)
    assert detail is not None
    assert detail.mention.status == "nouveau" and not detail.history and not detail.notes

    # the same form with the session's token goes through: the token was what was missing
    answer = client.post(
        f"/mentions/{mention_id}/modifier", data={"status": "traité", "csrf_token": token}
    )
    assert answer.status_code == 303
    assert live.status(mention_id) == "traité"


def test_a_reader_cannot_change_anything(browser: webdriver.Chrome, live: Live) -> None:
    mention_id = live.ids[0]
    sign_in(browser, live, READER)
    assert "(lecteur)" in browser.find_element(By.ID, "utilisateur").text
    assert shown_ids(browser)
    for absent in ("#form-lot", "input[name='ids']", "#lot-appliquer"):
        assert not browser.find_elements(By.CSS_SELECTOR, absent), absent
    # the shortcuts move but change nothing
    press(browser, "j")
    wait(browser).until(lambda d: "courante" in (row(d, mention_id).get_attribute("class") or ""))
    press(browser, "t")
    assert browser.current_url == live.url + "/"
    assert row(browser, mention_id).get_attribute("data-status") == "nouveau"

    browser.get(f"{live.url}/mentions/{mention_id}")
    wait(browser).until(EC.presence_of_element_located((By.ID, "mention")))
    assert browser.find_element(By.ID, "responsable").text == "Personne"
    assert not browser.find_elements(By.CSS_SELECTOR, "#mention form")
    assert not browser.find_elements(By.CSS_SELECTOR, "#mention button")
    assert not browser.find_elements(By.CSS_SELECTOR, "#mention textarea")
    press(browser, "x")
    assert browser.find_element(By.ID, "mention").get_attribute("data-status") == "nouveau"

    # forged POSTs with the reader's own session and valid CSRF token: 403 each
    token = browser.find_element(
        By.CSS_SELECTOR, "#form-deconnexion input[name='csrf_token']"
    ).get_attribute("value")
    assert token
    client = live.http(cookies=session_cookies(browser))
    forged = {
        f"/mentions/{mention_id}/modifier": {"status": "exclu", "assignee": READER},
        f"/mentions/{mention_id}/notes": {"text": "je ne devrais pas"},
        f"/mentions/{mention_id}/ignorer-site": {"reason": "bruit", "also_exclude": "oui"},
        "/mentions/lot": {"ids": str(mention_id), "status": "traité", "add_tag": "x"},
        "/exclusions/retirer": {"domain": "www.nouvelliste.example"},
    }
    for path, form in forged.items():
        answer = client.post(path, data={**form, "csrf_token": token})
        assert answer.status_code == 403, path
        assert "ne permet pas cette action" in answer.text
    detail = live.store.detail(mention_id)
    assert detail is not None
    assert detail.mention.status == "nouveau" and detail.mention.assignee is None
    assert not detail.mention.tags and not detail.history and not detail.notes
    assert not live.store.excluded_sites()


def test_a_script_in_a_title_is_shown_as_text(browser: webdriver.Chrome, live: Live) -> None:
    mention_id = live.ids[2]
    sign_in(browser, live, EDITOR)
    link = browser.find_element(By.ID, f"lien-{mention_id}")
    assert link.text == SCRIPT_TITLE
    assert link.is_displayed()
    assert not link.find_elements(By.TAG_NAME, "script")
    assert no_alert(browser)
    # the only script of the page is the workspace's own file
    scripts = browser.find_elements(By.TAG_NAME, "script")
    assert [s.get_attribute("src") for s in scripts] == [live.url + "/static/veille.js"]

    link.click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "mention")))
    assert no_alert(browser)
    title = browser.find_element(By.ID, "titre")
    assert SCRIPT_TITLE in title.text
    assert not title.find_elements(By.TAG_NAME, "script")
    assert SCRIPT_TITLE in browser.title
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 1


# --- screenshots for the README ---------------------------------------------------------------


def test_screenshots_of_the_inbox_a_mention_and_the_dashboard(
    browser: webdriver.Chrome, live: Live
) -> None:
    fill_history(live.store)
    sign_in(browser, live, ADMIN)
    wait(browser).until(EC.presence_of_element_located((By.ID, "mentions")))
    press(browser, "jj")
    wait(browser).until(lambda d: "courante" in (row(d, live.ids[1]).get_attribute("class") or ""))
    inbox = screenshot(browser, "boite")

    mention_id = live.ids[5]
    live.store.add_note(
        mention_id,
        author=ADMIN,
        text="Entrevue accordée à la journaliste; chiffres de fréquentation confirmés.",
        now=NOW,
    )
    browser.get(f"{live.url}/mentions/{mention_id}")
    wait(browser).until(EC.presence_of_element_located((By.ID, "table-historique")))
    mention = screenshot(browser, "mention")

    browser.get(live.url + "/tableau-de-bord")
    chart = wait(browser).until(EC.visibility_of_element_located((By.ID, "graphique-jours")))
    assert chart.find_elements(By.TAG_NAME, "rect")
    dashboard = screenshot(browser, "tableau-de-bord")

    for path in (inbox, mention, dashboard):
        assert path.read_bytes().startswith(b"\x89PNG"), path
