"""The coding app's pages and form posts: coding one post at a time, and adjudication.

Each handler identifies the person from the session cookie first; nothing is shown or written
without a valid token, and a coder's handlers read and write only that coder's codes (the
reviewer's, only ``consensus``; the reviewer sees coders' codes only once all have finished).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from flows.coding.app import pages, work
from flows.coding.app.access import REVIEWER, Identity
from flows.coding.store import CodingError
from flows.errors import UserError
from flows.store.db import StoreError
from flows.store.lock import LockedError

COOKIE = "ethnoflow_code_app"
ACTIONS = {"next", "prev", "skip", "unavailable", "save"}
MAX_FORM = 64 * 1024
REVIEW_ACTIONS = {"resolve", "unavailable", "prev", "next", "accept_agreed"}


class Handlers:
    """Route handlers bound to one app run's settings."""

    def __init__(self, settings) -> None:
        self.s = settings
        self.rnd = settings.round

    # -- identity -------------------------------------------------------------------------

    def _cookie(self, request: Request) -> str:
        return f"{COOKIE}_{request.url.port or 80}"

    def _who(self, request: Request) -> tuple[Identity | None, str]:
        token = request.cookies.get(self._cookie(request), "")
        return self.s.access.identify(token), token

    def _page(self, body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status)

    def _denied(self, status: int = 401, why: str = "") -> HTMLResponse:
        return self._page(pages.message("Sign in with your link", why or (
            "This page needs the link the coding app printed for you (it holds your secret token). "
            "Open that link again; ask the person who runs the app if you lost it."), None), status)

    async def _form(self, request: Request, token: str) -> Any:
        """The posted form, once its CSRF token and origin are checked; None when they are not."""
        form = await _urlencoded(request)
        if form is None or not self.s.access.check_csrf(token, form.get("csrf")) or not _same_origin(request):
            return None
        return form

    # -- sign in and out ------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        who, _ = self._who(request)
        if who is None:
            return self._denied()
        return RedirectResponse("/review" if who.role == REVIEWER else "/code", status_code=303)

    async def login_page(self, request: Request) -> Response:
        return self._page(pages.login())

    async def login(self, request: Request) -> Response:
        if not _same_origin(request):
            return self._denied(403, "This sign-in did not come from the coding app's own page.")
        form = await _urlencoded(request)
        token = str((form or {}).get("token", "")).strip()
        who = self.s.access.identify(token)
        if who is None:
            return self._denied(401, "That token is not one this coding app issued (links change each time the "
                                     "app starts: use the link it printed this time).")
        response = RedirectResponse("/review" if who.role == REVIEWER else "/code", status_code=303)
        response.set_cookie(self._cookie(request), token, httponly=True, samesite="strict", path="/")
        return response

    async def logout(self, request: Request) -> Response:
        who, token = self._who(request)
        if who is None or await self._form(request, token) is None:
            return self._denied(403)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(self._cookie(request), path="/")
        return response

    async def not_found(self, request: Request, exc: Exception) -> Response:
        who, _ = self._who(request)
        if who is None:
            return self._denied()
        return self._page(pages.message("Not here", "There is no such page in the coding app.", who), 404)

    # -- coding ---------------------------------------------------------------------------

    async def code_page(self, request: Request) -> Response:
        who, token = self._who(request)
        if who is None:
            return self._denied()
        if who.role != "coder":
            return self._page(pages.message("Coders only", "The reviewer adjudicates; coding is for the coders.",
                                            who), 403)
        index = _int(request.query_params.get("i"))
        thread = request.query_params.get("thread") == "1"
        try:
            view = await run_in_threadpool(self._code_view, who.name, index, thread)
        except UserError as exc:
            return self._page(pages.message("Cannot show this post", str(exc), who), 503)
        return self._page(pages.code(view, who, self.s.access.csrf(token)))

    def _code_view(self, coder: str, index: int | None, thread: bool) -> dict[str, Any]:
        rnd = self.rnd
        with self.s.store.reading() as con:
            prog = work.progress(con, rnd, coder)
            if index is None:
                index = prog["next"] if prog["next"] is not None else None
            if index is None or not rnd.posts:
                return {"round": rnd, "progress": prog, "finished": True}
            index = max(0, min(index, len(rnd.posts) - 1))
            platform, post_id, stratum = rnd.posts[index]
            codes, memo = work.own_codes(con, rnd, coder, platform, post_id)
            return {"round": rnd, "progress": prog, "finished": False, "index": index, "stratum": stratum,
                    "context": work.context(con, platform, post_id, thread=thread), "codes": codes, "memo": memo,
                    "state": prog["states"].get((platform, post_id)), "thread_shown": thread,
                    "suggestion": work.suggestion(con, rnd, platform, post_id)}

    async def code_save(self, request: Request) -> Response:
        who, token = self._who(request)
        if who is None:
            return self._denied()
        if who.role != "coder":
            return self._page(pages.message("Coders only", "The reviewer cannot write coders' codes.", who), 403)
        form = await self._form(request, token)
        if form is None:
            return self._denied(403, "This form is out of date or did not come from the coding app; reload the "
                                     "page and try again.")
        index, action = _int(form.get("i")), form.get("action", "next")
        if index is None or not 0 <= index < len(self.rnd.posts) or action not in ACTIONS:
            return self._page(pages.message("Not saved", "The form did not say which post or what to do.", who), 400)
        try:
            target = await run_in_threadpool(self._code_write, who.name, index, str(action), form)
        except UserError as exc:
            return self._page(pages.message("Not saved", str(exc), who), 503 if _busy(exc) else 400)
        return RedirectResponse("/code" if target is None else f"/code?i={target}", status_code=303)

    def _code_write(self, coder: str, index: int, action: str, form) -> int | None:
        """Save what the action saves; return the post to show next (None: the round's end).

        ``next`` saves a post that is new or changed (an untouched post already done stays as it
        is) and goes to the next post to do; ``prev`` saves a changed post and goes back one;
        ``skip`` saves nothing and goes forward one; ``unavailable`` marks the post."""
        rnd, (platform, post_id, _) = self.rnd, self.rnd.posts[index]
        changed = form.get("dirty") == "1"
        codes, memo = set(form.getlist("code")), str(form.get("memo", ""))
        read = self.s.store.reading if action in ("skip", "prev") and not changed else self.s.store.writing
        with read() as con:
            done = work.states(con, rnd, coder)
            if action == "unavailable":
                work.mark_unavailable(con, rnd, coder, platform, post_id, memo)
            elif action in ("next", "save", "prev") and (changed or (action != "prev" and (platform, post_id)
                                                                      not in done)):
                work.save(con, rnd, coder, platform, post_id, codes, memo)
            done = work.states(con, rnd, coder)
        if action == "save":
            return index
        if action == "prev":
            return max(0, index - 1)
        if action == "skip":
            return index + 1 if index + 1 < len(rnd.posts) else _first_to_do(rnd, done, 0)
        return _first_to_do(rnd, done, index + 1)

    # -- adjudication ---------------------------------------------------------------------

    async def review_page(self, request: Request) -> Response:
        who, token = self._who(request)
        if who is None:
            return self._denied()
        if who.role != REVIEWER:
            return self._page(pages.message("Reviewer only", "Coders do not see each other's codes; the reviewer "
                                            "adjudicates once everyone has finished.", who), 403)
        index = _int(request.query_params.get("i"))
        try:
            view = await run_in_threadpool(self._review_view, index)
        except UserError as exc:
            return self._page(pages.message("Cannot show the disagreements", str(exc), who), 503)
        return self._page(pages.review(view, who, self.s.access.csrf(token)))

    def _review_view(self, index: int | None) -> dict[str, Any]:
        try:
            return self._review_of(self.s.store.writing, index)  # agreement summaries go into the store's cache
        except LockedError:  # a pipeline run holds the study: read, and compute the summaries again
            return self._review_of(self.s.store.reading, index)

    def _review_of(self, opened, index: int | None) -> dict[str, Any]:
        rnd = self.rnd
        with opened() as con:
            done = work.finished(con, rnd)
            view: dict[str, Any] = {"round": rnd, "finished": done, "ready": all(
                d["done"] == d["total"] for d in done.values())}
            if not view["ready"]:
                return view
            disputes = work.disagreements(con, rnd)
            view["agreement"] = work.round_agreement(con, rnd, n_boot=self.s.n_boot, seed=self.s.seed)
            view["disputes"], view["agreed"] = disputes, len(work.agreed_posts(con, rnd))
            open_ = [i for i, d in enumerate(disputes) if d["consensus"] is None]
            if index is None:
                index = open_[0] if open_ else None
            if index is not None and disputes:
                index = max(0, min(index, len(disputes) - 1))
                d = disputes[index]
                view.update(at=index, dispute=d, context=work.context(con, d["platform"], d["post_id"]))
            view["open"] = len(open_)
            return view

    async def review_save(self, request: Request) -> Response:
        who, token = self._who(request)
        if who is None:
            return self._denied()
        if who.role != REVIEWER:
            return self._page(pages.message("Reviewer only", "Coders cannot write the consensus.", who), 403)
        form = await self._form(request, token)
        if form is None:
            return self._denied(403, "This form is out of date or did not come from the coding app; reload the "
                                     "page and try again.")
        action, at = form.get("action", ""), _int(form.get("at"))
        if action not in REVIEW_ACTIONS:
            return self._page(pages.message("Not saved", "The form did not say what to do.", who), 400)
        try:
            target = await run_in_threadpool(self._review_write, str(action), at, form)
        except UserError as exc:
            return self._page(pages.message("Not saved", str(exc), who), 503 if _busy(exc) else 400)
        return RedirectResponse("/review" if target is None else f"/review?i={target}", status_code=303)

    def _review_write(self, action: str, at: int | None, form) -> int | None:
        rnd = self.rnd
        if action in ("prev", "next"):
            return None if at is None else max(0, at + (1 if action == "next" else -1))
        with self.s.store.writing() as con:
            if action == "accept_agreed":
                work.accept_agreed(con, rnd)
                return at
            if not all(d["done"] == d["total"] for d in work.finished(con, rnd).values()):
                raise CodingError("the coders have not all finished; adjudication opens when they have")
            disputes = work.disagreements(con, rnd)
            if at is None or not 0 <= at < len(disputes):
                raise CodingError("no such disagreement; reload the page")
            d = disputes[at]
            if (d["platform"], d["post_id"]) != (form.get("platform"), form.get("post_id")):
                raise CodingError("the disagreements changed since the page was shown; reload it")
            work.resolve(con, rnd, d["platform"], d["post_id"], set(form.getlist("code")), str(form.get("memo", "")),
                         unavailable=action == "unavailable")
            later = [i for i, x in enumerate(work.disagreements(con, rnd)) if x["consensus"] is None and i > at]
            return later[0] if later else None


async def _urlencoded(request: Request) -> ImmutableMultiDict | None:
    """The posted HTML form (``application/x-www-form-urlencoded``, at most 64 KiB), or None."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return None
    body = await request.body()
    if len(body) > MAX_FORM:
        return None
    try:
        return ImmutableMultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except (UnicodeDecodeError, ValueError):
        return None


def _first_to_do(rnd: work.Round, done: dict, start: int) -> int | None:
    """The first post not done from ``start`` on, else from the round's start; None when all are done."""
    order = [*range(start, len(rnd.posts)), *range(0, min(start, len(rnd.posts)))]
    return next((i for i in order if rnd.posts[i][:2] not in done), None)


def _busy(exc: Exception) -> bool:
    """Whether the store was busy (another ethnoflow command is writing): try again later."""
    return isinstance(exc, (LockedError, StoreError))


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _same_origin(request: Request) -> bool:
    """A write's Origin (or Referer) header, when the browser sends one, must be this app."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not sent by every client; the CSRF token and SameSite cookie still hold
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host
