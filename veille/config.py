"""Loading and validating ``config.yaml``.

``load_config(path, source_types=...)`` reads the YAML while remembering the
line of every key, validates it with pydantic and turns any mistake into one
:class:`~veille.errors.ConfigError` line: ``config.yaml: ligne 12 : digest.at :
heure invalide « 7h30 » (attendu HH:MM)``.

Source entries are validated by the options model of their ``type:`` (passed in
by the caller, see ``collectors.REGISTRY``), so each collector owns its options.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any
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

from veille.errors import ConfigError

DEFAULT_CONFIG = "config.yaml"

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


class SmtpConfig(_Section):
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
        return data

    def password(self) -> str | None:
        """The password read from the environment at the moment it is needed."""
        if not self.password_env:
            return None
        return os.environ.get(self.password_env)


class StorageConfig(_Section):
    url: str = "sqlite:///veille.db"
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
    sources: tuple[dict[str, Any], ...] = Field(min_length=1)
    digest: DigestConfig
    smtp: SmtpConfig | None = None
    storage: StorageConfig = StorageConfig()
    http: HttpConfig = HttpConfig()
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

    @property
    def enabled_sources(self) -> tuple[SourceConfig, ...]:
        return tuple(source for source in self.sources if source.enabled)


# --- YAML with line numbers -------------------------------------------------------

Path_ = tuple[str | int, ...]


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], where: str) -> Any:
    """Turn a composed YAML node into Python data, recording each path's line."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(yaml.safe_load(yaml.serialize(key_node)))
            if key in result:
                raise ConfigError(
                    f"{where}: ligne {key_node.start_mark.line + 1} : clé en double « {key} »"
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, (*path, key), lines, where)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(item, (*path, index), lines, where) for index, item in enumerate(node.value)
        ]
    return yaml.safe_load(yaml.serialize(node))


def _read_yaml(path: Path) -> tuple[Any, dict[Path_, int]]:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{where}: fichier introuvable (indiquez-le avec --config ou VEILLE_CONFIG)"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: le fichier doit être encodé en UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{where}: lecture impossible ({exc.strerror})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"ligne {mark.line + 1} : " if mark else ""
        raise ConfigError(f"{where}: {line}YAML invalide ({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: YAML invalide ({exc})") from None
    if node is None:
        raise ConfigError(f"{where}: le fichier est vide")
    lines: dict[Path_, int] = {}
    return _construct(node, (), lines, where), lines


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
        return f"valeur invalide (attendu : {ctx.get('expected')})"
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
        if relative and relative != ":memory:":
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
    storage = document.storage.model_copy(
        update={"url": _resolve_storage_url(document.storage.url, base)}
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
    )
