"""``type: account`` — every new comment and reply under the recent posts of one of
the college's own accounts.

Options (config.yaml)::

    - name: Facebook du Cégep
      type: account
      platform: facebook        # facebook, instagram, youtube, mastodon or bluesky
      page_id: "123456789012345"   # the account, as its platform names it (see below)
      token_env: VEILLE_FACEBOOK_TOKEN   # the NAME of the variable holding the token
      write_token_env: VEILLE_FACEBOOK_MODERATION   # optional: a token allowed to hide
      posts: 25                 # recent posts to look under (1 to 100)
      every: 1h
      url: http://127.0.0.1:8080   # optional: replaces the API's scheme and host

The account, per platform: facebook ``page_id``; instagram ``ig_user_id``;
youtube ``channel_id`` (``UC…``); mastodon ``instance`` and ``acct``; bluesky
``handle``. Secrets never go in config.yaml, only the names of the variables
that hold them: facebook and instagram read with a Page token (``token_env``),
youtube with an API key (``api_key_env``), mastodon and bluesky need none
(``token_env`` and ``api_key_env`` are then refused). With ``url:`` (a proxy
that authorises by itself, a test server) the reading secret may be left out.
``veille check`` warns about a variable not set; at collect time a missing one
fails this source only, naming the variable.

Every comment is an item in scope without the brand matcher (a reply "t'es
juste un crisse de cave" never names the college): its link, the platform's
id of the comment (``guid``, used to hide it), its first words as title, its
author and the first words of the post it answers (``reply_to``). The source's
``cursor`` keeps where the next visit starts, so a comment is reported once;
its ``usage`` tells what the visit cost (requests, YouTube quota units).

:func:`hide_comment` hides one comment (``veille masquer``) with the token named
by ``write_token_env``, where the platform's API allows it.
"""

from __future__ import annotations

import difflib
import os
import re
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from collectors.accounts import PLATFORMS
from collectors.accounts.base import Account, Api, dump_cursor, load_cursor
from collectors.base import BaseCollector, Collection, SourceState
from veille.config import SourceConfig
from veille.errors import SourceError
from veille.urls import check_http_url

if TYPE_CHECKING:
    from collectors.http import HttpClient

IDENTIFIERS = ("page_id", "ig_user_id", "channel_id", "instance", "acct", "handle")
SECRETS = ("token_env", "api_key_env")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def _located(field: str, value: object, message: str) -> ValidationError:
    """A validation error located on ``field`` (so the message names its line)."""
    error = PydanticCustomError("value_error", "{error}", {"error": message})
    return ValidationError.from_exception_data(
        "AccountSource", [InitErrorDetails(type=error, loc=(field,), input=value)]
    )


