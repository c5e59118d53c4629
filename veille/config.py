"""Loading and validating ``config.yaml``.

``load_config(path, source_types=...)`` reads the YAML while remembering the
line of every key, validates it with pydantic and turns any mistake into one
:class:`~veille.errors.ConfigError` line: ``config.yaml: ligne 12 : digest.at :
heure invalide « 7h30 » (attendu HH:MM)``.

YAML syntax errors are told in French at the line of the real mistake, with
the likely fix (an unclosed quote is reported where it opens, not at the end
of the file). The file is read within limits: at most ``MAX_CONFIG_BYTES``,
``MAX_ALIASES`` alias uses expanding to at most ``MAX_ALIAS_NODES`` nodes, and
``MAX_DEPTH`` levels of nesting, so a "billion laughs" document is refused
before it is expanded.

Source entries are validated by the options model of their ``type:`` (passed in
by the caller, see ``collectors.REGISTRY``), so each collector owns its options.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from veille.errors import ConfigError

DEFAULT_CONFIG = "config.yaml"

MAX_CONFIG_BYTES = 1_000_000  # a real config.yaml is a few kilobytes
MAX_ALIASES = 50  # uses of *name in the document
MAX_ALIAS_NODES = 10_000  # nodes the aliases add once expanded
MAX_DEPTH = 50  # nested blocks or lists

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|j)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "j": 86400}
_EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def parse_duration(value: object) -> timedelta:
    """``30s``, ``30m``, ``1h``, ``1d`` (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"durée invalide « {value} » (exemples : 30s, 30m, 1h, 1d)")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION_RE.match(str(value))
        if not match:
            raise ValueError(f"durée invalide « {value} » (exemples : 30s, 30m, 1h, 1d)")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds <= 0:
        raise ValueError(f"durée invalide « {value} » : elle doit être positive")
    return timedelta(seconds=seconds)


def _parse_clock(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int):  # YAML 1.1 reads 07:30 unquoted as a sexagesimal int
        hours, minutes = divmod(value, 60)
        if 0 <= hours < 24:
            return time(hours, minutes)
    match = re.fullmatch(r"\s*(\d{1,2})[:h](\d{2})\s*", str(value))
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return time(int(match.group(1)), int(match.group(2)))
    raise ValueError(f'heure invalide « {value} » (attendu HH:MM, par exemple "07:30")')


def _parse_email(value: object) -> str:
    text = str(value).strip()
    if not _EMAIL_RE.match(text):
        raise ValueError(f"adresse courriel invalide « {value} »")
    return text


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
ClockTime = Annotated[time, BeforeValidator(_parse_clock)]
Email = Annotated[str, BeforeValidator(_parse_email)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrandConfig(_Section):
    """The institution to watch: every form comes from here, never from code."""

    name: str = Field(min_length=3)
    aliases: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


class AlertsConfig(_Section):
    keywords: tuple[str, ...] = ()


ProposCategoryName = Literal["insulte", "diffamation", "menace", "haine", "vie_privee"]


class ProposConfig(_Section):
    """The propos detector (injurious comments): from which severity a comment or a
    mention is urgent (insulte 1; diffamation, haine, vie privée 2; menace 3), words
    a team adds per category or never wants counted, and the institution's own public
    phone numbers and addresses (never "private information")."""

    alert_at: int = Field(default=1, ge=1, le=3)
    extra_words: dict[ProposCategoryName, tuple[str, ...]] = {}
    ignore_words: tuple[str, ...] = ()
    public_contacts: tuple[str, ...] = ()


class DigestConfig(_Section):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    to: tuple[Email, ...] = Field(min_length=1)
    admin_to: tuple[Email, ...] = ()
    sender: Email = Field(alias="from")
    at: ClockTime = time(7, 30)
    timezone: str = "America/Montreal"
    send_empty: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"fuseau horaire inconnu « {value} » (exemple : America/Montreal)"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _field_error(model: str, field: str, value: object, message: str) -> ValidationError:
    """A validation error located on ``field`` (so the message names its line)."""
    error = PydanticCustomError("value_error", "{error}", {"error": message})
    return ValidationError.from_exception_data(
        model, [InitErrorDetails(type=error, loc=(field,), input=value)]
    )


class SmtpConfig(_Section):
    """How emails leave: port 587 with ``starttls``, or port 465 with ``ssl``.

    With ``ssl: true`` the connection is encrypted from the start and
    ``starttls`` is ignored; the port then defaults to 465.
    """

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False
    username: str | None = None
    password_env: str | None = None
    timeout: Duration = timedelta(seconds=30)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "le mot de passe ne s'écrit jamais dans config.yaml : "
                "mettez-le dans une variable d'environnement et nommez-la avec password_env"
            )
        if isinstance(data, dict) and data.get("ssl") is True and "port" not in data:
            return {**data, "port": 465}
        return data

    @model_validator(mode="after")
    def _port_matches_encryption(self) -> SmtpConfig:
        # Both mismatches only show at connection time: 587 answers SSL with a
        # plain-text greeting (handshake error), 465 waits for a TLS hello while
        # the client waits for a greeting (a hang until the timeout).
        if self.ssl and self.port == 587:
            raise _field_error(
                "SmtpConfig",
                "port",
                self.port,
                "le port 587 attend STARTTLS, pas une connexion SSL directe : "
                "retirez ssl: true (starttls: true suffit) ou prenez le port 465",
            )
        if not self.ssl and self.port == 465:
            raise _field_error(
                "SmtpConfig",
                "port",
                self.port,
                "le port 465 attend une connexion chiffrée dès le départ (STARTTLS n'y "
                "fonctionne pas) : ajoutez ssl: true, ou prenez le port 587 avec starttls: true",
            )
        return self

    def password(self) -> str | None:
        """The password read from the environment at the moment it is needed."""
        if not self.password_env:
            return None
        return os.environ.get(self.password_env)


