"""config.yaml: every mistake is one French line naming the line, exit 2."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from collectors import REGISTRY, options_models
from tests.conftest import ROOT, run_veille
from veille.config import load_config, parse_duration
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


def _load(tmp_path: Path, text: str):
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
    ("yaml syntax", GOOD + "  to: [oops\n", 13, "YAML invalide"),
    ("duplicate key", GOOD + "brand:\n  name: X\n", 12, "clé en double « brand »"),
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
