"""X API v2 collection, over plain httpx: searches (recent or full archive) and user timelines.

Every request asks for the fields and expansions that carry a post whole (``note_tweet`` for long
posts, referenced tweets and their authors, media, polls, places), as twarc2 does, and every
page is stamped like twarc's (``__twarc``: url, version, retrieved_at) so the twarc2 reader
ingests it. ``since_id`` per seed makes a later run fetch only what is newer; a pagination token
saved after each durable checkpoint resumes a crash. Compliance results the user supplies
(a batch compliance job's JSONL) are honoured: posts X says were deleted leave the corpus.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta

import httpx

from flows.collect.limits import MAX_RETRIES, Waiter
from flows.collect.settings import ENV_X_API, X_API, XCollect
from flows.collect.state import CollectRun, SeedState, collector_version, redact_pages
from flows.collect.walk import Page, walk
from flows.errors import UserError

PLATFORM = "twitter"  # as the store names it
FIELDS = {
    "tweet.fields": "attachments,author_id,context_annotations,conversation_id,created_at,edit_controls,"
                    "edit_history_tweet_ids,entities,geo,id,in_reply_to_user_id,lang,note_tweet,possibly_sensitive,"
                    "public_metrics,referenced_tweets,reply_settings,source,text,withheld",
    "expansions": "author_id,attachments.media_keys,attachments.poll_ids,edit_history_tweet_ids,"
                  "entities.mentions.username,geo.place_id,in_reply_to_user_id,referenced_tweets.id,"
                  "referenced_tweets.id.author_id",
    "user.fields": "created_at,description,entities,id,location,name,pinned_tweet_id,profile_image_url,protected,"
                   "public_metrics,url,username,verified,verified_type,withheld",
    "media.fields": "alt_text,duration_ms,height,media_key,preview_image_url,public_metrics,type,url,variants,width",
    "poll.fields": "duration_minutes,end_datetime,id,options,voting_status",
    "place.fields": "contained_within,country,country_code,full_name,geo,id,name,place_type",
}
USER_FIELDS = {"user.fields": FIELDS["user.fields"]}


class XCallError(Exception):
    """A request X refused, or answered with an error about the resource itself."""

    def __init__(self, path: str, status: int, title: str | None, detail: str | None, kind: str | None = None):
        super().__init__(f"{path}: {status} {title or ''}: {detail or ''}".strip())
        self.path, self.status, self.title, self.detail, self.kind = path, status, title, detail, kind or ""


def seed_error(exc: XCallError) -> tuple[str, str]:
    """(status, what X said) for a seed that cannot be collected."""
    detail = (exc.detail or "").lower()
    if "suspended" in detail:
        status = "suspended"
    elif "not-authorized" in exc.kind or "not authorized" in detail or "protected" in detail:
        status = "protected"
    elif "resource-not-found" in exc.kind or "could not find" in detail or exc.status == 404:
        status = "not_found"
    else:
        status = "error"
    return status, f"{exc.path}: {exc.title or exc.status}: {exc.detail or ''}".strip()


class XAPI:
    """GET requests to the X API v2 with the bearer token; 429s wait for ``x-rate-limit-reset``."""

    def __init__(self, settings: XCollect, *, waiter: Waiter | None = None, transport=None,
                 env: Mapping[str, str] | None = None, clock=None):
        env = os.environ if env is None else env
        token = env.get(settings.bearer_token_env)
        if not token:
            raise UserError(f"X collection needs a bearer token: set ${settings.bearer_token_env} (the study's "
                            "collect: x: bearer_token_env names it); it is read from the environment, never stored")
        self.base = (settings.api_base or env.get(ENV_X_API) or X_API).rstrip("/")
        self.waiter, self.clock = waiter or Waiter(), clock
        self.http = httpx.Client(base_url=self.base, timeout=60.0, transport=transport,
                                 headers={"Authorization": f"Bearer {token}", "User-Agent": collector_version()})

    def get(self, path: str, params: dict) -> dict:
        """One page, stamped like twarc's: ``__twarc`` {url, version, retrieved_at}."""
        params = {k: v for k, v in params.items() if v is not None}
        for attempt in range(MAX_RETRIES):
            self.waiter.before_call(path)
            try:
                response = self.http.get(path, params=params)
            except httpx.TransportError as exc:
                if attempt + 1 == MAX_RETRIES:
                    raise XCallError(path, 0, type(exc).__name__, "no answer from the server") from None
                self.waiter.backoff(attempt, path)
                continue
            if response.status_code == 429:
                self.waiter.rate_limited(response.headers, path)
                continue
            if response.status_code >= 500 and attempt + 1 < MAX_RETRIES:
                self.waiter.backoff(attempt, path)
                continue
            self.waiter.after_response(response.headers)
            try:
                body = response.json()
            except ValueError:
                body = {}
            if response.status_code != 200:
                raise XCallError(path, response.status_code, body.get("title"), body.get("detail")
                                 or (body.get("errors") or [{}])[0].get("message"), body.get("type"))
            url = str(response.request.url)
            body["__twarc"] = {"url": url, "version": collector_version(),
                               "retrieved_at": self.clock().strftime("%Y-%m-%dT%H:%M:%S+00:00")}
            return body
        raise XCallError(path, 429, "Too Many Requests", f"still refused after {MAX_RETRIES} waits")

    def close(self) -> None:
        self.http.close()


