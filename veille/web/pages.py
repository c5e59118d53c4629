"""The workspace's HTML pages and forms. Each handler reads the request, calls the
store, and renders a template or redirects (303) back to where the person was."""

from __future__ import annotations

from datetime import datetime, timedelta
from secrets import token_urlsafe

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from collectors import REGISTRY
from storage.workspace import UNCHANGED, MentionFilter, Unchanged, site_of
from veille.alerts import propos_label
from veille.errors import UsageError
from veille.moderation import hidable_source, hide_mention
from veille.pipeline import matched_text
from veille.sanitize import safe_link, shorten
from veille.statuses import STATUS_EXCLUDED, STATUSES, TONES
from veille.users import hash_password, verify_password
from veille.web.charts import MEAN_WINDOW, bar_chart, daily_chart, kind_label
from veille.web.display import snippet_pieces, source_health, text_pieces
from veille.web.filters import PAGE_SIZE, parse_query
from veille.web.security import client_address, safe_next, wait_text
from veille.web.site import Site, Viewer

DASHBOARD_DAYS = 90
NOTE_LIMIT = 5000
TAG_LIMIT = 60
REASON_LIMIT = 500
NOBODY = ""  # the assignee select's « Personne »


class Pages:
    def __init__(self, site: Site) -> None:
        self.site = site
        self._dummy_hash: str | None = None

    # --- signing in and out -------------------------------------------------------------

    def login_form(self, request: Request) -> Response:
        viewer = self.site.authenticate(request)
        target = safe_next(request.query_params.get("next"))
        if viewer is not None:
            return RedirectResponse(target, status_code=303)
        expired = bool(request.session.pop("expired", False))
        return self.site.render(
            request,
            "login.html",
            None,
            next=target,
            email="",
            error="Votre session a expiré : reconnectez-vous." if expired else None,
        )

    def login(self, request: Request, _viewer: Viewer, form: FormData) -> Response:
        site = self.site
        email = "".join(str(form.get("email", "")).split()).lower()[:200]
        password = str(form.get("password", ""))[:1000]
        target = safe_next(form.get("next"))
        now = site.clock()
        keys = [f"compte:{email}", f"ip:{client_address(request, site.proxies)}"]
        wait = site.throttle.blocked_for(keys, now)
        if wait is not None:
            return site.render(
                request,
                "login.html",
                None,
                status_code=429,
                next=target,
                email=email,
                error="Trop de tentatives de connexion échouées : réessayez dans "
                f"{wait_text(wait)}.",
            )
        user = site.store.user(email) if email else None
        if user is not None and user.password_hash:
            good = verify_password(user.password_hash, password)
        else:  # as slow as a real check: whether an account exists stays unsaid
            verify_password(self._dummy(), password)
            good = False
        if not good or user is None:
            site.throttle.failed(keys, now)
            return site.render(
                request,
                "login.html",
                None,
                status_code=400,
                next=target,
                email=email,
                error="Courriel ou mot de passe incorrect.",
            )
        site.throttle.succeeded(keys[0])
        site.sign_in(request, user.email)
        return RedirectResponse(target, status_code=303)

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = hash_password(token_urlsafe(16))
        return self._dummy_hash

    def logout(self, request: Request, _viewer: Viewer, _form: FormData) -> Response:
        request.session.clear()
        self.site.flash(request, "Vous êtes déconnecté.")
        return RedirectResponse("/connexion", status_code=303)

    # --- the inbox ------------------------------------------------------------------------

    def inbox(self, request: Request, viewer: Viewer) -> Response:
        site = self.site
        query = parse_query(request.query_params, site.zone)
        found = site.store.inbox(
            query.filters, offset=(query.page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        pages = max(1, -(-found.total // PAGE_SIZE))
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return site.render(
            request,
            "inbox.html",
            viewer,
            query=query,
            found=found,
            pages=pages,
            statuses=STATUSES,
            all_count=sum(found.counts.values()),
            sources=sorted(source.name for source in site.config.sources),
            kinds=[(kind, kind_label(kind)) for kind in REGISTRY],
            users=self._people(),
            here=here,
        )

    def _people(self) -> list[str]:
        return sorted(user.email for user in self.site.store.users())

    def bulk(self, request: Request, viewer: Viewer, form: FormData) -> Response:
        """One form for the selected rows: a status, an assignee, a tag to add or remove."""
        site = self.site
        back = safe_next(form.get("next"))
        ids = sorted({int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()})
        if not ids:
            site.flash(request, "Aucune mention choisie : cochez-en au moins une.", "erreur")
            return RedirectResponse(back, status_code=303)
        status = str(form.get("status", "")) or None
        assignee = self._assignee(form, "assignee")
        add = _tags(form.get("add_tag"))
        remove = _tags(form.get("remove_tag"))
        problem = self._check(status=status, assignee=assignee)
        if problem is None and status is None and assignee is UNCHANGED and not add and not remove:
            problem = "Choisissez un statut, une personne ou une étiquette à appliquer."
        if problem is not None:
            site.flash(request, problem, "erreur")
            return RedirectResponse(back, status_code=303)
        missing = site.store.change(
            ids,
            actor=viewer.actor,
            now=site.clock(),
            status=status,
            assignee=assignee,
            add_tags=add,
            remove_tags=remove,
        )
        if missing:
            site.flash(
                request, f"Mention(s) introuvable(s) : {', '.join(map(str, missing))}.", "erreur"
            )
        else:
            site.flash(request, f"{len(ids)} mention(s) modifiée(s).")
        return RedirectResponse(back, status_code=303)

    def _assignee(self, form: FormData, key: str) -> str | None | Unchanged:
        if key not in form:
            return UNCHANGED
        value = str(form.get(key, "")).strip()
        if value == "-":
            return UNCHANGED  # « ne pas changer » in the bulk form
        return value or None

    def _check(
        self,
        *,
        status: str | None = None,
        assignee: str | None | Unchanged = UNCHANGED,
        tone: str | None | Unchanged = UNCHANGED,
    ) -> str | None:
        """Why these values cannot be set, in French, or None."""
        if status is not None and status not in STATUSES:
            return f"Statut inconnu « {status} »."
        if isinstance(tone, str) and tone not in TONES:
            return f"Ton inconnu « {tone} »."
        if isinstance(assignee, str) and self.site.store.user(assignee) is None:
            return f"Personne inconnue « {assignee} »."
        return None

    # --- one mention ------------------------------------------------------------------------

    def mention(self, request: Request, viewer: Viewer) -> Response:
        site = self.site
        mention_id = request.path_params["mention_id"]
        detail = site.store.detail(mention_id)
        if detail is None:
            return self._missing(request, viewer, mention_id)
        mention = detail.mention
        text = matched_text(mention.title, detail.text)
        explained = site.matcher.explain(text)
        confirm = request.query_params.get("statut")
        domain = site_of(mention.url) if mention.source_type != "account" else ""
        return site.render(
            request,
            "mention.html",
            viewer,
            detail=detail,
            m=mention,
            snippet=snippet_pieces(mention),
            explained=explained,
            text=text_pieces(text, explained.spans) if detail.text is not None else [],
            statuses=STATUSES,
            tones=TONES,
            users=self._people(),
            domain=domain,
            confirm=confirm if confirm in STATUSES and confirm != mention.status else None,
            propos=propos_label(mention.propos) if mention.propos else None,
            back=safe_next(request.query_params.get("retour")),
            link=safe_link(mention.url),
            hidable=hidable_source(site.config, site.store, mention_id) is not None,
        )

    def _missing(self, request: Request, viewer: Viewer, mention_id: int) -> Response:
        return self.site.render(
            request,
            "error.html",
            viewer,
            status_code=404,
            title="Mention introuvable",
            message=f"Il n'y a pas de mention N° {mention_id}.",
        )

    def change(self, request: Request, viewer: Viewer, form: FormData) -> Response:
        """Status, assignee, tone, a tag added or removed: whichever field the form sent."""
        site = self.site
        mention_id = request.path_params["mention_id"]
        here = f"/mentions/{mention_id}"
        status = str(form["status"]) if "status" in form else None
        tone: str | None | Unchanged = UNCHANGED
        if "tone" in form:
            tone = str(form["tone"]) or None
        assignee = self._assignee(form, "assignee")
        problem = self._check(status=status, assignee=assignee, tone=tone)
        if problem is not None:
            site.flash(request, problem, "erreur")
            return RedirectResponse(here, status_code=303)
        missing = site.store.change(
            [mention_id],
            actor=viewer.actor,
            now=site.clock(),
            status=status,
            assignee=assignee,
            tone=tone,
            add_tags=_tags(form.get("add_tag")),
            remove_tags=_tags(form.get("remove_tag")),
        )
        if missing:
            return self._missing(request, viewer, mention_id)
        site.flash(request, "Modification enregistrée.")
        return RedirectResponse(safe_next(form.get("next"), here), status_code=303)

    def note(self, request: Request, viewer: Viewer, form: FormData) -> Response:
        site = self.site
        mention_id = request.path_params["mention_id"]
        text = str(form.get("text", "")).strip()
        here = f"/mentions/{mention_id}"
        if not text:
            site.flash(request, "La note est vide.", "erreur")
            return RedirectResponse(here, status_code=303)
        if len(text) > NOTE_LIMIT:
            site.flash(request, f"Note trop longue ({NOTE_LIMIT} caractères au plus).", "erreur")
            return RedirectResponse(here, status_code=303)
        if not site.store.add_note(mention_id, author=viewer.actor, text=text, now=site.clock()):
            return self._missing(request, viewer, mention_id)
        site.flash(request, "Note ajoutée.")
        return RedirectResponse(here + "#notes", status_code=303)

    def ignore_site(self, request: Request, viewer: Viewer, form: FormData) -> Response:
        """« Ignorer ce site »: its new items are never mentions; this one may be excluded."""
        site = self.site
        mention_id = request.path_params["mention_id"]
        detail = site.store.detail(mention_id)
        if detail is None:
            return self._missing(request, viewer, mention_id)
        domain = site_of(detail.mention.url)
        if not domain or detail.mention.source_type == "account":
            site.flash(request, "Ce lien n'a pas de site à ignorer.", "erreur")
            return RedirectResponse(f"/mentions/{mention_id}", status_code=303)
        reason = " ".join(str(form.get("reason", "")).split())[:REASON_LIMIT]
        now = site.clock()
        site.store.exclude_site(domain, actor=viewer.actor, reason=reason, now=now)
        if form.get("also_exclude") == "oui" and detail.mention.status != STATUS_EXCLUDED:
            site.store.change([mention_id], actor=viewer.actor, now=now, status=STATUS_EXCLUDED)
        site.flash(
            request,
            f"Le site {domain} est ignoré : ses nouveaux éléments ne seront plus des mentions.",
        )
        return RedirectResponse(f"/mentions/{mention_id}", status_code=303)

    def hide(self, request: Request, viewer: Viewer, form: FormData) -> Response:
        """« Masquer ce commentaire »: through the platform's API, recorded (who, when,
        the platform's answer); the same rule as ``veille masquer``."""
        site = self.site
        mention_id = request.path_params["mention_id"]
        here = f"/mentions/{mention_id}"
        try:
            outcome = hide_mention(
                site.config, site.store, mention_id, actor=viewer.actor, now=site.clock()
            )
        except UsageError as exc:
            site.flash(request, f"Rien n'a été demandé à la plateforme : {exc}.", "erreur")
            return RedirectResponse(here, status_code=303)
        if outcome.done:
            site.flash(request, f"Commentaire masqué sur {outcome.platform} : {outcome.answer}")
        else:
            site.flash(request, f"Commentaire non masqué : {outcome.answer}", "erreur")
        return RedirectResponse(here, status_code=303)

    # --- exclusions and users ----------------------------------------------------------------

    def exclusions(self, request: Request, viewer: Viewer) -> Response:
        return self.site.render(
            request, "exclusions.html", viewer, sites=self.site.store.excluded_sites()
        )

    def remove_exclusion(self, request: Request, viewer: Viewer, form: FormData) -> Response:
        site = self.site
        domain = str(form.get("domain", "")).strip()
        if site.store.remove_excluded_site(domain, actor=viewer.actor, now=site.clock()):
            site.flash(request, f"Le site {domain} n'est plus ignoré.")
        else:
            site.flash(request, f"Le site « {domain} » n'était pas dans la liste.", "erreur")
        return RedirectResponse("/exclusions", status_code=303)

    def users(self, request: Request, viewer: Viewer) -> Response:
        return self.site.render(request, "users.html", viewer, users=self.site.store.users())

    # --- the dashboard ---------------------------------------------------------------------

    def dashboard(self, request: Request, viewer: Viewer) -> Response:
        site = self.site
        now = site.clock()
        today = now.astimezone(site.zone).date()
        since = now - timedelta(days=DASHBOARD_DAYS)
        counts = site.store.daily_counts(
            now - timedelta(days=DASHBOARD_DAYS + MEAN_WINDOW), site.zone
        )
        tones = site.store.tone_counts(since)
        found = site.store.inbox(MentionFilter(since=since), limit=0).total
        outlets = site.store.top_outlets(since, limit=10)
        return site.render(
            request,
            "dashboard.html",
            viewer,
            days=DASHBOARD_DAYS,
            daily=daily_chart(counts, today=today, days=DASHBOARD_DAYS),
            urgent=site.store.urgent_count(since),
            tones=[(tone, tones.get(tone, 0)) for tone in TONES],
            untoned=max(0, found - sum(tones.values())),
            outlets=bar_chart(
                [(shorten(" ".join(name.split()), 30), count) for name, count in outlets]
            ),
            health=source_health(site.config.sources, site.store.sources(), now),
            since_day=_day(since, site),
        )


def _day(moment: datetime, site: Site) -> str:
    return moment.astimezone(site.zone).strftime("%Y-%m-%d")


def _tags(value: object) -> tuple[str, ...]:
    """Tags typed in a field, comma-separated, each on one line and not too long."""
    if not isinstance(value, str):
        return ()
    found: list[str] = []
    for part in value.split(","):
        tag = " ".join(part.split())[:TAG_LIMIT]
        if tag and tag not in found:
            found.append(tag)
    return tuple(found)
