"""Bluesky collection: accounts' author feeds checked against their repositories, searches,
and the threads above the study's replies.

- **Accounts**: a handle is resolved to its DID (stored; a later handle change is recorded as
  ``renamed`` and collection goes on under the DID). ``app.bsky.feed.getAuthorFeed`` is walked
  newest first; then ``com.atproto.repo.listRecords`` lists the repository, since the author feed
  can stop early while the repository still holds older posts (bluesky-social/atproto#2616):
  posts found only there are fetched (``getPosts``, else the record itself) and flagged
  ``repo_only``. Every ``recheck_days`` the whole repository is listed, and the account's stored
  posts it no longer holds were deleted: they leave the corpus (:mod:`flows.privacy.deletions`).
- **Queries**: ``app.bsky.feed.searchPosts`` (latest first, within the study window), logged in
  with an app password, since public search needs a login (bluesky-social/atproto#3423). Search
  results differ between calls, so every page returned is kept, not only the query.
- **Threads**: a reply to a post the store lacks gets ``getPostThread`` (its parents), flagged
  ``context``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flows.collect.bluesky_api import BlueskyAPI, CallError
from flows.collect.settings import BlueskyCollect
from flows.collect.state import CollectRun, SeedState, redact_pages
from flows.collect.walk import Page, walk

PIN = "app.bsky.feed.defs#reasonPin"
POSTS = "app.bsky.feed.post"
GET_POSTS_MAX = 25  # app.bsky.feed.getPosts takes at most 25 URIs
THREADS_PER_RUN = 200
# XRPC error names (and messages) of accounts that cannot be collected, as a seed status.
ACCOUNT_ERRORS = {"AccountTakedown": "suspended", "RepoTakendown": "suspended", "AccountDeactivated": "deactivated",
                  "RepoDeactivated": "deactivated", "RepoNotFound": "deleted", "BlockedActor": "blocked",
                  "BlockedByActor": "blocked", "RepoSuspended": "suspended"}


def when(value: str | None) -> str | None:
    """A timestamp as a sortable UTC string (the API writes several forms), or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def floor_of(since: date | None) -> str | None:
    return f"{since.isoformat()}T00:00:00.000000Z" if since else None


def seed_error(exc: CallError) -> tuple[str, str]:
    """(status, what the platform said) for a seed whose account cannot be collected."""
    said = " ".join(p for p in (exc.error, exc.message) if p) or f"HTTP {exc.status}"
    status = ACCOUNT_ERRORS.get(exc.error or "")
    if status is None and exc.status == 400 and ("not found" in said.lower() or "resolve handle" in said.lower()
                                                 or exc.error in ("ActorNotFound", "InvalidRequest")):
        status = "not_found"
    return status or "error", f"{exc.nsid}: {said}"


def collect_bluesky(run: CollectRun, settings: BlueskyCollect, api: BlueskyAPI, *, since: date | None = None,
                    until: date | None = None, full: bool = False, checkpoint: int | None = None) -> dict:
    """Collect every account and query of the study's ``collect: bluesky:`` section; return counts."""
    extra = {} if checkpoint is None else {"checkpoint": checkpoint}
    out = {"accounts": 0, "queries": 0, "repo_only": 0, "deleted": 0, "threads": 0, "errors": 0}
    for account in settings.accounts:
        done = _account(run, settings, api, account, since, full, extra)
        out["accounts"] += 1
        for key in ("repo_only", "deleted", "errors"):
            out[key] += done.get(key, 0)
    for query in settings.queries:
        out["errors"] += _query(run, settings, api, query, since, until, extra)
        out["queries"] += 1
    if settings.threads:
        out["threads"] = _threads(run, api)
    return out


def _feed_page(call, page: dict) -> Page:
    items = page.get("feed") or []
    call.page(len(items))
    keys = [when((i.get("reason") or {}).get("indexedAt") or (i.get("post") or {}).get("indexedAt"))
            for i in items if (i.get("reason") or {}).get("$type") != PIN]
    return Page(page, [k for k in keys if k], page.get("cursor"))