class StorageConfig(_Section):
    url: str = "sqlite:///veille.db"
    evidence_dir: str = Field(default="preuves", min_length=1)  # see Config.evidence_dir
    keep_text: Duration = timedelta(days=90)  # text of items, for veille rescan
    keep_items: Duration = timedelta(days=180)  # items seen without a mention


class HttpConfig(_Section):
    user_agent: str = (
        "veille/0.1 (mecanisme de veille du Cegep de Drummondville; +https://www.cegepdrummond.ca)"
    )
    timeout: Duration = timedelta(seconds=20)
    concurrency: int = Field(default=8, ge=1, le=64)
    per_host_delay: Duration = timedelta(seconds=1)
    max_bytes: int = Field(default=5_000_000, ge=1000)
    max_redirects: int = Field(default=5, ge=0, le=20)
    respect_robots: bool = True
    allow_private_links: bool = False

    @model_validator(mode="before")
    @classmethod
    def _allow_zero_delay(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("per_host_delay") in (0, "0", "0s"):
            return {**data, "per_host_delay": timedelta(0)}
        return data


class WebConfig(_Section):
    """The workspace (``veille web``, or inside ``veille daemon`` when this block is
    present). ``base_url`` is the address people use (behind a reverse proxy, in
    HTTPS): every link of the emails points there. ``trusted_header`` (e.g.
    X-Remote-User) is honoured only from ``trusted_proxies``. ``secret_env`` names the
    variable holding the key that signs session cookies."""

    base_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    trusted_header: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    secret_env: str | None = None

    @field_validator("base_url")
    @classmethod
    def _http_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("adresse http(s) attendue (ex. https://veille.cegepdrummond.ca)")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"adresse ou réseau invalide « {network} » (ex. 127.0.0.1, 10.0.0.0/8)"
                ) from None
        return value


