"""What Facebook and Instagram share: Meta's Graph API.

- Versioned address ``https://graph.facebook.com/v24.0/`` (:data:`GRAPH_VERSION`;
  a source's ``url:`` replaces the scheme and host and keeps the version).
- The Page token goes in ``Authorization: Bearer …``, never in the address. Pages
  are followed with the ``after`` cursor of ``paging.cursors``, on the source's
  own address (the ``next`` link Meta gives carries the token and names
  graph.facebook.com, even behind ``url:``); there is a next page only when Meta
  gives a ``next`` link.
- Rate limits: the ``X-Business-Use-Case-Usage`` header (and ``X-App-Usage``,
  ``X-Page-Usage``) give percentages of each limit; at :data:`USAGE_LIMIT` % or
  more of any of them the source stops and waits, alone, Meta's
  ``estimated_time_to_regain_access`` (else an hour, Meta's window).
- Errors are ``{"error": {"message", "type", "code", "error_subcode"}}``: code 190
  is an expired or invalid token, 4/17/32/613 a rate limit (the source waits),
  10 and 200–299 a missing permission, 100 an unknown object or parameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from collectors.accounts.base import (
    Api,
    ApiRequest,
    bearer,
    error_body,
    field_of,
    platform_error,
    plural,
    short,
)
from collectors.response import MAX_BACKOFF, Response, retry_after
from veille.errors import SourceError

if TYPE_CHECKING:
    from collectors.http import HttpClient

GRAPH_ORIGIN = "https://graph.facebook.com"
GRAPH_VERSION = "v24.0"  # a Graph API version lives two years: raise it before it expires
USAGE_HEADERS = ("x-business-use-case-usage", "x-app-usage", "x-page-usage")
USAGE_LIMIT = 90.0  # percent of any Meta limit: the source waits beyond it
META_WINDOW = 3600.0  # seconds: Meta counts calls over a rolling hour
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80005, 80006, 80008})
USAGE_FIELDS = ("call_count", "total_cputime", "total_time", "acc_id_util_pct")


def after_cursor(data: object) -> str | None:
    """The ``after`` cursor of a Graph answer's next page, or None on the last page."""
    if not isinstance(field_of(data, "paging", "next"), str):
        return None
    after = field_of(data, "paging", "cursors", "after")
    return after if isinstance(after, str) and after else None


def usage(headers: Mapping[str, str]) -> tuple[float, str, float] | None:
    """The highest Meta usage reported (percent), what it counts and the minutes until
    access comes back; None without a usage header."""
    peak: tuple[float, str, float] | None = None
    for header in USAGE_HEADERS:
        try:
            data = json.loads(headers.get(header, "") or "null")
        except (ValueError, RecursionError):
            continue
        for entry in _usage_entries(data):
            regain = _percent(entry.get("estimated_time_to_regain_access")) or 0.0
            kind = entry.get("type") if isinstance(entry.get("type"), str) else header
            for name in USAGE_FIELDS:
                value = _percent(entry.get(name))
                if value is not None and (peak is None or value > peak[0]):
                    peak = (value, str(kind), regain)
    return peak


def _usage_entries(data: object) -> list[dict[str, Any]]:
    """X-App-Usage is one object; X-Business-Use-Case-Usage maps ids to lists of them."""
    if not isinstance(data, dict):
        return []
    if any(name in data for name in USAGE_FIELDS):
        return [data]
    found = []
    for value in data.values():
        for entry in value if isinstance(value, list) else [value]:
            if isinstance(entry, dict):
                found.append(entry)
    return found


def _percent(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None


def check(label: str, response: Response, api: Api) -> None:
    """Stop the visit on an error answer, or when Meta says a limit is nearly used up."""
    if response.status >= 400:
        raise graph_error(
            label,
            response,
            every=api.account.every,
            secret=_secret("token_env", api.account.secret_env),
        )
    peak = usage(response.headers)
    if peak is None:
        return
    percent, kind, regain = peak
    api.peak = percent if api.peak is None else max(api.peak, percent)
    if percent >= USAGE_LIMIT:
        wait = min(regain * 60 if regain > 0 else META_WINDOW, MAX_BACKOFF)
        raise SourceError(
            f"{label} : limite d'appels Meta presque atteinte ({percent:g} % de « {kind} ») : "
            f"cette source attend {wait:.0f} s",
            retry_after=wait,
        )


def graph_error(label: str, response: Response, *, every: float, secret: str) -> SourceError:
    """The French reason of a Graph API error answer; ``secret`` says where the token
    comes from ("token_env VEILLE_FACEBOOK_TOKEN")."""
    error = error_body(response)
    code = error.get("code")
    message = short(error.get("message"))
    variable = f" ({secret})"
    if code == 190 or (response.status == 401 and not code):
        return SourceError(f"{label} : jeton expiré ou invalide : renouvelez-le{variable}")
    if code in RATE_LIMIT_CODES or response.status == 429:
        regain = usage(response.headers)
        default = regain[2] * 60 if regain and regain[2] > 0 else META_WINDOW
        wait = retry_after(response.headers, default)
        return SourceError(
            f"{label} : limite d'appels Meta atteinte (code {code}) : "
            f"nouvel essai dans {wait:.0f} s",
            retry_after=wait,
        )
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        return SourceError(
            f"{label} : permission refusée par Meta{variable} : le jeton doit venir d'un compte "
            f"ayant un rôle sur la Page et porter les permissions demandées ({message})"
        )
    if code == 100:
        return SourceError(f"{label} : objet introuvable ou paramètre refusé ({message})")
    if code is not None:
        return SourceError(f"{label} : erreur {code} de la Graph API ({message})")
    return platform_error(label, response, every=every)


def _secret(option: str, variable: str | None) -> str:
    """Where a token comes from, for a message: "token_env VEILLE_FACEBOOK_TOKEN"."""
    return f"{option} {variable}" if variable else option


def graph_usage(label: str, api: Api) -> str:
    text = f"{plural(api.requests, 'requête')} à la Graph API de {label}"
    if api.peak is not None:
        text += f", utilisation Meta au plus {api.peak:g} %"
    return text


async def graph_hide(
    client: HttpClient,
    *,
    label: str,
    url: str,
    token: str | None,
    token_env: str | None,
    permission: str,
) -> str:
    """POST a Graph hide request (``?is_hidden=true``, ``?hide=true``); Meta's answer."""
    if not token:
        raise SourceError(
            f"{label} : masquer un commentaire demande un jeton avec la permission {permission} "
            "(nommez sa variable d'environnement avec write_token_env)"
        )
    request = ApiRequest(url, method="POST")
    outgoing = next(bearer(token).auth_flow(request))
    response = await client.post(outgoing.url, form={}, headers=dict(outgoing.headers))
    if response.status >= 400:
        secret = _secret("write_token_env", token_env)
        raise graph_error(label, response, every=META_WINDOW, secret=secret)
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict) and data.get("success") is True:
        return f"commentaire masqué sur {label} (réponse de Meta : success)"
    answer = short(response.content.decode("utf-8", "replace"))
    raise SourceError(f"{label} : réponse inattendue de Meta au masquage ({answer})")
