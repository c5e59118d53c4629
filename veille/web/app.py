"""The workspace as an ASGI application: :func:`create_app` wires the routes, the
session, the security headers and the error pages around a built
:class:`veille.app.App`.

Routes (every page in French; ``{id}`` a mention's number):

=========================================  =====================================
``GET /``                                  the inbox (filters in the query string)
``POST /mentions/lot``                     bulk change of the selected rows
``GET /mentions/{id}``                     a mention (``?statut=traité``: confirm)
``POST /mentions/{id}/modifier``           status, assignee, tone, tags
``POST /mentions/{id}/notes``              add a note
``POST /mentions/{id}/ignorer-site``       « Ignorer ce site »
``POST /mentions/{id}/masquer``            « Masquer ce commentaire » (official accounts)
``GET /tableau-de-bord``                   the dashboard
``GET /exclusions``, ``POST …/retirer``    sites ignored by hand
``GET /utilisateurs``                      the users (admin)
``GET|POST /connexion``, ``POST /deconnexion``
``GET /export.csv``, ``GET /export.json``  the inbox's filter, exported
``GET|POST /api/mentions[/{id}]``          the JSON API (bearer token)
=========================================  =====================================
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from veille.app import App, build_matcher
from veille.config import WebConfig
from veille.errors import StorageError
from veille.web.api import Api
from veille.web.pages import Pages
from veille.web.security import HEADERS, HSTS, BodyLimit, SecurityHeaders, session_secret
from veille.web.site import HERE, SESSION_IDLE, Site

log = logging.getLogger(__name__)

SESSION_COOKIE = "veille_session"
SERVER_ERROR = "erreur interne : l'administrateur trouvera le détail dans le journal de veille"
# no template: the error may come from rendering one
SERVER_ERROR_PAGE = (
    '<!doctype html><html lang="fr"><meta charset="utf-8"><title>Erreur interne</title>'
    "<h1>Erreur interne</h1><p>Désolé, une erreur interne est survenue ; "
    "l'administrateur en trouvera le détail dans le journal de veille.</p>"
    '<p><a href="/">Retour à la boîte de réception</a></p></html>'
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    app: App, *, clock: Callable[[], datetime] = utc_now, web: WebConfig | None = None
) -> Starlette:
    """The workspace of ``app``'s store and configuration (``web`` replaces the
    configuration's ``web:`` block, for tests)."""
    web = web or app.config.web or WebConfig()
    site = Site(
        config=app.config,
        store=app.store,
        matcher=build_matcher(app.config),
        clock=clock,
        web=web,
    )
    pages = Pages(site)
    api = Api(site)
    routes = [
        Route("/", site.page()(pages.inbox), name="inbox"),
        Route("/mentions/lot", site.action()(pages.bulk), methods=["POST"], name="bulk"),
        Route("/mentions/{mention_id:int}", site.page()(pages.mention), name="mention"),
        Route(
            "/mentions/{mention_id:int}/modifier",
            site.action()(pages.change),
            methods=["POST"],
            name="change",
        ),
        Route(
            "/mentions/{mention_id:int}/notes",
            site.action()(pages.note),
            methods=["POST"],
            name="note",
        ),
        Route(
            "/mentions/{mention_id:int}/ignorer-site",
            site.action()(pages.ignore_site),
            methods=["POST"],
            name="ignore_site",
        ),
        Route(
            "/mentions/{mention_id:int}/masquer",
            site.action()(pages.hide),
            methods=["POST"],
            name="hide",
        ),
        Route("/tableau-de-bord", site.page()(pages.dashboard), name="dashboard"),
        Route("/exclusions", site.page()(pages.exclusions), name="exclusions"),
        Route(
            "/exclusions/retirer",
            site.action()(pages.remove_exclusion),
            methods=["POST"],
            name="remove_exclusion",
        ),
        Route("/utilisateurs", site.page("administrer")(pages.users), name="users"),
        Route("/connexion", site.public(pages.login_form), name="login_form"),
        Route(
            "/connexion",
            site.action(signed_in=False)(pages.login),
            methods=["POST"],
            name="login",
        ),
        Route(
            "/deconnexion",
            site.action("lire", signed_in=False)(pages.logout),
            methods=["POST"],
            name="logout",
        ),
        Route("/export.csv", site.page()(api.export_csv), name="export_csv"),
        Route("/export.json", site.page()(api.export_json), name="export_json"),
        Route("/api/mentions", api.list, name="api_list"),
        Route("/api/mentions/{mention_id:int}", api.get, name="api_get"),
        Route("/api/mentions/{mention_id:int}", api.post, methods=["POST"], name="api_post"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"erreur": _message(exc)}, status_code=exc.status_code)
        return site.render(
            request,
            "error.html",
            None,
            status_code=exc.status_code,
            title=_title(exc.status_code),
            message=_message(exc),
        )

    async def storage_error(request: Request, exc: Exception) -> Response:
        log.error("base de données inutilisable : %s", exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"erreur": str(exc)}, status_code=503)
        return site.render(
            request,
            "error.html",
            None,
            status_code=503,
            title="Base de données inutilisable",
            message=str(exc),
        )

    https = (web.base_url or "").startswith("https://")

    async def server_error(request: Request, exc: Exception) -> Response:
        """A bug: a short French answer, with the security headers (Starlette answers a
        bug outside every middleware), and nothing of the error shown."""
        log.error(
            "erreur interne du poste de veille (%s %s)",
            request.method,
            request.url.path,
            exc_info=exc,
        )
        headers = {**HEADERS, "Cache-Control": "no-store"}
        if https:
            headers["Strict-Transport-Security"] = HSTS
        if request.url.path.startswith("/api/"):
            return JSONResponse({"erreur": SERVER_ERROR}, status_code=500, headers=headers)
        return HTMLResponse(SERVER_ERROR_PAGE, status_code=500, headers=headers)

    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders, https=https),
            Middleware(BodyLimit),
            Middleware(
                SessionMiddleware,
                secret_key=session_secret(web.secret_env),
                session_cookie=SESSION_COOKIE,
                max_age=int(SESSION_IDLE.total_seconds()),
                same_site="lax",
                https_only=https,
            ),
        ],
        exception_handlers={
            HTTPException: http_error,
            StorageError: storage_error,
            Exception: server_error,
        },
    )


def _title(status: int) -> str:
    return {
        403: "Action refusée",
        404: "Page introuvable",
        405: "Méthode non permise",
        413: "Envoi trop volumineux",
    }.get(status, "Erreur")


def _message(exc: HTTPException) -> str:
    """Ours (raised with a French detail), or a French one for Starlette's own."""
    fixed = {
        404: "Cette page n'existe pas.",
        405: "Cette adresse ne s'utilise pas ainsi (un lien ne modifie jamais rien).",
    }
    try:
        standard = HTTPStatus(exc.status_code).phrase
    except ValueError:
        standard = ""
    if exc.detail and exc.detail != standard:
        return exc.detail
    return fixed.get(exc.status_code, _title(exc.status_code))