class SourceConfig(BaseModel):
    """Options shared by every source; each collector extends it with its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    type: str
    every: Duration = timedelta(hours=1)
    enabled: bool = True
    stale_after: Duration = timedelta(days=30)  # 200 but nothing new for so long: a dead feed?

    def warnings(self) -> list[str]:
        """What ``veille check`` should point out about this source (in French)."""
        return []


class _Document(_Section):
    brand: BrandConfig
    alerts: AlertsConfig = AlertsConfig()
    propos: ProposConfig = ProposConfig()
    sources: tuple[dict[str, Any], ...] = Field(min_length=1)
    digest: DigestConfig
    smtp: SmtpConfig | None = None
    storage: StorageConfig = StorageConfig()
    http: HttpConfig = HttpConfig()
    web: WebConfig | None = None
    outbox: str = "outbox"


@dataclass(frozen=True, slots=True)
class Config:
    """A validated configuration; paths are resolved against the file's folder."""

    path: Path
    brand: BrandConfig
    alerts: AlertsConfig
    sources: tuple[SourceConfig, ...]
    digest: DigestConfig
    smtp: SmtpConfig | None
    storage: StorageConfig
    http: HttpConfig
    outbox_dir: Path
    evidence_dir: Path  # storage.evidence_dir, resolved: evidence for the démarches
    propos: ProposConfig = ProposConfig()
    web: WebConfig | None = None  # None: no web: block (veille web still serves, on defaults)

    @property
    def enabled_sources(self) -> tuple[SourceConfig, ...]:
        return tuple(source for source in self.sources if source.enabled)


# --- YAML with line numbers -------------------------------------------------------

Path_ = tuple[str | int, ...]


