"""Deterministic generator of a fictional #MedTwitter superuser study.

``generate()`` writes a corpus in real twarc2 output format (one search API page per line)
and ``truth.json``: what the generator planted (roles, superusers, mentorship pairs,
sponsorship events, weekly #MedEdChat tweet chats, the codes of every post). Wording
lives in ``flows.sample``; the posting engine in ``flows.sample.engine``.

Superuser rule, applied to the generated corpus (not to intentions): an account is a
superuser when its role is student or resident, it authored at least
``max(10, round(0.5 * tweets / accounts))`` posts of any kind, it posted in at least
``ceil(0.75 * months)`` calendar months, and it interacted (reply, mention, retweet or
quote, in either direction) with at least 5 distinct accounts.

Determinism: all draws come from ``random.Random`` instances seeded from ``seed``; times
derive from the window, never the clock; no set is ever iterated.
"""
from __future__ import annotations

import calendar
import json
import math
import random
import string
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

from flows.sample import accounts as acc_data
from flows.sample.engine import TRAINEES, Account, Builder, Post, epoch, iso
from flows.sample.plan import Study

ROLES = ("student", "resident", "faculty", "health_professional", "organization", "other")
# Piecewise-linear user ids of 2007-2015 accounts (sequential then); snowflakes afterwards.
USER_ID_ANCHORS = ((2007, 1e6), (2008, 1.1e7), (2009, 1.9e7), (2010, 1e8), (2011, 2.3e8),
                   (2012, 4.6e8), (2013, 1.1e9), (2014, 2.3e9), (2015, 2.95e9), (2016, 4.7e9))
TWEET_FIELDS = ("author_id,conversation_id,created_at,entities,id,in_reply_to_user_id,lang,"
                "note_tweet,possibly_sensitive,public_metrics,referenced_tweets,reply_settings,"
                "source,text")
USER_FIELDS = ("created_at,description,entities,id,location,name,profile_image_url,protected,"
               "public_metrics,url,username,verified")
EXPANSIONS = ("author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id,"
              "entities.mentions.username")
DEFAULT_AVATAR = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
JSON_KW = dict(ensure_ascii=False, sort_keys=False, separators=(",", ":"))


def generate(out_dir: Path, *, seed: int = 2015, accounts: int = 40, months: int = 8,
             tweets: int = 6000, start: str = "2014-09-01") -> dict:
    """Write a fictional #MedTwitter superuser corpus in twarc2 format plus its ground truth.

    Args:
        out_dir: Folder to write ``corpus/medtwitter_sample.jsonl`` and ``truth.json`` into.
        seed: Seed of every random draw; the same arguments give byte-identical files.
        accounts: Number of accounts (the 40 written ones are trimmed or extended).
        months: Length of the observation window in calendar months.
        tweets: Number of posts in the corpus, retweets included.
        start: First day of the window (ISO date, UTC), not before 2010-11-05.

    Returns:
        {"corpus": str(path), "truth": str(path), "tweets": N, "accounts": N, "seed": S}.

    Raises:
        ValueError: If a size is too small to build the study or ``start`` is too early.
    """
    first = date.fromisoformat(start)
    if accounts < 8 or months < 1 or tweets < 500:
        # below 500 posts the planted threads, events and chats alone could overshoot
        raise ValueError("need accounts >= 8, months >= 1 and tweets >= 500")
    if first < date(2010, 11, 5):
        raise ValueError("tweet ids are snowflakes, which begin on 2010-11-04")
    last = _add_months(first, months)
    rng = random.Random(seed)
    accts = _make_accounts(accounts, rng, first)
    b = Study(rng, accts, epoch(first), epoch(last))
    for a in accts:  # profile links get t.co urls like any other link
        a.tco = b.tco(a.site) if a.site else ""
    chats = b.chats(tweets)
    pairs = b.mentorships([(epoch(_add_months(first, k)), epoch(_add_months(first, k + 1)))
                           for k in range(months)])
    events = b.sponsorships(pairs, _match_day(first, last))
    b.background(max(0, tweets - len(b.posts)))
    b.posts.sort(key=lambda p: p.id)
    superuser = _superusers(b.posts, accts, tweets, months)
    followers = _user_metrics(accts, b.posts, superuser, random.Random(f"{seed}:users"))
    metrics = _post_metrics(b.posts, followers, random.Random(f"{seed}:metrics"))
    corpus = _write(Path(out_dir) / "corpus" / "medtwitter_sample.jsonl",
                    _pages(b, metrics, random.Random(f"{seed}:pages")))
    truth = _write(Path(out_dir) / "truth.json",
                   [_truth(seed, b, accts, superuser, pairs, events, chats)])
    return {"corpus": str(corpus), "truth": str(truth), "tweets": len(b.posts),
            "accounts": len(accts), "seed": seed}


