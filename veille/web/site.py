"""What every handler of the workspace shares: the store, the configuration, the clock,
the templates, and the guards (who is asking, may they, is the form theirs).

A page handler is a plain function ``(request, viewer) -> Response`` wrapped by
:meth:`Site.page` (signed in, role checked; run in a worker thread since the store
blocks); a form handler is ``(request, viewer, form) -> Response`` wrapped by
:meth:`Site.action`, which also refuses a POST without this session's CSRF token
(403) before anything else. No handler changes state on a GET.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from matchers import BrandMatcher
from storage.store import MentionStore
from veille.config import Config, WebConfig
from veille.rendering import number
from veille.statuses import ROLES, can_admin, can_triage
from veille.web.security import (
    CSRF_FIELD,
    LoginThrottle,
    TrustedProxies,
    check_csrf,
    csrf_token,
    peer_address,
)

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_IDLE = timedelta(hours=12)
SEEN_EVERY = timedelta(minutes=1)  # how often the session's last-seen time is written
Clock = Callable[[], datetime]
Need = str  # "lire", "trier", "administrer"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: a person (session or SSO header) or an API token."""

    name: str  # the email, or the token's name
    role: str
    via: str  # "session", "sso", "jeton"

    @property
    def actor(self) -> str:
        """Who the history records."""
        return f"jeton {self.name}" if self.via == "jeton" else self.name

    @property
    def can_triage(self) -> bool:
        return can_triage(self.role)

    @property
    def can_admin(self) -> bool:
        return can_admin(self.role)

    def may(self, need: Need) -> bool:
        if self.role not in ROLES:  # a role this version does not know: nothing
            return False
        if need == "trier":
            return self.can_triage
        if need == "administrer":
            return self.can_admin
        return True


PageHandler = Callable[[Request, Viewer], Response]
FormHandler = Callable[[Request, Viewer, FormData], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


class Site:
    def __init__(
        self,
        *,
        config: Config,
        store: MentionStore,
        matcher: BrandMatcher,
        clock: Clock,
        web: WebConfig,
    ) -> None:
        self.config = config
        self.store = store
        self.matcher = matcher
        self.clock = clock
        self.web = web
        self.zone = config.digest.zone
        self.proxies = TrustedProxies.parse(web.trusted_proxies)
        self.throttle = LoginThrottle()
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["local"] = self.local
        self.templates.filters["number"] = number

    # --- rendering --------------------------------------------------------------------

    def local(self, value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        """A moment in the configured time zone (AAAA-MM-JJ HH:MM), or « — »."""
        return value.astimezone(self.zone).strftime(pattern) if value else "—"

    def render(
        self,
        request: Request,
        template: str,
        viewer: Viewer | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        session = request.session
        flashes = session.pop("flash", None) if "flash" in session else None
        html = self.templates.get_template(template).render(
            request=request,
            viewer=viewer,
            csrf=csrf_token(session),
            csrf_name=CSRF_FIELD,
            flashes=flashes if isinstance(flashes, list) else [],
            path=request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    @staticmethod
    def flash(request: Request, text: str, kind: str = "ok") -> None:
        """A message for the next page shown (after a redirect)."""
        flashes = request.session.get("flash")
        items = flashes if isinstance(flashes, list) else []
        request.session["flash"] = [*items[-4:], [kind, text]]

    # --- who is asking ----------------------------------------------------------------

    def authenticate(self, request: Request) -> Viewer | None:
        """The person behind the trusted SSO header, or the session's, or None. A
        session idle for more than 12 hours ends; a removed user's session too."""
        sso = self._sso_viewer(request)
        if sso is not None:
            return sso
        session = request.session
        email = session.get("user")
        if not isinstance(email, str):
            return None
        now = self.clock().timestamp()
        seen = session.get("seen")
        if not isinstance(seen, int | float) or now - seen > SESSION_IDLE.total_seconds():
            session.pop("user", None)
            session.pop("seen", None)
            session["expired"] = True
            return None
        user = self.store.user(email)
        if user is None:
            session.clear()
            return None
        if now - seen >= SEEN_EVERY.total_seconds() or now < seen:
            session["seen"] = now
        return Viewer(user.email, user.role, "session")

    def _sso_viewer(self, request: Request) -> Viewer | None:
        header = self.web.trusted_header
        if not header or peer_address(request) not in self.proxies:
            return None
        name = request.headers.get(header, "").strip().lower()
        if not name:
            return None
        user = self.store.user(name)
        return Viewer(user.email, user.role, "sso") if user is not None else None

    def sign_in(self, request: Request, email: str) -> None:
        """A new session for ``email`` (a new CSRF token too)."""
        request.session.clear()
        request.session["user"] = email
        request.session["seen"] = self.clock().timestamp()
        csrf_token(request.session)

    # --- guards -----------------------------------------------------------------------

    def public(self, handler: Callable[[Request], Response]) -> Endpoint:
        """A GET handler open to anyone (the login form), run in a worker thread."""

        async def endpoint(request: Request) -> Response:
            return await run_in_threadpool(handler, request)

        endpoint.__name__ = handler.__name__
        return endpoint

    def page(self, need: Need = "lire") -> Callable[[PageHandler], Endpoint]:
        """A GET handler for signed-in people with the role ``need`` asks."""

        def wrap(handler: PageHandler) -> Endpoint:
            def guarded(request: Request) -> Response:
                viewer = self.authenticate(request)
                if viewer is None:
                    return self.to_login(request)
                if not viewer.may(need):
                    return self.refuse(request, viewer)
                return handler(request, viewer)

            async def endpoint(request: Request) -> Response:
                return await run_in_threadpool(guarded, request)

            endpoint.__name__ = handler.__name__
            return endpoint

        return wrap

    def action(
        self, need: Need = "trier", *, signed_in: bool = True
    ) -> Callable[[FormHandler], Endpoint]:
        """A form POST: the CSRF token first (403 without it), then who may do it."""

        def wrap(handler: FormHandler) -> Endpoint:
            def guarded(request: Request, form: FormData) -> Response:
                viewer = self.authenticate(request)
                if viewer is None:
                    if signed_in:
                        return self.to_login(request)
                    viewer = Viewer("", "", "anonyme")
                elif not viewer.may(need):
                    return self.refuse(request, viewer)
                return handler(request, viewer, form)

            async def endpoint(request: Request) -> Response:
                form = await self.form(request)
                return await run_in_threadpool(guarded, request, form)

            endpoint.__name__ = handler.__name__
            return endpoint

        return wrap

    async def form(self, request: Request) -> FormData:
        """The POSTed form, once its CSRF token is this session's (else 403)."""
        form = await request.form(max_files=0, max_fields=2000)
        if not check_csrf(request.session, form.get(CSRF_FIELD)):
            raise HTTPException(
                403,
                "Formulaire refusé : jeton de sécurité absent ou périmé. Rechargez la page "
                "et recommencez.",
            )
        return form

    def to_login(self, request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"
        query = "" if target == "/" else "?" + urlencode({"next": target})
        return RedirectResponse("/connexion" + query, status_code=303)

    def refuse(self, request: Request, viewer: Viewer) -> Response:
        return self.render(
            request,
            "error.html",
            viewer,
            status_code=403,
            title="Action non permise",
            message=f"Votre rôle ({viewer.role}) ne permet pas cette action.",
        )