class _Refused(Exception):
    """The YAML is refused before it is turned into data; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _GuardedLoader(yaml.SafeLoader):
    """Composes the node graph, refusing a document that would blow up once expanded.

    PyYAML composes an alias as one more reference to the anchored node, so
    the graph stays small; it grows when it is turned into Python data. Counting
    here stops a "billion laughs" before that, and bounds the nesting depth (the
    composer is recursive: a thousand ``[`` would otherwise end in RecursionError).
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._aliases = 0
        self._alias_nodes = 0
        self._depth = 0
        self._open: set[str] = set()  # anchors whose node is being composed
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(
                    line,
                    f"trop d'alias YAML (*nom) : plus de {MAX_ALIASES} dans le fichier ; "
                    "écrivez ces valeurs en toutes lettres",
                )
            if event.anchor in self._open:
                raise _Refused(
                    line, f"l'alias « *{event.anchor} » est à l'intérieur du bloc qu'il désigne"
                )
            target = self.anchors.get(event.anchor)
            if target is not None:  # an undefined alias is left to PyYAML
                self._alias_nodes += self._size(target)
                if self._alias_nodes > MAX_ALIAS_NODES:
                    raise _Refused(
                        line,
                        "les alias YAML (*nom) développent le fichier au-delà de "
                        f"{_thousands(MAX_ALIAS_NODES)} éléments ; "
                        "écrivez ces valeurs en toutes lettres",
                    )
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(
                line,
                f"imbrication trop profonde (plus de {MAX_DEPTH} niveaux de blocs ou de listes)",
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open.discard(anchor)

    def _size(self, node: yaml.Node) -> int:
        """How many nodes ``node`` stands for once its aliases are expanded."""
        size = self._sizes.get(id(node))
        if size is None:
            if isinstance(node, yaml.MappingNode):
                size = 1 + sum(self._size(key) + self._size(value) for key, value in node.value)
            elif isinstance(node, yaml.SequenceNode):
                size = 1 + sum(self._size(item) for item in node.value)
            else:
                size = 1
            self._sizes[id(node)] = size
        return size


def _construct(
    node: yaml.Node,
    path: Path_,
    lines: dict[Path_, int],
    where: str,
    scalars: yaml.constructor.SafeConstructor,
) -> Any:
    """Turn a composed YAML node into Python data, recording each path's line."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_construct(key_node, (*path, "?"), {}, where, scalars))
            if key in result:
                raise ConfigError(
                    f"{where}: ligne {key_node.start_mark.line + 1} : clé en double « {key} »"
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, (*path, key), lines, where, scalars)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(item, (*path, index), lines, where, scalars)
            for index, item in enumerate(node.value)
        ]
    try:
        return scalars.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        # An explicit tag (!foo, !!int abc) or a date that does not exist (2024-13-01).
        at = f"{where}: ligne {node.start_mark.line + 1} : "
        if node.tag not in scalars.yaml_constructors:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise ConfigError(
                f"{at}étiquette YAML « {tag} » non prise en charge : retirez-la"
            ) from None
        raise ConfigError(
            f"{at}valeur illisible « {node.value} » : mettez-la entre guillemets"
        ) from None


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def _read_text(path: Path) -> str:
    """The file's text, refused beyond ``MAX_CONFIG_BYTES`` before anything is parsed."""
    where = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
            size = max(len(raw), os.fstat(handle.fileno()).st_size)
    except FileNotFoundError:
        raise ConfigError(
            f"{where}: fichier introuvable (indiquez-le avec --config ou VEILLE_CONFIG)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{where}: c'est un dossier ; indiquez le fichier lui-même") from None
    except OSError as exc:
        raise ConfigError(f"{where}: lecture impossible ({exc.strerror})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{where}: fichier trop volumineux ({_thousands(size)} octets ; limite : "
            f"{_thousands(MAX_CONFIG_BYTES)} octets, soit {MAX_CONFIG_BYTES / 1e6:g} Mo) : "
            "un config.yaml fait quelques Ko"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: le fichier doit être encodé en UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_yaml(path: Path) -> tuple[Any, dict[Path_, int]]:
    where = str(path)
    text = _read_text(path)
    loader: _GuardedLoader | None = None
    try:
        loader = _GuardedLoader(text)  # checks for forbidden characters at once
        node = loader.get_single_node()
    except _Refused as exc:
        raise ConfigError(f"{where}: ligne {exc.line} : {exc.message}") from None
    except yaml.YAMLError as exc:
        line, message = _syntax_error(exc, text)
        at = f"ligne {line} : " if line else ""
        raise ConfigError(f"{where}: {at}{message}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise ConfigError(f"{where}: le fichier est vide")
    lines: dict[Path_, int] = {}
    return _construct(node, (), lines, where, yaml.constructor.SafeConstructor()), lines


# --- YAML syntax errors, in French ----------------------------------------------------
# PyYAML reports where it noticed the problem, often far below the mistake (an
# unclosed quote shows at the end of the file). Each rule below maps one common
# PyYAML problem to the line of the real mistake and the likely fix.

_TOKEN_START = re.compile(r"found character '(.+)' that cannot start any token")


def _spaces(count: int) -> str:
    return f"{count} espace{'s' if count > 1 else ''}"


def _value_text(text: str) -> str:
    """A plain value as YAML reads it: up to its end-of-line comment."""
    return text.split(" #", 1)[0].strip()


def _quoted(value: str) -> str:
    if '"' in value or "\\" in value:
        return "'" + value.replace("'", "''") + "'"
    return f'"{value}"'


def _key_column(line: str) -> tuple[int, str]:
    """Where the key of ``line`` starts (after a list dash) and the key itself."""
    body = line.lstrip()
    column = len(line) - len(body)
    if body.startswith("- "):
        rest = body[2:].lstrip()
        column += len(body) - len(rest)
        body = rest
    return column, body.split(":", 1)[0].strip()


def _previous_line(lines: Sequence[str], index: int) -> int | None:
    """The index of the nearest line above ``index`` holding more than a comment."""
    for before in range(min(index, len(lines)) - 1, -1, -1):
        stripped = lines[before].strip()
        if stripped and not stripped.startswith("#"):
            return before
    return None


def _indentation(lines: Sequence[str], index: int, column: int) -> str:
    here = lines[index] if index < len(lines) else ""
    key = _key_column(here[column:])[1] or here.strip()
    previous = _previous_line(lines, index)
    if previous is not None:
        other_column, other = _key_column(lines[previous])
        item = lines[previous].lstrip()
        if item.startswith("- ") and not re.search(r":(\s|$)", item):
            return (
                f"indentation incohérente : « {key} » suit la liste de la ligne {previous + 1} "
                "sans être un élément « - » ; une clé du bloc parent s'écrit moins en retrait"
            )
        if other and other_column != column:
            return (
                f"indentation incohérente : « {key} » est à {_spaces(column)} du bord, "
                f"« {other} » (ligne {previous + 1}) à {_spaces(other_column)} ; "
                "alignez les clés d'un même bloc, avec des espaces"
            )
    return (
        f"indentation incohérente : « {key} » ne s'aligne sur aucun bloc ouvert au-dessus ; "
        "vérifiez les espaces au début de cette ligne et de la précédente"
    )


def _colon_in_value(lines: Sequence[str], mark: yaml.Mark) -> tuple[int, str]:
    """``mapping values are not allowed here``: a ': ' inside a value, or a key too far right."""
    here = lines[mark.line] if mark.line < len(lines) else ""
    body = here[: mark.column].lstrip()
    if body.startswith("- "):
        body = body[2:].lstrip()
    key, separator, start = body.partition(": ")
    if separator:
        value = _value_text(start + here[mark.column :])
        return mark.line + 1, (
            "la valeur contient « : » : mettez la valeur entre guillemets "
            f"({key}: {_quoted(value)})"
        )
    previous = _previous_line(lines, mark.line)
    if previous is not None and not re.search(r":(\s|$)", lines[previous]):
        return previous + 1, (
            f"il manque « : » après « {_value_text(_key_column(lines[previous])[1])} » "
            "(une clé s'écrit « clé: valeur »)"
        )
    return mark.line + 1, _indentation(lines, mark.line, _key_column(here)[0])


def _quoted_before(text: str, index: int) -> yaml.ScalarToken | None:
    """The quoted scalar that ends right before ``index``, if that is what precedes it."""
    last: yaml.Token | None = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= index:
                break
            last = token
    except yaml.YAMLError:
        pass
    if isinstance(last, yaml.ScalarToken) and last.style in ("'", '"'):
        return last
    return None


def _text_after_quote(lines: Sequence[str], quoted: yaml.ScalarToken) -> str:
    """Text after a closing quote: an apostrophe in single quotes, or a half-quoted value."""
    start = quoted.start_mark
    key = _key_column(lines[start.line][: start.column])[1]
    value = _value_text(lines[start.line][start.column :])
    shown = f"{key}: " if key else ""
    if quoted.style == "'" and len(value) > 1 and value.endswith("'"):
        inner = value[1:-1]
        return (
            "du texte suit le guillemet de fin : entre guillemets simples, une apostrophe "
            f"s'écrit deux fois ('') ; écrivez plutôt {shown}{_quoted(inner)}"
        )
    return (
        "du texte suit le guillemet de fin : mettez toute la valeur entre guillemets "
        f"({shown}{_quoted(value)})"
    )


def _syntax_error(exc: yaml.YAMLError, text: str) -> tuple[int | None, str]:
    """The line of the real mistake and a French message with the likely fix."""
    lines = text.split("\n")
    if isinstance(exc, yaml.reader.ReaderError):
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return text.count("\n", 0, exc.position) + 1, (
            f"caractère interdit (U+{code:04X}) : retirez-le ou remplacez-le"
        )
    if not isinstance(exc, yaml.MarkedYAMLError):
        return None, f"YAML invalide ({' '.join(str(exc).split())})"
    problem, context = exc.problem or "", exc.context or ""
    mark, start = exc.problem_mark, exc.context_mark
    if mark is None:
        mark = start
    if mark is None:
        return None, f"YAML invalide (PyYAML : {problem or context})"
    line = mark.line + 1
    here = lines[mark.line] if mark.line < len(lines) else ""

    if "quoted scalar" in context and start is not None:
        if problem.startswith("found unexpected"):  # end of stream, or a '---' line
            quote = text[start.index] if text[start.index : start.index + 1] == "'" else '"'
            return start.line + 1, (
                f"guillemet non fermé : la valeur qui commence par {quote} sur cette ligne "
                f"ne se termine jamais ; ajoutez le guillemet de fin {quote}"
            )
        if problem.startswith("found unknown escape character"):
            return line, (
                "barre oblique inverse (\\) entre guillemets doubles : doublez-la (\\\\) "
                "ou mettez la valeur entre guillemets simples"
            )
    if problem.startswith("found character"):
        found = _TOKEN_START.match(problem)
        character = found.group(1) if found else ""
        if character == "\\t":
            if not here[: mark.column].strip():
                return line, "tabulation interdite pour l'indentation : utilisez des espaces"
            return line, "tabulation interdite ici : remplacez-la par une espace"
        if character in ("@", "`", "%"):
            value = _value_text(here[mark.column :])
            return line, (
                f"une valeur ne peut pas commencer par « {character} » : "
                f"mettez-la entre guillemets ({_quoted(value)})"
            )
    if problem == "mapping values are not allowed here":
        return _colon_in_value(lines, mark)
    if problem.startswith("expected <block end>, but found"):
        found_token = problem.rsplit("but found ", 1)[1].strip("'")
        if found_token == "<scalar>":
            quoted = _quoted_before(text, mark.index)
            if quoted is not None and quoted.start_mark.line < quoted.end_mark.line:
                quote = quoted.style
                return quoted.start_mark.line + 1, (
                    f"guillemet non fermé : la valeur qui commence par {quote} sur cette ligne "
                    f"ne se termine pas sur la même ligne ; ajoutez le guillemet de fin {quote}"
                )
            if quoted is not None:
                return line, _text_after_quote(lines, quoted)
        elif found_token in ("]", "}"):
            opener = "[" if found_token == "]" else "{"
            return line, (
                f"« {found_token} » en trop : aucun « {opener} » ouvert ne lui correspond "
                "(retirez-le, ou mettez la valeur entre guillemets)"
            )
        elif found_token == "-":
            return line, (
                "indentation incohérente : cet élément de liste (« - ») n'appartient à aucune "
                "liste ; mettez-le en retrait sous la clé de sa liste"
            )
        if found_token != "<scalar>" or not here[: mark.column].strip():
            return line, _indentation(lines, mark.line, mark.column)
    if context.startswith("while parsing a flow") and problem.startswith("expected ','"):
        sequence = "sequence" in context
        if start is not None and (mark.line > start.line or "<stream end>" in problem):
            if sequence:
                return start.line + 1, (
                    "crochet « [ » non fermé : ajoutez « ] » à la fin de la liste"
                )
            return start.line + 1, "accolade « { » non fermée : ajoutez « } » à la fin du bloc"
        if sequence:
            return line, (
                "liste [ … ] mal formée : séparez les éléments par des virgules et mettez "
                "entre guillemets ceux qui contiennent « : », « , », « [ » ou « ] »"
            )
        return line, (
            "bloc { … } mal formé : écrivez {clé: valeur, clé: valeur} et mettez entre "
            "guillemets les valeurs qui contiennent « : » ou « , »"
        )
    if context == "while scanning a simple key" and start is not None:
        key = _value_text(lines[start.line][start.column :]) if start.line < len(lines) else ""
        return start.line + 1, (
            f"il manque « : » après « {key} » (une clé s'écrit « clé: valeur »), "
            "ou l'indentation de cette ligne est incohérente"
        )
    if context.startswith("found duplicate anchor") and start is not None:
        return line, (
            f"ancre en double (déjà définie à la ligne {start.line + 1}) : "
            "donnez un autre nom à celle-ci"
        )
    if problem.startswith("found undefined alias"):
        return line, (
            "alias (*nom) sans ancre (&nom) plus haut dans le fichier : pour une valeur "
            "qui commence par *, mettez-la entre guillemets"
        )
    if context == "expected a single document in the stream":
        return line, "un seul document par fichier : retirez la ligne « --- » et fusionnez la suite"
    details = "; ".join(" ".join(part.split()) for part in (problem, context) if part)
    return line, f"YAML invalide ; vérifiez cette ligne et la précédente (PyYAML : {details})"


# --- Error messages -----------------------------------------------------------------

_MESSAGES = {
    "string_type": "doit être un texte",
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "bool_type": "doit être true ou false",
    "bool_parsing": "doit être true ou false",
    "list_type": "doit être une liste",
    "tuple_type": "doit être une liste",
    "dict_type": "doit être un bloc de clés (clé: valeur)",
    "model_type": "doit être un bloc de clés (clé: valeur)",
    "model_attributes_type": "doit être un bloc de clés (clé: valeur)",
}


def _describe(error: Mapping[str, Any], known: Sequence[str] = ()) -> str:
    kind = error["type"]
    loc = error["loc"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"clé obligatoire manquante « {loc[-1]} »"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), known, n=1) if known else []
        hint = f" (vouliez-vous dire « {close[0]} » ?)" if close else ""
        return f"option inconnue « {loc[-1]} »{hint}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"]))
    if kind in ("greater_than_equal", "greater_than"):
        return f"doit être au moins {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"doit être au plus {ctx.get('le', ctx.get('lt'))}"
    if kind in ("too_short", "string_too_short"):
        return "ne doit pas être vide"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("' or '", "' ou '")
        return f"valeur invalide (attendu : {expected})"
    return _MESSAGES.get(kind, str(error["msg"]))


