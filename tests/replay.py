"""A replay server for collection tests: Bluesky's XRPC endpoints and the X API v2, on 127.0.0.1.

The server holds a small world (accounts and their posts) that a test changes between runs (new
posts, a deleted post, an author feed that stops early, a 429 with its reset). Responses have the
shapes the platforms document and the real fixtures show (post views as in
tests/fixtures/ingest/bluesky/, v2 pages as twarc saved them). Started and stopped by the test.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z: the fake clock the tests' waiter reads


def jwt(kind: str, n: int, ttl: float = 86400 * 30) -> str:
    """A JWT of the shape the PDS issues (the SDK reads its exp; nobody checks the signature)."""
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    scope = "com.atproto.appPass" if kind == "access" else "com.atproto.refresh"
    return ".".join([part({"typ": "at+jwt" if kind == "access" else "refresh+jwt", "alg": "ES256K"}),
                     part({"scope": scope, "sub": "did:plc:collector0000000000000", "iat": int(time.time()),
                           "exp": int(time.time() + ttl), "jti": f"{kind}{n}"}), "c2lnbmF0dXJl"])


def post_view(did: str, handle: str, rkey: str, text: str, created: str, *, parent: str | None = None,
              tags: tuple[str, ...] = ()) -> dict:
    """A post view (app.bsky.feed.defs#postView) as getAuthorFeed, getPosts and searchPosts return it."""
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": created, "langs": ["en"]}
    if parent:
        record["reply"] = {"root": {"uri": parent, "cid": "bafyparent"}, "parent": {"uri": parent, "cid": "bafyparent"}}
    if tags:
        b = text.encode()
        record["facets"] = [{"index": {"byteStart": b.index(f"#{t}".encode()), "byteEnd": b.index(f"#{t}".encode())
                                       + len(t.encode()) + 1},
                             "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": t}]} for t in tags]
    return {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": f"bafy{rkey}",
            "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0].title(),
                       "avatar": f"https://cdn.example.org/avatar/{rkey}.jpg", "labels": [],
                       "createdAt": "2023-09-01T08:00:00.000Z"},
            "record": record, "replyCount": 0, "repostCount": 0, "likeCount": 1, "quoteCount": 0,
            "indexedAt": created, "labels": []}


@dataclass
class Account:
    did: str
    handle: str
    posts: list[dict] = field(default_factory=list)  # post views, any order
    error: tuple[str, str] | None = None  # (XRPC error, message) that getProfile answers
    feed_stops_after: int | None = None  # getAuthorFeed ends (no cursor) after this many posts
    records: list[dict] = field(default_factory=list)  # repository records the AppView has no view of


@dataclass
class World:
    """What the replay server serves; tests change it between runs."""

    accounts: dict[str, Account] = field(default_factory=dict)
    password: str = "app-pass-word-1234"
    throttle: dict[str, int] = field(default_factory=dict)  # endpoint -> 429s still to answer
    requests: list[str] = field(default_factory=list)  # every path+query served, in order
    sessions: int = 0
    access_ttl: float = 86400  # seconds an access token is good for
    tweets: dict[str, list[dict]] = field(default_factory=dict)  # X: username -> tweets, newest first
    users: dict[str, dict] = field(default_factory=dict)  # X: username -> user object or {"error": ...}
    bearer: str = "AAAAAAAAAAAAAAAAAAAAAreplay%2Btoken"

    def add(self, did: str, handle: str, rkey: str, text: str, created: str, **kw) -> dict:
        account = self.accounts.setdefault(did, Account(did, handle))
        view = post_view(did, account.handle, rkey, text, created, **kw)
        account.posts.append(view)
        return view

    def views(self) -> dict[str, dict]:
        return {p["uri"]: p for a in self.accounts.values() for p in a.posts}

    def by(self, actor: str) -> Account | None:
        return next((a for a in self.accounts.values() if actor in (a.did, a.handle)), None)


def _newest_first(posts: list[dict]) -> list[dict]:
    return sorted(posts, key=lambda p: (p["indexedAt"], p["uri"]), reverse=True)