def _resource_error(path: str, body: dict) -> XCallError | None:
    """An error about the resource asked for (a user lookup or timeline without data)."""
    if body.get("data") or not body.get("errors"):
        return None
    e = body["errors"][0]
    return XCallError(path, 200, e.get("title"), e.get("detail"), e.get("type"))


def _key(tweet_id: str) -> str:
    return tweet_id.zfill(20)  # tweet ids compare as numbers


def collect_x(run: CollectRun, settings: XCollect, study, *, waiter: Waiter, transport=None, env=None,
              since: date | None = None, until: date | None = None, checkpoint: int | None = None) -> dict:
    """Collect the study's X accounts and queries, then honour compliance results; return counts."""
    out = {"accounts": 0, "queries": 0, "errors": 0, "deleted": 0}
    extra = {} if checkpoint is None else {"checkpoint": checkpoint}
    if settings.accounts or settings.queries:
        api = XAPI(settings, waiter=waiter, transport=transport, env=env, clock=run.clock)
        try:
            for username in settings.accounts:
                out["errors"] += _account(run, settings, api, username, since, until, extra)
                out["accounts"] += 1
            for query in settings.queries:
                out["errors"] += _query(run, settings, api, query, since, until, extra)
                out["queries"] += 1
        finally:
            api.close()
    for path in settings.compliance:
        out["deleted"] += honour_compliance(run.con, study.path(path), pages=run.folder)
    return out


def _start_time(since: date | None, state: SeedState) -> str | None:
    return f"{since.isoformat()}T00:00:00Z" if since and state.newest is None else None


def _end_time(until: date | None) -> str | None:
    """The window's last day, inclusive: X's end_time is exclusive."""
    return f"{(until + timedelta(days=1)).isoformat()}T00:00:00Z" if until else None


def _walk(run: CollectRun, state: SeedState, api: XAPI, path: str, params: dict, token_name: str, extra) -> None:
    """A timeline or search, newest first, from ``since_id`` (the newest a complete walk reached)."""
    since_id = state.newest.lstrip("0") if state.newest else None
    call = run.call(PLATFORM, state.seed, path, params | ({"since_id": "(the newest collected)"} if since_id else {}))

    def fetch(cursor):
        body = api.get(path, params | FIELDS | {"since_id": since_id, token_name: cursor})
        tweets = body.get("data") or []
        call.page(len(tweets))
        return Page(body if tweets else {}, [_key(t["id"]) for t in tweets if t.get("id")],
                    (body.get("meta") or {}).get("next_token"))

    def save(state_now: SeedState, pages: list[dict]):
        return run.durable(state_now, [p for p in pages if p])  # pages with no posts are counted, not kept

    try:
        walk(state, fetch, save, **extra)
    except XCallError as exc:
        call.status = seed_error(exc)[0]
        raise