def _dotted(loc: Path_) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_for(loc: Path_, lines: Mapping[Path_, int]) -> int | None:
    for size in range(len(loc), -1, -1):
        if loc[:size] in lines:
            return lines[loc[:size]]
    return None


def _errors(
    exc: ValidationError,
    where: str,
    prefix: Path_,
    lines: Mapping[Path_, int],
    label: str = "",
    known: Sequence[str] = (),
) -> Iterator[str]:
    # An unknown option first: a typo ("urll") also makes the real one look missing.
    for error in sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden"):
        loc = (*prefix, *(p for p in error["loc"] if isinstance(p, str | int)))
        if error["type"] == "missing":
            line = _line_for(loc[:-1], lines)
            shown = _dotted(loc[:-1])
        else:
            line = _line_for(loc, lines)
            shown = _dotted(loc if error["type"] != "extra_forbidden" else loc[:-1])
        at = f"ligne {line} : " if line else ""
        subject = f"{shown}{label} : " if shown else ""
        yield f"{where}: {at}{subject}{_describe(error, known)}"


def _fail(messages: list[str]) -> ConfigError:
    first, *rest = messages
    more = f" (et {len(rest)} autre{'s' if len(rest) > 1 else ''} erreur" + (
        "s)" if len(rest) > 1 else ")"
    )
    return ConfigError(first + (more if rest else ""))