class AccountSource(SourceConfig):
    type: Literal["account"] = "account"
    platform: str  # a key of collectors.accounts.PLATFORMS
    page_id: str | None = None
    ig_user_id: str | None = None
    channel_id: str | None = None
    instance: str | None = None
    acct: str | None = None
    handle: str | None = None
    token_env: str | None = None  # names of environment variables,
    api_key_env: str | None = None  # never the secrets themselves
    write_token_env: str | None = None
    posts: int = Field(default=25, ge=1, le=100)
    url: str | None = None

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        if value in PLATFORMS:
            return value
        close = difflib.get_close_matches(value, PLATFORMS, n=1)
        hint = f"vouliez-vous dire « {close[0]} » ? " if close else ""
        raise ValueError(
            f"plateforme inconnue « {value} » ({hint}plateformes possibles : "
            f"{', '.join(sorted(PLATFORMS))})"
        )

    @field_validator("url", "instance")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value.strip())

    @field_validator("page_id", "ig_user_id", "channel_id", "acct", "handle")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().removeprefix("@")
        if not value or any(c.isspace() or c in "/?#" for c in value):
            raise ValueError(f"identifiant de compte invalide « {value} »")
        return value

    @field_validator("token_env", "api_key_env", "write_token_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is None or _VARIABLE.fullmatch(value):
            return value
        raise ValueError(
            "nom de variable d'environnement attendu (par exemple VEILLE_FACEBOOK_TOKEN), "
            "jamais le secret lui-même"
        )

    @model_validator(mode="after")
    def _fits_platform(self) -> AccountSource:
        platform = PLATFORMS[self.platform]
        needed = [platform.identifier] + (["instance"] if platform.origin is None else [])
        for name in IDENTIFIERS:
            value = getattr(self, name)
            if value is not None and name not in needed:
                raise _located(
                    name,
                    value,
                    f"« {name} » ne sert pas à la plateforme {self.platform} "
                    f"(elle demande {' et '.join(needed)})",
                )
        for name in needed:
            if getattr(self, name) is None:
                what = platform.identifier_help if name != "instance" else "l'adresse du serveur"
                raise _located(
                    "platform",
                    self.platform,
                    f"la plateforme {self.platform} demande {name} ({what})",
                )
        for name in SECRETS:
            value = getattr(self, name)
            if value is not None and name != platform.secret:
                wants = (
                    f"elle demande {platform.secret} : {platform.secret_help}"
                    if platform.secret
                    else "elle ne demande aucun secret"
                )
                raise _located(
                    name, value, f"« {name} » ne sert pas à la plateforme {self.platform} ({wants})"
                )
        if platform.secret and getattr(self, platform.secret) is None and self.url is None:
            raise _located(
                "platform",
                self.platform,
                f"la plateforme {self.platform} demande {platform.secret} : le nom de la "
                f"variable d'environnement qui contient {platform.secret_help}",
            )
        if self.write_token_env is not None and not platform.moderation:
            raise _located(
                "write_token_env",
                self.write_token_env,
                f"« write_token_env » ne sert pas à la plateforme {self.platform} : "
                "elle n'offre pas d'API pour masquer une réponse",
            )
        if self.channel_id is not None and not self.channel_id.startswith("UC"):
            raise _located(
                "channel_id",
                self.channel_id,
                f"channel_id commence par UC (l'identifiant de la chaîne, pas son @nom) : "
                f"« {self.channel_id} »",
            )
        return self

    @property
    def account_id(self) -> str:
        value = getattr(self, PLATFORMS[self.platform].identifier)
        assert isinstance(value, str)
        return value

    @property
    def api_base(self) -> str:
        """Where the platform's API lives: ``url:`` (else the public address, or the
        Mastodon instance) followed by the API's own path (Graph version included)."""
        platform = PLATFORMS[self.platform]
        origin = self.url or (self.instance if platform.origin is None else platform.origin)
        assert origin is not None
        return origin.rstrip("/") + platform.path

    @property
    def secret_env(self) -> str | None:
        """The variable holding the reading secret (token or API key), if any."""
        secret = PLATFORMS[self.platform].secret
        value = getattr(self, secret) if secret else None
        return value if isinstance(value, str) else None

    def warnings(self) -> list[str]:
        notes = [
            f"la variable d'environnement {name} n'est pas définie dans cet environnement"
            + (
                " (nécessaire seulement pour veille masquer)"
                if name == self.write_token_env
                else ""
            )
            for name in dict.fromkeys((self.secret_env, self.write_token_env))
            if name and not os.environ.get(name)
        ]
        if self.platform == "youtube" and "posts" in self.model_fields_set:
            notes.append(
                "posts est sans effet avec youtube : les fils de commentaires de toute la chaîne "
                "sont lus, du plus récent au plus ancien"
            )
        return notes


def read_variable(name: str, what: str) -> str:
    """The value of the environment variable ``name``; SourceError naming it when unset."""
    value = os.environ.get(name, "")
    if not value:
        raise SourceError(f"la variable d'environnement {name} ({what}) n'est pas définie")
    return value


class AccountCollector(BaseCollector[AccountSource]):
    """Reads the new comments under one official account's recent posts."""

    source_type: ClassVar[str] = "account"
    options_model: ClassVar[type[SourceConfig]] = AccountSource
    group_label: ClassVar[str] = "Sur nos comptes officiels"
    always_in_scope: ClassVar[bool] = True

    def __init__(self, options: AccountSource):
        super().__init__(options)
        self.platform = PLATFORMS[options.platform]

    @property
    def account(self) -> Account:
        options = self.options
        return Account(
            source=options.name,
            id=options.account_id,
            base=options.api_base,
            posts=options.posts,
            every=options.every.total_seconds(),
            secret_env=options.secret_env,
        )

    async def collect(self, client: HttpClient, state: SourceState) -> Collection:
        name = self.options.secret_env
        secret = read_variable(name, self.platform.secret_help) if name else None
        account = self.account
        api = Api(client, self.platform, auth=self.platform.auth(secret), account=account)
        cursor = load_cursor(state.cursor, account.id)
        reading = await self.platform.read(api, account, cursor)
        return Collection(
            items=reading.items,
            state=SourceState(cursor=dump_cursor(reading.cursor)),
            bytes_received=api.bytes_received,
            warning=reading.warning,
            rejected=reading.rejected,
            usage=self.platform.usage(api, account),
        )


async def hide_comment(
    client: HttpClient, options: AccountSource, comment_id: str, *, url: str | None = None
) -> str:
    """Hide one comment of this account (``veille masquer``) with the token named by
    ``write_token_env``: the platform's answer in French, else SourceError in French
    (no token, a platform without such an API, a refusal). ``url`` is the comment's
    link, given to do it by hand where the platform has no API."""
    platform = PLATFORMS[options.platform]
    name = options.write_token_env
    token = read_variable(name, "jeton autorisé à masquer") if name else None
    return await platform.hide(
        client, base=options.api_base, comment_id=comment_id, token=token, token_env=name, url=url
    )