def _account(run: CollectRun, settings: XCollect, api: XAPI, username: str, since, until, extra) -> int:
    state = run.seed(PLATFORM, f"account:{username}")
    try:
        _resolve(api, username, state)
        if run.skip_withdrawn(state):
            return 0
        params = {"max_results": settings.page_size, "start_time": _start_time(since, state),
                  "end_time": _end_time(until)}
        _walk(run, state, api, f"/2/users/{state.author_id}/tweets", params, "pagination_token", extra)
    except XCallError as exc:
        state.status, state.error = seed_error(exc)
        if not run.calls or run.calls[-1].seed != state.seed:
            run.call(PLATFORM, state.seed, exc.path, {"username": username})
        run.calls[-1].status = state.status
        run.save_seed(state)
        return 1
    return 0


def _resolve(api: XAPI, username: str, state: SeedState) -> None:
    """The user id (looked up once, then kept: a renamed account is found by it) and its username now."""
    path = f"/2/users/{state.author_id}" if state.author_id else f"/2/users/by/username/{username}"
    body = api.get(path, USER_FIELDS)
    error = _resource_error(path, body)
    if error:
        raise error
    user = body["data"]
    state.author_id, state.handle = user["id"], user.get("username") or state.handle
    if user.get("protected"):
        state.status, state.error = "protected", "the account's posts are protected: only approved followers see them"
    elif state.handle and state.handle.lower() != username.lower():
        state.status, state.error = "renamed", f"the username is now {state.handle}"
    else:
        state.status, state.error = "ok", None


def _query(run: CollectRun, settings: XCollect, api: XAPI, query: str, since, until, extra) -> int:
    state = run.seed(PLATFORM, f"query:{query}")
    params = {"query": query, "max_results": settings.page_size, "start_time": _start_time(since, state),
              "end_time": _end_time(until)}
    try:
        _walk(run, state, api, f"/2/tweets/search/{settings.search}", params, "next_token", extra)
        state.status, state.error = "ok", None
    except XCallError as exc:
        state.status, state.error = "error", seed_error(exc)[1]
    run.save_seed(state)
    return int(state.status == "error")


def honour_compliance(con, path, *, pages=None) -> int:
    """Remove the posts a compliance result file says were deleted; return how many left the store.

    Each line is ``{"id", "action", "created_at", "reason", ...}`` as X's batch compliance jobs
    write them; ``action: delete`` (reason deleted, deactivated, suspended, protected...) removes
    the post, other actions (``scrub_geo``) are left to the researcher. ``pages``: the folder of
    pages kept as collected, from which the posts are cut too.
    """
    from flows.privacy.deletions import remove_deleted

    by_reason: dict[str, list[str]] = defaultdict(list)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the compliance results ({exc.strerror}); fix collect: x: "
                        "compliance in study.yaml") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            if event.get("action") == "delete":
                by_reason[str(event.get("reason") or "deleted")].append(str(event["id"]))
        except (ValueError, KeyError, AttributeError):
            raise UserError(f"{path}: line {number} is not a compliance result ({{\"id\", \"action\", "
                            "\"reason\"}}); give the JSONL file X returned for the job") from None
    removed = sum(remove_deleted(con, PLATFORM, ids, f"x:compliance:{reason}").posts
                  for reason, ids in sorted(by_reason.items()))
    if pages is not None:
        redact_pages(pages, PLATFORM, sorted({i for ids in by_reason.values() for i in ids}))
    return removed