def _resolve_storage_url(url: str, base: Path) -> str:
    """A relative SQLite path is taken from the config file's folder, not the cwd."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        relative = url[len(prefix) :]
        if relative and relative != ":memory:" and not relative.startswith("file:"):
            return prefix + str((base / relative).resolve())
    return url


def config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("VEILLE_CONFIG") or DEFAULT_CONFIG)


def load_config(path: Path, *, source_types: Mapping[str, type[SourceConfig]]) -> Config:
    """Read and validate ``path``; raise ConfigError with the offending line."""
    where = str(path)
    data, lines = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: ligne 1 : le fichier doit être un bloc de clés (brand:, …)")
    try:
        document = _Document.model_validate(data)
    except ValidationError as exc:
        raise _fail(list(_errors(exc, where, (), lines))) from None

    sources: list[SourceConfig] = []
    names: set[str] = set()
    known = ", ".join(sorted(source_types))
    for index, raw in enumerate(document.sources):
        loc: Path_ = ("sources", index)
        label = f" ({raw.get('name')})" if isinstance(raw.get("name"), str) else ""
        at = f"ligne {lines.get(loc, '?')} : sources[{index}]{label}"
        kind = raw.get("type")
        if kind is None:
            raise ConfigError(f"{where}: {at} : clé obligatoire manquante « type » ({known})")
        model = source_types.get(str(kind))
        if model is None:
            type_line = lines.get((*loc, "type"), lines.get(loc, "?"))
            raise ConfigError(
                f"{where}: ligne {type_line} : sources[{index}]{label} : "
                f"type inconnu « {kind} » (types possibles : {known})"
            )
        try:
            source = model.model_validate(raw)
        except ValidationError as exc:
            fields = [f.alias or n for n, f in model.model_fields.items()]
            raise _fail(list(_errors(exc, where, loc, lines, label, fields))) from None
        if source.name in names:
            raise ConfigError(f"{where}: {at} : nom de source en double « {source.name} »")
        names.add(source.name)
        sources.append(source)

    base = path.resolve().parent
    evidence_dir = base / document.storage.evidence_dir
    storage = document.storage.model_copy(
        update={
            "url": _resolve_storage_url(document.storage.url, base),
            "evidence_dir": str(evidence_dir),
        }
    )
    return Config(
        path=path,
        brand=document.brand,
        alerts=document.alerts,
        sources=tuple(sources),
        digest=document.digest,
        smtp=document.smtp,
        storage=storage,
        http=document.http,
        outbox_dir=(base / document.outbox),
        evidence_dir=evidence_dir,
        propos=document.propos,
        web=document.web,
    )