def _write(path: Path, docs: list[dict]) -> Path:
    """One compact JSON document per line, UTF-8, "\\n" line ends: byte-stable output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d, **JSON_KW) + "\n" for d in docs),
                    encoding="utf-8", newline="\n")
    return path


def _add_months(d: date, n: int) -> date:
    years, month0 = divmod(d.month - 1 + n, 12)
    last_day = calendar.monthrange(d.year + years, month0 + 1)[1]
    return date(d.year + years, month0 + 1, min(d.day, last_day))  # Jan 31 + 1 -> Feb 28


def _match_day(first: date, last: date) -> date | None:
    """Match Day is the third Friday of March; None when the window misses it."""
    for year in range(first.year, last.year + 1):
        day = date(year, 3, 15 + (4 - date(year, 3, 15).weekday()) % 7)
        if first <= day and day.toordinal() + 2 <= last.toordinal():  # whole day in window
            return day
    return None


def _make_accounts(n: int, rng: random.Random, first: date) -> list[Account]:
    """Trim (keeping the role mix) or extend the written accounts to ``n``; give them ids."""
    academic_year = first.year if first.month >= 7 else first.year - 1
    accts, ids = [], set()
    for i, s in enumerate(_select_specs(n, rng)):
        bio = s["bio"].replace("{grad}", str(academic_year + 5 - (s["year"] or 4)))
        year, month = (int(x) for x in s["since"].split("-"))
        created = min(epoch(date(year, month, rng.randint(1, 28))) + rng.randrange(86400),
                      epoch(first) - 30 * 86400)  # accounts exist before the window opens
        uid = _user_id(created, rng)
        while uid in ids:  # two accounts opened the same day could draw the same id
            uid += 1
        ids.add(uid)
        accts.append(Account(i, s["handle"], s["name"], s["role"], bio, s["location"], s["site"],
                             s["activity"], s["year"], s["es"], str(uid), created))
    return accts


def _select_specs(n: int, rng: random.Random) -> list[dict]:
    base = acc_data.ACCOUNTS
    if n >= len(base):
        return list(base) + [_extra_spec(i, rng) for i in range(n - len(base))]
    roles = [s["role"] for s in base]
    floor = {"student": 1, "resident": 1, "faculty": 1, "organization": 1}
    quota = {r: max(floor.get(r, 0), round(roles.count(r) * n / len(base))) for r in ROLES}
    quota["student"] += n - sum(quota.values())
    chosen = []
    for s in base:  # first ones of each role: the society (chat host) precedes the journal
        if sum(c["role"] == s["role"] for c in chosen) < quota[s["role"]]:
            chosen.append(s)
    return chosen


def _extra_spec(i: int, rng: random.Random) -> dict:
    role = acc_data.EXTRA_ROLES[i % len(acc_data.EXTRA_ROLES)]
    first, last = rng.choice(acc_data.EXTRA_FIRST), rng.choice(acc_data.EXTRA_LAST)
    year = rng.randint(1, 4) if role == "student" else 0
    bio = (rng.choice(acc_data.EXTRA_BIOS[role])
           .replace("{specialty}", rng.choice(acc_data.EXTRA_SPECIALTIES))
           .replace("{year}", str(year)).replace("{pgy}", str(rng.randint(1, 4))))
    busy = role in TRAINEES
    return dict(handle=f"{first[:5]}{last[:6]}{i}", name=f"{first} {last}", role=role, bio=bio,
                location="", site="", activity=round(rng.uniform(0.4, 1.6) if busy else
                                                     rng.uniform(0.3, 0.9), 2),
                year=year, es=False, since=f"{rng.randint(2009, 2013)}-{rng.randint(1, 12):02d}")


def _user_id(created: int, rng: random.Random) -> int:
    when = datetime.fromtimestamp(created, UTC)
    frac_year = when.year + (when.timetuple().tm_yday - 1) / 366
    for (y0, id0), (y1, id1) in zip(USER_ID_ANCHORS, USER_ID_ANCHORS[1:]):
        if y0 <= frac_year < y1:
            return int(id0 + (id1 - id0) * (frac_year - y0)) + rng.randrange(100_000)
    return ((created * 1000 - 1288834974657) << 22) | rng.getrandbits(22)


def _superusers(posts: list[Post], accts: list[Account], tweets: int, months: int) -> list[bool]:
    """Apply the superuser rule of the module docstring to the generated posts."""
    count = [0] * len(accts)
    active = [set() for _ in accts]
    partners = [set() for _ in accts]
    for p in posts:
        count[p.author] += 1
        active[p.author].add(iso(p.sec)[:7])
        for other in p.mentions + ([p.parent.author] if p.parent else []):
            if other != p.author:
                partners[p.author].add(other)
                partners[other].add(p.author)
    need_posts = max(10, round(0.5 * tweets / len(accts)))
    need_months = math.ceil(0.75 * months)
    return [a.role in TRAINEES and count[i] >= need_posts and len(active[i]) >= need_months
            and len(partners[i]) >= 5 for i, a in enumerate(accts)]


def _user_metrics(accts: list[Account], posts: list[Post], superuser: list[bool],
                  rng: random.Random) -> list[int]:
    """Fill each account's ``public_metrics``; return follower counts for like counts."""
    count = [0] * len(accts)
    for p in posts:
        count[p.author] += 1
    spans = {"student": (40, 300, 400, 3500), "resident": (100, 600, 600, 5000),
             "faculty": (1500, 15000), "organization": (8000, 60000),
             "health_professional": (500, 3000), "other": (1000, 8000)}
    followers = []
    for a, su in zip(accts, superuser):
        lo, hi = spans[a.role][2:] if su and a.role in TRAINEES else spans[a.role][:2]
        n = rng.randint(lo, hi)
        followers.append(n)
        a.metrics = {"followers_count": n, "following_count": rng.randint(150, 1500),
                     "tweet_count": count[a.idx] * rng.randint(3, 9) + rng.randrange(500),
                     "listed_count": n // rng.randint(25, 60)}
    return followers


def _post_metrics(posts: list[Post], followers: list[int], rng: random.Random) -> dict:
    """In-corpus retweets, replies and quotes plus some simulated outside engagement."""
    got: dict[int, list[int]] = {}
    for p in posts:
        if p.parent:
            got.setdefault(p.parent.id, [0, 0, 0])[("retweet", "reply", "quote").index(p.kind)] += 1
    out = {}
    for p in posts:
        if p.kind != "retweet":
            rt, rp, qt = got.get(p.id, (0, 0, 0))
            f = followers[p.author]
            out[p.id] = {"retweet_count": rt + rng.randrange(1 + f // 3000), "reply_count": rp,
                         "like_count": rng.randrange(2 + f // 200 + 3 * rt), "quote_count": qt}
    for p in posts:  # as in the API, a retweet shows its original's retweet count
        if p.kind == "retweet":
            out[p.id] = {"retweet_count": out[p.parent.id]["retweet_count"], "reply_count": 0,
                         "like_count": 0, "quote_count": 0}
    return out


def _user_json(b: Builder, a: Account) -> dict:
    d = {"id": a.id, "username": a.handle, "name": a.name, "description": a.bio,
         "created_at": iso(a.created), "public_metrics": a.metrics,
         "verified": a.role == "organization", "protected": False, "location": a.location,
         "url": a.tco}
    ents = {}
    if a.tco:
        ents["url"] = {"urls": b.entities(a.tco)["urls"]}
    desc = b.entities(a.bio, mention_ids=False)
    if desc:
        ents["description"] = desc
    if ents:
        d["entities"] = ents
    d["profile_image_url"] = DEFAULT_AVATAR
    return d


def _pages(b: Builder, metrics: dict, rng: random.Random) -> list[dict]:
    """Group posts newest-first into pages of 100 with their expansions, like search/all."""
    posts = sorted(b.posts, key=lambda p: -p.id)
    cache: dict[int, dict] = {}

    def tweet(p: Post) -> dict:
        if p.id not in cache:
            cache[p.id] = b.tweet_json(p, metrics[p.id])
        return cache[p.id]

    pages, token = [], ""
    retrieved = b.end + 86400 + 9 * 3600 + 41 * 60  # the day after the window, never the clock
    for n, i in enumerate(range(0, len(posts), 100)):
        chunk = posts[i:i + 100]
        refs = list({p.parent.id: p.parent for p in chunk if p.parent}.values())
        users: dict[int, Account] = {}
        for p in chunk + refs:
            for k in [p.author] + ([p.parent.author] if p.parent else []) + p.mentions:
                users.setdefault(k, b.accts[k])
        meta = {"newest_id": str(chunk[0].id), "oldest_id": str(chunk[-1].id),
                "result_count": len(chunk)}
        url = _page_url(b, token)
        if i + 100 < len(posts):
            token = "".join(rng.choices(string.ascii_lowercase + string.digits, k=45))
            meta["next_token"] = token
        when = datetime.fromtimestamp(retrieved + 3 * n, UTC)
        pages.append({"data": [tweet(p) for p in chunk],
                      "includes": {"users": [_user_json(b, a) for a in users.values()],
                                   "tweets": [tweet(p) for p in refs]},
                      "meta": meta,
                      "__twarc": {"url": url, "version": "2.0.3",
                                  "retrieved_at": when.isoformat()}})
    return pages


def _page_url(b: Builder, token: str) -> str:
    query = "(" + " OR ".join(f"from:{a.handle}" for a in b.accts) + ")"
    params = {"expansions": EXPANSIONS, "tweet.fields": TWEET_FIELDS, "user.fields": USER_FIELDS,
              "start_time": iso(b.start)[:19] + "Z", "end_time": iso(b.end)[:19] + "Z",
              "query": query, "max_results": "100"}
    if token:
        params["next_token"] = token
    return "https://api.twitter.com/2/tweets/search/all?" + urlencode(params)


def _truth(seed: int, b: Builder, accts: list[Account], superuser: list[bool], pairs: list,
           events: list[dict], chats: list[dict]) -> dict:
    return {
        "seed": seed,
        "window": [iso(b.start), iso(b.end)],
        "accounts": [{"id": a.id, "handle": a.handle, "name": a.name, "role": a.role,
                      "bio": a.bio, "superuser": su} for a, su in zip(accts, superuser)],
        "mentorship_pairs": [{"mentor": m.handle, "mentee": e.handle} for m, e in pairs],
        "sponsorship_events": sorted(events, key=lambda e: int(e["post_id"])),
        "chats": chats,
        "codes": {str(p.id): _codes_by_codebook(p.codes) for p in b.posts if p.kind != "retweet"},
    }


# The mentoring themes span two shipped codebooks; truth names each code under its own.
MENTORING_CODEBOOK = {"mentorship": "mentorship_medtwitter", "coaching": "mentorship_medtwitter",
                      "sponsorship": "mentorship_medtwitter", "advice_seeking": "micromentorship",
                      "reassurance": "micromentorship", "resource_sharing": "micromentorship",
                      "burnout_work_life": "micromentorship"}


def _codes_by_codebook(codes: tuple[list[str], list[str]]) -> dict[str, list[str]]:
    out = {"chretien2015": list(codes[0]), "mentorship_medtwitter": [], "micromentorship": []}
    for code in codes[1]:
        out[MENTORING_CODEBOOK[code]].append(code)
    return out
