"""The X API v2 side of the replay server (tests/replay.py): user lookups, user timelines and
search, with pagination tokens, since_id, the errors X sends for missing, suspended and
protected accounts, and a bearer token check."""

from __future__ import annotations

import re


def tweet(tid: str, user: dict, text: str, created: str, *, note: str | None = None) -> dict:
    """A v2 tweet as the API returns it with twarc2's fields (a long post carries note_tweet)."""
    out = {"id": tid, "text": text, "author_id": user["id"], "conversation_id": tid, "created_at": created,
           "lang": "en", "edit_history_tweet_ids": [tid], "reply_settings": "everyone", "possibly_sensitive": False,
           "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 2, "quote_count": 0,
                              "bookmark_count": 0, "impression_count": 40}}
    if note:
        out["note_tweet"] = {"text": note}
    return out


def user(uid: str, username: str, **kw) -> dict:
    return {"id": uid, "username": username, "name": username.title(), "protected": False,
            "created_at": "2012-05-01T10:00:00.000Z", "description": "Internist, #MedEd",
            "public_metrics": {"followers_count": 100, "following_count": 50, "tweet_count": 10,
                               "listed_count": 1}} | kw


def _error(detail: str, title: str, kind: str, value: str) -> dict:
    return {"errors": [{"value": value, "detail": detail, "title": title, "resource_type": "user",
                        "parameter": "username", "resource_id": value, "type": f"https://api.twitter.com/2/problems/{kind}"}]}


def route(handler, path: str):
    """The method answering ``path``, or None."""
    world = handler.world
    if handler.headers.get("Authorization") != f"Bearer {world.bearer}":
        return lambda q: (401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                                "detail": "Unauthorized"})
    if m := re.fullmatch(r"/2/users/by/username/(\w+)", path):
        return lambda q: _user(world, m.group(1))
    if m := re.fullmatch(r"/2/users/(\d+)", path):
        return lambda q: _user(world, next((n for n, u in world.users.items() if u.get("id") == m.group(1)), "?"))
    if m := re.fullmatch(r"/2/users/(\d+)/tweets", path):
        return lambda q: _timeline(world, m.group(1), q)
    if path in ("/2/tweets/search/recent", "/2/tweets/search/all"):
        return lambda q: _search(world, q)
    return None


def _user(world, username: str):
    u = world.users.get(username)
    if u is None:
        return 200, _error(f"Could not find user with username: [{username}].", "Not Found Error",
                           "resource-not-found", username)
    if u.get("suspended"):
        return 200, _error(f"User has been suspended: [{username}].", "Forbidden", "resource-not-found", username)
    return 200, {"data": {k: v for k, v in u.items() if k != "suspended"}}


def _page(world, tweets: list[dict], q, token: str):
    if q.get("since_id"):
        tweets = [t for t in tweets if int(t["id"]) > int(q["since_id"])]
    if q.get("start_time"):
        tweets = [t for t in tweets if t["created_at"] >= q["start_time"]]
    tweets = sorted(tweets, key=lambda t: int(t["id"]), reverse=True)
    start, size = int(q.get(token) or 0), int(q.get("max_results") or 10)
    chunk = tweets[start:start + size]
    if not chunk:
        return 200, {"meta": {"result_count": 0}}
    authors = {t["author_id"] for t in chunk}
    users = [{k: v for k, v in u.items() if k != "suspended"} for u in world.users.values() if u.get("id") in authors]
    meta = {"newest_id": chunk[0]["id"], "oldest_id": chunk[-1]["id"], "result_count": len(chunk)}
    if start + size < len(tweets):
        meta["next_token"] = str(start + size)
    return 200, {"data": chunk, "includes": {"users": users}, "meta": meta}


def _timeline(world, uid: str, q):
    name = next((n for n, u in world.users.items() if u.get("id") == uid), None)
    u = world.users.get(name) if name else None
    if u is None:
        return 200, _error(f"Could not find user with id: [{uid}].", "Not Found Error", "resource-not-found", uid)
    if u.get("protected"):
        return 200, _error(f"Sorry, you are not authorized to see the user with id: [{uid}].", "Authorization Error",
                           "not-authorized-for-resource", uid)
    return _page(world, world.tweets.get(name, []), q, "pagination_token")


def _search(world, q):
    term = q["query"].lower()
    hits = [t for ts in world.tweets.values() for t in ts if term in (t.get("note_tweet", {}).get("text") or
                                                                       t["text"]).lower()]
    return _page(world, hits, q, "next_token")