def _account(run: CollectRun, settings: BlueskyCollect, api: BlueskyAPI, account: str, since, full, extra) -> dict:
    state = run.seed("bluesky", f"account:{account}")
    try:
        _resolve(api, account, state)
        if run.skip_withdrawn(state):
            return {}
        params = {"actor": state.author_id, "filter": "posts_with_replies", "limit": settings.page_size}
        call = run.call("bluesky", state.seed, "app.bsky.feed.getAuthorFeed", params)

        def fetch(cursor):
            return _feed_page(call, api.query("app.bsky.feed.getAuthorFeed", **params, cursor=cursor)[0])

        walk(state, fetch, run.durable, floor=floor_of(since), **extra)
        return _check_repo(run, settings, api, state, since, full)
    except CallError as exc:
        state.status, state.error = seed_error(exc)
        if not run.calls or run.calls[-1].seed != state.seed or run.calls[-1].endpoint != exc.nsid:
            run.call("bluesky", state.seed, exc.nsid, {"actor": state.author_id or account})
        run.calls[-1].status = state.status
        run.save_seed(state)
        return {"errors": 1}


def _resolve(api: BlueskyAPI, account: str, state: SeedState) -> None:
    """The account's DID (resolved once, then kept) and its handle now; a changed handle is noted."""
    if state.author_id is None:
        state.author_id = account if account.startswith("did:") else \
            api.query("com.atproto.identity.resolveHandle", handle=account)[0].get("did")
    profile = api.query("app.bsky.actor.getProfile", actor=state.author_id)[0]
    state.handle = profile.get("handle") or state.handle
    renamed = not account.startswith("did:") and state.handle and state.handle.lower() != account.lower()
    state.status, state.error = ("renamed", f"the handle is now {state.handle}") if renamed else ("ok", None)


def _list_repo(run: CollectRun, settings: BlueskyCollect, api: BlueskyAPI, state: SeedState, since,
               full: bool) -> tuple[dict[str, dict], bool]:
    """{uri: record envelope} of the repository's posts, newest first, down to what an earlier walk
    listed (all of them when ``full``) or the window's start; and whether the listing is complete."""
    params = {"repo": state.author_id, "collection": POSTS, "limit": settings.page_size}
    call = run.call("bluesky", state.seed, "com.atproto.repo.listRecords", params | {"full": full})
    host, floor, records, cursor = api.repo_host(state.author_id), floor_of(since), {}, None
    while True:
        page = api.query("com.atproto.repo.listRecords", host=host, **params, cursor=cursor)[0]
        items = page.get("records") or []
        call.page(len(items))
        rkeys = [r.get("uri", "").rsplit("/", 1)[-1] for r in items]
        records |= {r["uri"]: r for r in items if r.get("uri")}
        dates = [when((r.get("value") or {}).get("createdAt")) for r in items]
        older = floor is not None and any(d and d < floor for d in dates)
        known = not full and state.repo_newest is not None and any(k <= state.repo_newest for k in rkeys)
        cursor = page.get("cursor")
        if not items or not cursor or older or known:
            return records, not (older or known)


def _check_repo(run: CollectRun, settings: BlueskyCollect, api: BlueskyAPI, state: SeedState, since,
                full: bool) -> dict:
    """Cross-check the author feed against the repository: fetch and flag what only the repository
    holds; on a full listing, remove the stored posts it no longer holds."""
    now = run.clock()
    due = full or state.full_check_at is None or \
        now - state.full_check_at >= timedelta(days=settings.recheck_days)
    records, complete = _list_repo(run, settings, api, state, since, due)
    out = {"repo_only": 0, "deleted": 0}
    stored = {r[0] for r in run.con.execute(
        "SELECT post_id FROM posts WHERE platform = 'bluesky' AND starts_with(post_id, ?)",
        [f"at://{state.author_id}/{POSTS}/"]).fetchall()}
    missing = sorted(set(records) - stored)
    if missing:
        out["repo_only"] = _fetch_missing(run, api, state, missing, records)
    if due:
        floor = floor_of(since)
        gone = sorted(uri for uri in stored - set(records) if "#" not in uri and _in_window(run, uri, floor, complete))
        if gone:
            from flows.privacy.deletions import remove_deleted

            out["deleted"] = remove_deleted(run.con, "bluesky", gone, "bluesky:listRecords").posts
            redact_pages(run.folder, "bluesky", gone)
        state.full_check_at = now
    if records:
        state.repo_newest = max([state.repo_newest or "", *(u.rsplit("/", 1)[-1] for u in records)])
    run.save_seed(state)
    return out


def _in_window(run: CollectRun, uri: str, floor: str | None, complete: bool) -> bool:
    """A stored post the listing should have held: any, when it went to the repository's start;
    else one created since the window's start (the listing stopped there)."""
    if complete or floor is None:
        return True
    row = run.con.execute("SELECT created_at FROM posts WHERE platform = 'bluesky' AND post_id = ?", [uri]).fetchone()
    return bool(row and row[0] and when(row[0].isoformat()) >= floor)


