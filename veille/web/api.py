"""The JSON API (Teams/Power Automate, scripts) and the exports of the inbox's filter.

The API answers only to ``Authorization: Bearer TOKEN`` (a token of ``veille token
add``, with its role): no cookie, so no CSRF to fear. Errors are
``{"erreur": "…"}`` in French with 400, 401, 403 or 404.

- ``GET /api/mentions``: the inbox's filters as query parameters, plus ``offset``
  and ``limit`` (100 by default, 1000 at most): ``{"total", "offset", "limit",
  "mentions": [...]}``, each mention with the fields of ``veille mentions --format
  json`` plus ``assignee``, ``tags``, ``tone``;
- ``GET /api/mentions/{id}``: one mention, plus ``history`` and ``notes``;
- ``POST /api/mentions/{id}``: a JSON object with any of ``status``, ``assignee``
  (null: nobody), ``tags`` (the whole list), ``tone`` (null: none), ``note``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from storage.workspace import UNCHANGED, MentionDetail, Unchanged
from veille.exports import iso, mention_json, mentions_excel
from veille.statuses import STATUSES, TONES
from veille.users import token_digest
from veille.web.filters import parse_query
from veille.web.site import Site, Viewer

API_LIMIT = 1000
EXPORT_LIMIT = 100_000
BODY_LIMIT = 100_000


def problem(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"erreur": message}, status_code=status, headers=headers or None)


def detail_json(detail: MentionDetail) -> dict[str, Any]:
    return {
        **mention_json(detail.mention),
        "history": [
            {
                "at": iso(event.at),
                "actor": event.actor,
                "field": event.field,
                "before": event.before,
                "after": event.after,
            }
            for event in detail.history
        ],
        "notes": [
            {"at": iso(note.at), "author": note.author, "text": note.text} for note in detail.notes
        ],
    }


class Api:
    def __init__(self, site: Site) -> None:
        self.site = site

    def bearer(self, request: Request) -> Viewer | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        found = self.site.store.token(token_digest(token))
        if found is None:
            return None
        self.site.store.touch_token(found.name, self.site.clock())
        return Viewer(found.name, found.role, "jeton")

    async def list(self, request: Request) -> Response:
        return await run_in_threadpool(self._list, request)

    async def get(self, request: Request) -> Response:
        return await run_in_threadpool(self._get, request)

    async def post(self, request: Request) -> Response:
        body = await request.body()
        return await run_in_threadpool(self._post, request, body)

    def _list(self, request: Request) -> Response:
        if self.bearer(request) is None:
            return _unauthorised()
        query = parse_query(request.query_params, self.site.zone)
        if query.problems:
            return problem(400, " ; ".join(query.problems))
        offset = _number(request.query_params.get("offset"), 0)
        limit = _number(request.query_params.get("limit"), 100)
        if offset is None or limit is None or not 0 < limit <= API_LIMIT:
            return problem(400, f"offset ≥ 0 et limit de 1 à {API_LIMIT} attendus")
        page = self.site.store.inbox(query.filters, offset=offset, limit=limit)
        return JSONResponse(
            {
                "total": page.total,
                "offset": offset,
                "limit": limit,
                "mentions": [mention_json(m) for m in page.mentions],
            }
        )

    def _get(self, request: Request) -> Response:
        if self.bearer(request) is None:
            return _unauthorised()
        mention_id = request.path_params["mention_id"]
        detail = self.site.store.detail(mention_id)
        if detail is None:
            return problem(404, f"mention N° {mention_id} introuvable")
        return JSONResponse(detail_json(detail))

    def _post(self, request: Request, body: bytes) -> Response:
        site = self.site
        viewer = self.bearer(request)
        if viewer is None:
            return _unauthorised()
        if not viewer.can_triage:
            return problem(403, f"le rôle « {viewer.role} » de ce jeton ne permet que la lecture")
        mention_id = request.path_params["mention_id"]
        if len(body) > BODY_LIMIT:
            return problem(413, "corps trop volumineux")
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return problem(400, "corps JSON illisible")
        if not isinstance(data, dict):
            return problem(400, "un objet JSON est attendu")
        unknown = sorted(set(data) - {"status", "assignee", "tags", "tone", "note"})
        if unknown:
            return problem(400, f"champ(s) inconnu(s) : {', '.join(unknown)}")
        detail = site.store.detail(mention_id)
        if detail is None:
            return problem(404, f"mention N° {mention_id} introuvable")
        status = data.get("status")
        if status is not None and status not in STATUSES:
            return problem(400, f"statut inconnu (statuts : {', '.join(STATUSES)})")
        tone: str | None | Unchanged = UNCHANGED
        if "tone" in data:
            tone = data["tone"]
            if tone is not None and tone not in TONES:
                return problem(400, f"ton inconnu (tons : {', '.join(TONES)}, ou null)")
        assignee: str | None | Unchanged = UNCHANGED
        if "assignee" in data:
            assignee = data["assignee"]
            if assignee is not None and (
                not isinstance(assignee, str) or site.store.user(assignee) is None
            ):
                return problem(400, "assignee : courriel d'un utilisateur de veille, ou null")
        add: tuple[str, ...] = ()
        remove: tuple[str, ...] = ()
        if "tags" in data:
            tags = data["tags"]
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                return problem(400, "tags : une liste de textes")
            wanted = [" ".join(t.split())[:60] for t in tags if t.strip()]
            add = tuple(t for t in dict.fromkeys(wanted) if t not in detail.mention.tags)
            remove = tuple(t for t in detail.mention.tags if t not in wanted)
        note = data.get("note")
        if note is not None and (not isinstance(note, str) or not note.strip()):
            return problem(400, "note : un texte non vide")
        now = site.clock()
        site.store.change(
            [mention_id],
            actor=viewer.actor,
            now=now,
            status=status,
            assignee=assignee,
            tone=tone,
            add_tags=add,
            remove_tags=remove,
        )
        if note is not None:
            site.store.add_note(mention_id, author=viewer.actor, text=note.strip()[:5000], now=now)
        updated = site.store.detail(mention_id)
        assert updated is not None
        return JSONResponse(detail_json(updated))

    # --- exports of the inbox's filter (for signed-in people: see app.py) -------------

    def export_csv(self, request: Request, viewer: Viewer) -> Response:
        query = parse_query(request.query_params, self.site.zone)
        found = self.site.store.inbox(query.filters, offset=0, limit=EXPORT_LIMIT)
        day = self.site.clock().astimezone(self.site.zone).strftime("%Y-%m-%d")
        return Response(
            mentions_excel(found.mentions, self.site.zone),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="mentions-{day}.csv"'},
        )

    def export_json(self, request: Request, viewer: Viewer) -> Response:
        query = parse_query(request.query_params, self.site.zone)
        found = self.site.store.inbox(query.filters, offset=0, limit=EXPORT_LIMIT)
        day = self.site.clock().astimezone(self.site.zone).strftime("%Y-%m-%d")
        return JSONResponse(
            [mention_json(m) for m in found.mentions],
            headers={"Content-Disposition": f'attachment; filename="mentions-{day}.json"'},
        )


def _unauthorised() -> JSONResponse:
    return problem(
        401,
        "jeton absent ou invalide (en-tête Authorization: Bearer JETON ; voir veille token add)",
        **{"WWW-Authenticate": 'Bearer realm="veille"'},
    )


def _number(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    return int(value) if value.isdigit() else None