class Handler(BaseHTTPRequestHandler):
    world: World

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._route()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.body = json.loads(self.rfile.read(length) or b"{}")
        self._route()

    def _route(self):
        url = urlparse(self.path)
        q = {k: v if k in ("uris", "ids") else v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self.world.requests.append(url.path + ("?" + url.query if url.query else ""))
        name = url.path.rsplit("/", 1)[-1]
        left = self.world.throttle.get(name, 0)
        if left:
            self.world.throttle[name] = left - 1
            reset = str(int(T0 + 30))
            return self._send(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"} if
                              url.path.startswith("/xrpc") else {"title": "Too Many Requests", "status": 429},
                              {"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": reset,
                               "x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset})
        if url.path.startswith("/xrpc/"):
            method = getattr(self, "x_" + name.replace(".", "_"), None)
        else:
            from replay_x import route

            method = route(self, url.path)
        if method is None:
            return self._send(501, {"error": "MethodNotImplemented", "message": f"{name} is not served here"})
        status, body = method(q)
        self._send(status, body, {"ratelimit-limit": "3000", "ratelimit-remaining": "2999",
                                  "ratelimit-reset": str(int(T0 + 300))})

    # --- identity and profiles ---------------------------------------------------------
    def x_com_atproto_identity_resolveHandle(self, q):
        a = self.world.by(q["handle"])
        if a is None or a.handle != q["handle"]:
            return 400, {"error": "InvalidRequest", "message": "Unable to resolve handle"}
        return 200, {"did": a.did}

    def x_app_bsky_actor_getProfile(self, q):
        a = self.world.by(q["actor"])
        if a is None:
            return 400, {"error": "InvalidRequest", "message": "Profile not found"}
        if a.error:
            return 400, {"error": a.error[0], "message": a.error[1]}
        return 200, {"did": a.did, "handle": a.handle, "displayName": a.handle.split(".")[0].title(),
                     "followersCount": 10, "followsCount": 5, "postsCount": len(a.posts), "labels": [],
                     "createdAt": "2023-09-01T08:00:00.000Z", "indexedAt": "2023-09-01T08:00:00.000Z"}

    # --- sessions ----------------------------------------------------------------------
    def x_com_atproto_server_createSession(self, q):
        if self.body.get("password") != self.world.password:
            return 401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
        self.world.sessions += 1
        return 200, {"did": "did:plc:collector0000000000000", "handle": self.body["identifier"],
                     "accessJwt": jwt("access", self.world.sessions, self.world.access_ttl),
                     "refreshJwt": jwt("refresh", self.world.sessions), "active": True}

    def x_com_atproto_server_refreshSession(self, q):
        self.world.sessions += 1
        return 200, {"did": "did:plc:collector0000000000000", "handle": "collector.example.org",
                     "accessJwt": jwt("access", self.world.sessions, self.world.access_ttl),
                     "refreshJwt": jwt("refresh", self.world.sessions)}

    # --- feeds -------------------------------------------------------------------------
    def _page(self, items: list, q, limit_default=50):
        start, limit = int(q.get("cursor") or 0), int(q.get("limit") or limit_default)
        chunk = items[start:start + limit]
        more = start + limit < len(items)
        return chunk, (str(start + limit) if more else None)

    def x_app_bsky_feed_getAuthorFeed(self, q):
        a = self.world.by(q["actor"])
        if a is None:
            return 400, {"error": "InvalidRequest", "message": "Profile not found"}
        if a.error:
            return 400, {"error": a.error[0], "message": a.error[1]}
        posts = _newest_first(a.posts)
        if a.feed_stops_after is not None:
            posts = posts[:a.feed_stops_after]
        chunk, cursor = self._page(posts, q)
        return 200, {"feed": [{"post": copy.deepcopy(p)} for p in chunk]} | ({"cursor": cursor} if cursor else {})

    def x_com_atproto_repo_listRecords(self, q):
        a = self.world.by(q["repo"])
        if a is None:
            return 400, {"error": "RepoNotFound", "message": f"Could not find repo: {q['repo']}"}
        records = sorted([*({"uri": p["uri"], "cid": p["cid"], "value": p["record"]} for p in a.posts), *a.records],
                         key=lambda r: r["uri"].rsplit("/", 1)[-1], reverse=True)
        if q.get("cursor"):  # the cursor is the last record key of the page before
            records = [r for r in records if r["uri"].rsplit("/", 1)[-1] < q["cursor"]]
        chunk, cursor = self._page(records, {"limit": q.get("limit")})
        return 200, {"records": chunk} | ({"cursor": chunk[-1]["uri"].rsplit("/", 1)[-1]} if cursor else {})

    def x_app_bsky_feed_getPosts(self, q):
        views = self.world.views()
        return 200, {"posts": [views[u] for u in q.get("uris", []) if u in views]}

    def x_app_bsky_feed_searchPosts(self, q):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth.count(".") != 2:
            return 403, {"error": "Forbidden", "message": "search requires a login"}
        term = q["q"].lower()
        hits = [p for p in _newest_first(list(self.world.views().values())) if term in p["record"]["text"].lower()
                and (not q.get("since") or p["indexedAt"] >= q["since"])]
        chunk, cursor = self._page(hits, q, 25)
        return 200, {"posts": chunk, "hitsTotal": len(hits)} | ({"cursor": cursor} if cursor else {})

    def x_app_bsky_feed_getPostThread(self, q):
        views = self.world.views()
        if q["uri"] not in views:
            return 400, {"error": "NotFound", "message": f"Post not found: {q['uri']}"}

        def node(uri):
            if uri not in views:
                return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}
            view = views[uri]
            out = {"$type": "app.bsky.feed.defs#threadViewPost", "post": view}
            parent = (view["record"].get("reply") or {}).get("parent", {}).get("uri")
            if parent:
                out["parent"] = node(parent)
            return out

        return 200, {"thread": node(q["uri"])}


class Replay:
    """The server, started and stopped by a test: ``with Replay(world) as base: ...``."""

    def __init__(self, world: World):
        self.world = world
        handler = type("BoundHandler", (Handler,), {"world": world})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> str:
        self.thread.start()
        return self.base

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