def _fetch_missing(run: CollectRun, api: BlueskyAPI, state: SeedState, missing: list[str],
                   records: dict[str, dict]) -> int:
    """Posts only the repository listed: their views (getPosts), else the records as listed."""
    call = run.call("bluesky", state.seed, "app.bsky.feed.getPosts", {"uris": "posts only listRecords held"})
    pages, seen = [], set()
    for i in range(0, len(missing), GET_POSTS_MAX):
        page = api.query("app.bsky.feed.getPosts", uris=missing[i:i + GET_POSTS_MAX])[0]
        call.page(len(page.get("posts") or []))
        seen |= {p.get("uri") for p in page.get("posts") or []}
        pages.append(page)
    unseen = [records[u] for u in missing if u not in seen]
    if unseen:  # the AppView no longer serves them (taken down, or not indexed): the records as listed
        pages.append({"records": unseen})
    run.durable(state, pages)
    _flag(run, missing, "repo_only")
    return len(missing)


def _flag(run: CollectRun, post_ids: list[str], flag: str) -> None:
    run.con.execute("INSERT OR IGNORE INTO collect_flags SELECT 'bluesky', p, ?, ? FROM unnest(?::VARCHAR[]) AS t(p) "
                    "WHERE p IN (SELECT post_id FROM posts WHERE platform = 'bluesky')", [flag, run.run_id, post_ids])


def _query(run: CollectRun, settings: BlueskyCollect, api: BlueskyAPI, query: str, since, until, extra) -> int:
    state = run.seed("bluesky", f"query:{query}")
    params = {"q": query, "sort": "latest", "limit": settings.page_size,
              "since": f"{since.isoformat()}T00:00:00Z" if since else None,
              "until": f"{(until + timedelta(days=1)).isoformat()}T00:00:00Z" if until else None}
    call = run.call("bluesky", state.seed, "app.bsky.feed.searchPosts", {k: v for k, v in params.items() if v})

    def fetch(cursor):
        page = api.query("app.bsky.feed.searchPosts", auth=True, **params, cursor=cursor)[0]
        posts = page.get("posts") or []
        call.page(len(posts))
        return Page(page, [k for k in (when(p.get("indexedAt")) for p in posts) if k], page.get("cursor"))

    try:
        walk(state, fetch, run.durable, floor=floor_of(since), **extra)
        state.status, state.error = "ok", None
    except CallError as exc:
        state.status, state.error = "error", str(exc)
        call.status = "error"
    run.save_seed(state)
    return int(state.status == "error")


def _threads(run: CollectRun, api: BlueskyAPI) -> int:
    """The threads above the study's replies whose parent the store lacks (flagged ``context``)."""
    replies = [r[0] for r in run.con.execute("""
        SELECT p.post_id FROM posts AS p
        WHERE p.platform = 'bluesky' AND p.in_reply_to_post_id IS NOT NULL
          AND p.in_reply_to_post_id NOT IN (SELECT post_id FROM posts WHERE platform = 'bluesky')
          AND p.post_id NOT IN (SELECT post_id FROM collect_flags WHERE flag = 'thread_fetched')
        ORDER BY p.post_id LIMIT ?""", [THREADS_PER_RUN]).fetchall()]
    if not replies:
        return 0
    state = run.seed("bluesky", "threads")
    call = run.call("bluesky", state.seed, "app.bsky.feed.getPostThread", {"depth": 0, "parentHeight": 80})
    before = {r[0] for r in run.con.execute("SELECT post_id FROM posts WHERE platform = 'bluesky'").fetchall()}
    pages = []
    for uri in replies:
        try:
            page = api.query("app.bsky.feed.getPostThread", uri=uri, depth=0, parentHeight=80)[0]
        except CallError:
            continue  # the reply itself is gone or hidden: nothing to add
        call.page(1)
        pages.append(page)
    run.durable(state, pages)
    after = {r[0] for r in run.con.execute("SELECT post_id FROM posts WHERE platform = 'bluesky'").fetchall()}
    _flag(run, sorted(after - before), "context")
    run.con.execute("INSERT OR IGNORE INTO collect_flags SELECT 'bluesky', p, 'thread_fetched', ? "
                    "FROM unnest(?::VARCHAR[]) AS t(p)", [run.run_id, replies])
    return len(pages)
