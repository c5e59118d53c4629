"""config.yaml: every mistake is one French line naming the line, exit 2."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from collectors import REGISTRY, options_models
from tests.conftest import ROOT, run_veille
from veille.config import Config, load_config, parse_duration
from veille.errors import ConfigError

GOOD = """\
brand:
  name: Cégep de Drummondville
sources:
  - name: Journal
    type: feed
    url: https://journal.test/feed/
    every: 30m
digest:
  to: [communications@cegep.example]
  from: veille@cegep.example
  at: "07:30"
"""


def _load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, source_types=options_models())


@pytest.mark.parametrize(
    ("text", "value"),
    [("30s", 30), ("30m", 1800), ("1h", 3600), ("1d", 86400), ("2j", 172800), (45, 45)],
)
def test_durations(text: object, value: int) -> None:
    assert parse_duration(text) == timedelta(seconds=value)


@pytest.mark.parametrize("text", ["30x", "", "-1h", "0s", "une heure", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="durée invalide"):
        parse_duration(text)


def test_good_config_loads_with_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path, GOOD)
    assert config.sources[0].every == timedelta(minutes=30)
    assert config.digest.send_empty is True
    assert config.http.max_bytes == 5_000_000
    assert config.smtp is None
    assert config.storage.url == f"sqlite:///{(tmp_path / 'veille.db').resolve()}"
    assert config.outbox_dir == tmp_path / "outbox"
    assert config.evidence_dir == tmp_path / "preuves"


CASES = [
    ("unknown key", GOOD + "colour: blue\n", 12, "option inconnue « colour »"),
    (
        "unknown source option",
        GOOD.replace("    url:", "    urll:"),
        6,
        "sources[0] (Journal) : option inconnue « urll »",
    ),
    ("bad duration", GOOD.replace("every: 30m", "every: 30x"), 7, "durée invalide « 30x »"),
    ("bad time", GOOD.replace('"07:30"', '"7h3"'), 11, "heure invalide"),
    ("bad email", GOOD.replace("veille@cegep.example", "veille"), 10, "adresse courriel invalide"),
    ("unknown type", GOOD.replace("type: feed", "type: fed"), 5, "type inconnu « fed »"),
    (
        "missing brand name",
        GOOD.replace("  name: Cégep de Drummondville\n", "  aliases: []\n"),
        1,
        "clé obligatoire manquante « name »",
    ),
    (
        "bad url",
        GOOD.replace("https://journal.test/feed/", "journal.test"),
        6,
        "doit commencer par http",
    ),
    ("bad zone", GOOD + "  timezone: Mars/Olympus\n", 12, "fuseau horaire inconnu"),
    ("not a number", GOOD + "http:\n  concurrency: beaucoup\n", 13, "nombre entier"),
    (
        "inline password",
        GOOD + "smtp:\n  host: smtp.test\n  password: secret\n",
        12,
        "password_env",
    ),
    # PyYAML notices the end of the file (line 13); the mistake is the "[" of line 12.
    ("yaml syntax", GOOD + "  to: [oops\n", 12, "crochet « [ » non fermé"),
    ("duplicate key", GOOD + "brand:\n  name: X\n", 12, "clé en double « brand »"),
    ("empty evidence_dir", GOOD + "storage:\n  evidence_dir: ''\n", 13, "ne doit pas être vide"),
    (
        "ssl on the STARTTLS port",
        GOOD + "smtp:\n  host: smtp.test\n  port: 587\n  ssl: true\n",
        14,
        "smtp.port : le port 587 attend STARTTLS, pas une connexion SSL directe",
    ),
    (
        "STARTTLS on the SSL port",
        GOOD + "smtp:\n  host: smtp.test\n  port: 465\n  starttls: true\n",
        14,
        "smtp.port : le port 465 attend une connexion chiffrée dès le départ",
    ),
    (
        "duplicate source",
        GOOD + "  - {name: Journal, type: feed, url: 'https://a.test/'}\n",
        None,
        "nom de source en double",
    ),
]


@pytest.mark.parametrize(("label", "text", "line", "message"), CASES, ids=[c[0] for c in CASES])
def test_mistakes_name_the_line(
    tmp_path: Path, label: str, text: str, line: int | None, message: str
) -> None:
    if label == "duplicate source":  # the new source must sit inside the sources list
        text = GOOD.replace(
            "digest:", "  - {name: Journal, type: feed, url: 'https://a.test/'}\ndigest:"
        )
        line = 8
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    shown = str(caught.value)
    assert shown.startswith(f"{tmp_path / 'config.yaml'}: ligne {line} : "), shown
    assert message in shown
    assert "\n" not in shown


def test_cli_bad_config_exits_2_with_one_french_line(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        GOOD.replace("every: 30m", "every: bientôt"), encoding="utf-8"
    )
    for command in ("check", "run", "sources", "digest", "mentions"):
        result = run_veille(command, cwd=tmp_path)
        assert result.code == 2, command
        assert result.err.strip() == (
            "config.yaml: ligne 7 : sources[0].every (Journal) : "
            "durée invalide « bientôt » (exemples : 30s, 30m, 1h, 1d)"
        )
        assert "Traceback" not in result.err


def test_cli_missing_config_and_bad_arguments_exit_2(tmp_path: Path) -> None:
    missing = run_veille("check", cwd=tmp_path)
    assert missing.code == 2
    assert "config.yaml: fichier introuvable" in missing.err
    env = run_veille("check", cwd=tmp_path, env={"VEILLE_CONFIG": str(tmp_path / "autre.yaml")})
    assert env.code == 2 and "autre.yaml: fichier introuvable" in env.err
    bad = run_veille("mentions", "--format", "xml", cwd=tmp_path)
    assert bad.code == 2 and "choix invalide" in bad.err and "Traceback" not in bad.err
    unknown = run_veille("envoie", cwd=tmp_path)
    assert unknown.code == 2 and "choix invalide 'envoie'" in unknown.err
    (tmp_path / "config.yaml").write_text(GOOD, encoding="utf-8")
    since = run_veille("mentions", "--since", "hier", cwd=tmp_path)
    assert since.code == 2 and "date invalide « hier »" in since.err
    status = run_veille("mentions", "--status", "lu", cwd=tmp_path)
    assert status.code == 2 and "statut inconnu" in status.err


def test_shipped_config_is_valid_and_lists_every_source_type() -> None:
    config = load_config(ROOT / "config.yaml", source_types=options_models())
    assert config.brand.name == "Cégep de Drummondville"
    assert config.smtp is None  # a fresh install writes to outbox/
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
    for kind in REGISTRY:
        assert f"type: {kind}" in shipped or f"type: {kind}" in readme, kind
    result = run_veille("--config", str(ROOT / "config.yaml"), "check", cwd=ROOT)
    assert result.code == 0, result.err
    assert "configuration valide" in result.out


def test_init_writes_a_valid_commented_starter_and_never_overwrites(tmp_path: Path) -> None:
    result = run_veille("init", str(tmp_path / "etc"), cwd=tmp_path)
    assert result.code == 0, result.err
    written = tmp_path / "etc" / "config.yaml"
    assert "# " in written.read_text(encoding="utf-8")
    check = run_veille("--config", str(written), "check", cwd=tmp_path)
    assert check.code == 0, check.err
    again = run_veille("init", str(tmp_path / "etc"), cwd=tmp_path)
    assert again.code == 2 and "existe déjà" in again.err


# --- YAML syntax: French, at the line of the real mistake, with the fix ------------------

SYNTAX = [
    (
        "quote never closed",
        GOOD.replace('"07:30"', '"07:30'),
        11,
        'guillemet non fermé : la valeur qui commence par " sur cette ligne ne se termine '
        'jamais ; ajoutez le guillemet de fin "',
    ),
    (
        # The quote of line 10 is closed by the first quote of line 11: PyYAML
        # complains on line 11, the mistake is on line 10.
        "quote closed by the next line's quote",
        GOOD.replace("from: veille@cegep.example", 'from: "veille@cegep.example'),
        10,
        "guillemet non fermé",
    ),
    (
        "tab used for indentation",
        GOOD.replace("    type: feed", "\t  type: feed"),
        5,
        "tabulation interdite pour l'indentation : utilisez des espaces",
    ),
    (
        "colon inside a value",
        GOOD.replace("name: Cégep de Drummondville", "name: Cégep: Drummondville"),
        2,
        "la valeur contient « : » : mettez la valeur entre guillemets "
        '(name: "Cégep: Drummondville")',
    ),
    (
        "colon inside a search query",
        GOOD.replace(
            "    every: 30m\n",
            "    every: 30m\n  - name: Recherche\n    type: search\n    engine: google_news\n"
            "    query: Cégep: nouvelles\n",
        ),
        11,
        '(query: "Cégep: nouvelles")',
    ),
    (
        "key further right than its neighbours",
        GOOD.replace("  from:", "   from:"),
        10,
        "indentation incohérente : « from » est à 3 espaces du bord, « to » (ligne 9) à 2 espaces",
    ),
    (
        "key further left than its neighbours",
        GOOD.replace("    type: feed", "   type: feed"),
        5,
        "indentation incohérente : « type » est à 3 espaces du bord, « name » (ligne 4) à 4",
    ),
    (
        "bracket never closed",
        GOOD.replace("cegep.example]", "cegep.example"),
        9,
        "crochet « [ » non fermé : ajoutez « ] » à la fin de la liste",
    ),
    (
        "brace never closed",
        GOOD + "http: {timeout: 20s\n",
        12,
        "accolade « { » non fermée : ajoutez « } »",
    ),
    ("colon forgotten", GOOD.replace("brand:", "brand"), 1, "il manque « : » après « brand »"),
    (
        "apostrophe inside single quotes",
        GOOD.replace("- name: Journal", "- name: 'L'Express'"),
        4,
        "entre guillemets simples, une apostrophe s'écrit deux fois ('') ; "
        'écrivez plutôt name: "L\'Express"',
    ),
    (
        "quoted phrase followed by more words",
        GOOD.replace(
            "    every: 30m\n",
            "    every: 30m\n  - name: Recherche\n    type: search\n    engine: google_news\n"
            '    query: "Cégep de Drummondville" OR cegepdrummond  # le nom et le compte\n',
        ),
        11,
        """mettez toute la valeur entre guillemets """
        """(query: '"Cégep de Drummondville" OR cegepdrummond')""",
    ),
    (
        "handle starting with @",
        GOOD.replace(
            "  name: Cégep de Drummondville\n",
            "  name: Cégep de Drummondville\n  handles:\n    - @cegepdrummond\n",
        ),
        4,
        "une valeur ne peut pas commencer par « @ » : "
        'mettez-la entre guillemets ("@cegepdrummond")',
    ),
    (
        "second document",
        GOOD + "---\nbrand: {name: Autre}\n",
        12,
        "un seul document par fichier",
    ),
    (
        "other mistakes: generic French line with PyYAML's words",
        GOOD + "outbox: >x\n",
        12,
        "YAML invalide ; vérifiez cette ligne et la précédente (PyYAML : expected chomping",
    ),
    (
        "forbidden character",
        GOOD.replace("Journal", "Jour\x07nal"),
        4,
        "caractère interdit (U+0007)",
    ),
    # These three ended in a traceback.
    ("empty block", GOOD + "alerts:\n", 12, "alerts : doit être un bloc de clés"),
    (
        "unknown tag",
        GOOD.replace("every: 30m", "every: !duree 30m"),
        7,
        "étiquette YAML « !duree » non prise en charge : retirez-la",
    ),
    ("impossible date", GOOD + "outbox: 2024-13-45\n", 12, "valeur illisible « 2024-13-45 »"),
]


@pytest.mark.parametrize(("label", "text", "line", "message"), SYNTAX, ids=[c[0] for c in SYNTAX])
def test_yaml_mistakes_in_french_at_the_real_line(
    tmp_path: Path, label: str, text: str, line: int, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    shown = str(caught.value)
    assert shown.startswith(f"{tmp_path / 'config.yaml'}: ligne {line} : "), shown
    assert message in shown, shown
    assert "\n" not in shown
    if "PyYAML" not in message:
        assert "while " not in shown and "found " not in shown, shown


def test_cli_yaml_mistake_is_one_french_line(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        GOOD.replace("name: Cégep de Drummondville", "name: Cégep: Drummondville"),
        encoding="utf-8",
    )
    result = run_veille("check", cwd=tmp_path)
    assert result.code == 2
    assert result.err.strip() == (
        "config.yaml: ligne 2 : la valeur contient « : » : mettez la valeur entre guillemets "
        '(name: "Cégep: Drummondville")'
    )


# --- Resource limits ---------------------------------------------------------------------


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the test (instead of hanging it) if the loader expands what it should refuse."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"toujours en cours après {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_config_over_1_mb_is_refused_before_parsing(tmp_path: Path) -> None:
    text = GOOD + "\t" * 1_100_000  # parsed, the tabs would be a syntax error
    size = len(text.encode("utf-8"))
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    shown = f"{size:,}".replace(",", " ")
    assert str(caught.value) == (
        f"{tmp_path / 'config.yaml'}: fichier trop volumineux "
        f"({shown} octets ; limite : 1 000 000 octets, soit 1 Mo) : un config.yaml fait quelques Ko"
    )


def test_config_just_under_the_limit_loads(tmp_path: Path) -> None:
    text = GOOD + "# " + "x" * (999_000 - len(GOOD.encode("utf-8"))) + "\n"
    assert _load(tmp_path, text).brand.name == "Cégep de Drummondville"


BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join([f'*{before}'] * 9)}]\n"
    for before, name in zip("abcdefgh", "bcdefghi", strict=True)
)
# Only 48 alias uses, yet 2**24 nodes once expanded.
DOUBLINGS = "l0: &l0 [lol, lol]\n" + "".join(
    f"l{level}: &l{level} [*l{level - 1}, *l{level - 1}]\n" for level in range(1, 25)
)
YAML_BOMBS = [
    ("billion laughs", BILLION_LAUGHS, 5, "les alias YAML (*nom) développent le fichier au-delà"),
    ("doublings under 50 aliases", DOUBLINGS, 12, "développent le fichier au-delà de 10 000"),
    (
        "more than 50 aliases",
        "x: &x 1\nmany:\n" + "  - *x\n" * 51,
        53,
        "trop d'alias YAML (*nom) : plus de 50 dans le fichier",
    ),
    ("recursive alias", "a: &a [1, *a]\n", 1, "l'alias « *a » est à l'intérieur du bloc"),
    ("deep nesting", "a: " + "[\n" * 5000 + "]" * 5000 + "\n", 50, "imbrication trop profonde"),
]


@pytest.mark.parametrize(
    ("label", "text", "line", "message"), YAML_BOMBS, ids=[c[0] for c in YAML_BOMBS]
)
def test_yaml_bombs_are_refused_before_expansion(
    tmp_path: Path, label: str, text: str, line: int, message: str
) -> None:
    started = time.perf_counter()
    with _deadline(5), pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    elapsed = time.perf_counter() - started
    shown = str(caught.value)
    assert shown.startswith(f"{tmp_path / 'config.yaml'}: ligne {line} : "), shown
    assert message in shown, shown
    assert elapsed < 0.5, elapsed


def test_a_few_aliases_still_work(tmp_path: Path) -> None:
    text = GOOD.replace("every: 30m", "every: &often 30m").replace(
        "digest:",
        "  - {name: Autre, type: feed, url: 'https://autre.test/', every: *often}\ndigest:",
    )
    config = _load(tmp_path, text)
    assert [s.every for s in config.sources] == [timedelta(minutes=30)] * 2


# --- storage.evidence_dir ----------------------------------------------------------------


def test_evidence_dir_is_resolved_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "config.yaml").write_text(
        GOOD + "storage:\n  evidence_dir: dossiers/preuves\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("etc/config.yaml"), source_types=options_models())
    assert config.evidence_dir == folder / "dossiers" / "preuves"
    assert config.storage.evidence_dir == str(config.evidence_dir)
    elsewhere = tmp_path / "ailleurs"
    config = _load(folder, GOOD + f"storage:\n  evidence_dir: {elsewhere}\n")
    assert config.evidence_dir == elsewhere


# --- smtp: the two usual set-ups -----------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "port", "ssl"),
    [
        ("  port: 587\n  starttls: true\n", 587, False),
        ("  port: 465\n  ssl: true\n", 465, True),
        ("  port: 465\n  ssl: true\n  starttls: true\n", 465, True),  # starttls ignored
        ("  ssl: true\n", 465, True),  # the port follows ssl
        ("", 587, False),
        ("  port: 2525\n  starttls: false\n", 2525, False),
    ],
)
def test_smtp_usual_setups(tmp_path: Path, block: str, port: int, ssl: bool) -> None:
    config = _load(tmp_path, GOOD + "smtp:\n  host: smtp.test\n" + block)
    assert config.smtp is not None
    assert (config.smtp.port, config.smtp.ssl) == (port, ssl)


def _commented_blocks(text: str, key: str) -> list[str]:
    """Each commented-out ``# key:`` block of ``text``, uncommented."""
    blocks: list[str] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"# {key}:"):
            block = [line[2:]]
            for following in lines[index + 1 :]:
                if not following.startswith("#   "):
                    break
                block.append(following[2:])
            blocks.append("\n".join(block) + "\n")
    return blocks


@pytest.mark.parametrize("shipped", ["config.yaml", "veille/starter_config.yaml"])
def test_shipped_files_document_both_smtp_setups_and_evidence_dir(
    tmp_path: Path, shipped: str
) -> None:
    text = (ROOT / shipped).read_text(encoding="utf-8")
    assert "evidence_dir: preuves" in text
    examples = _commented_blocks(text, "smtp")
    setups = set()
    for example in examples:
        config = _load(tmp_path, text + "\n" + example)
        assert config.smtp is not None
        setups.add((config.smtp.port, config.smtp.starttls or config.smtp.ssl, config.smtp.ssl))
        assert config.evidence_dir == tmp_path / "preuves"
    assert setups == {(587, True, False), (465, True, True)}
