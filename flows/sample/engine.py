"""Posting engine of the sample study: turns the content tables into posts.

``Builder`` plants the scripted structure first (weekly #MedEdChat chats, mentorship
threads, sponsorship events, Match Day), then fills the rest of the requested volume with
background posts drawn in time order, so that every reply, retweet or quote points at a
post that already exists. It also renders posts as API v2 tweet objects.
"""
from __future__ import annotations

import bisect
import random
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flows.sample import mentoring as M
from flows.sample import slots as S
from flows.sample import themes as T

TRAINEES = ("student", "resident")
CHRETIEN = ("information", "collaboration", "perspectives", "community", "advocacy",
            "digital_footprint", "equalization")
ALL_THEMES = {**T.THEMES, **M.MENTOR_THEMES}
NO_CODES: tuple = ((), ())
EASTERN = 5 * 3600  # local clock is US Eastern standard time all year; DST is ignored
HOUR_W = (3, 1.5, .8, .5, .4, .8, 3, 6, 8, 9, 9, 10, 12, 10, 9, 9, 10, 11, 12, 15, 18, 19, 15, 8)
KINDS = ("original", "reply", "retweet", "quote")
KIND_W = {"organization": (70, 5, 22, 3), "faculty": (43, 27, 22, 8)}
DEFAULT_KIND_W = (43, 29, 22, 6)
ROLE_THEMES = {  # theme weights of original posts; "personal" posts carry no codes
    "student": dict(personal=46, information=10, collaboration=5, perspectives=6, community=12,
                    advocacy=6, digital_footprint=5, equalization=5, advice_seeking=6, burnout_work_life=4,
                    resource_sharing=3, reassurance=2, mentorship=2),
    "resident": dict(personal=44, information=12, community=9, perspectives=6, advocacy=6,
                     collaboration=5, digital_footprint=3, burnout_work_life=6, reassurance=5, coaching=6,
                     resource_sharing=5, mentorship=3),
    "faculty": dict(personal=38, information=15, collaboration=6, advocacy=8, perspectives=5,
                    community=5, coaching=10, mentorship=8, reassurance=5, resource_sharing=7,
                    digital_footprint=2),
    "organization": dict(information=50, community=15, advocacy=15, collaboration=10,
                         digital_footprint=5, resource_sharing=5),
    "health_professional": dict(personal=36, perspectives=25, information=18, advocacy=14,
                                collaboration=7, community=6),
    "other": dict(personal=36, advocacy=25, perspectives=25, information=12, community=8),
}
AFFINITY = {("student", "student"): 1, ("student", "resident"): .9, ("student", "faculty"): .75,
            ("resident", "resident"): 1, ("resident", "student"): .8, ("resident", "faculty"): .85,
            ("faculty", "faculty"): .9, ("faculty", "student"): .7, ("faculty", "resident"): .85}
HASHTAG_RE = re.compile(r"(?<![\w#&])#([A-Za-z]\w*)")
MENTION_RE = re.compile(r"(?<![\w@])@(\w{1,15})")
TCO_RE = re.compile(r"https://t\.co/[A-Za-z0-9]{10}")
SLOT_RE = re.compile(r"\{(@?\w+)\}")
ALPHANUMERIC = string.ascii_letters + string.digits


def epoch(d: date) -> int:
    """Seconds since 1970 of midnight UTC starting ``d``."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def iso(sec: int) -> str:
    """API v2 timestamp, e.g. ``2014-09-03T14:07:30.000Z``."""
    return datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(eq=False)
class Account:
    idx: int
    handle: str
    name: str
    role: str
    bio: str
    location: str
    site: str
    activity: float
    year: int
    es: bool
    id: str
    created: int
    tco: str = ""
    metrics: dict = field(default_factory=dict)


@dataclass(eq=False)
class Post:
    id: int
    sec: int
    author: int
    kind: str  # original | reply | retweet | quote
    full: str  # whole text; for a retweet "RT @handle: " + the original's whole text
    text: str  # what the API shows in ``text``: cut to 280 (140 for retweets) with "…"
    lang: str
    codes: tuple  # (Chretien codes, mentorship codes); a retweet has none
    theme: str
    parent: Post | None
    conv: int
    source: str
    mentions: list[int]


def _merge(a, b, order) -> tuple:
    return tuple(c for c in order if c in a or c in b)


def _cut(text: str, limit: int, words: bool) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    space = head.rfind(" ")
    return (head[:space] if words and space > limit // 2 else head) + "…"


class Builder:
    """Holds accounts, posts and links while the study is planted."""

    def __init__(self, rng: random.Random, accts: list[Account], start: int, end: int):
        self.rng, self.accts, self.start, self.end = rng, accts, start, end
        self.posts: list[Post] = []
        self.ids: set[int] = set()
        self.rts: set[tuple[int, int]] = set()
        self.links: dict[str, str] = {}
        self.by_handle = {a.handle.lower(): a for a in accts}
        orgs = [a for a in accts if a.role == "organization"]
        self.society = next((a for a in orgs if "Society" in a.name), orgs[0] if orgs else None)
        self.journal = next((a for a in orgs if "Journal" in a.bio), self.society)
        self.year = datetime.fromtimestamp(start, UTC).year
        self.day_starts, self.day_w = [], []
        for day in range(start // 86400, end // 86400):
            d = date.fromordinal(date(1970, 1, 1).toordinal() + day)
            winter_break = (d.month == 12 and d.day >= 21) or (d.month == 1 and d.day <= 1)
            self.day_starts.append(day * 86400 + EASTERN)  # local midnight, in UTC
            self.day_w.append((1.0, 1, 1, 1, 1, .6, .75)[d.weekday()] * (.6 if winter_break else 1))

    # ---- time and ids ------------------------------------------------------------
    def sample_time(self, lo: int | None = None, hi: int | None = None) -> int:
        """A second in [lo, hi) weighted by weekday, winter break and local hour of day."""
        rng, lo, hi = self.rng, self.start if lo is None else lo, self.end if hi is None else hi
        i0 = max(0, bisect.bisect_right(self.day_starts, lo) - 1)
        i1 = max(i0 + 1, bisect.bisect_left(self.day_starts, hi))
        days, weights = self.day_starts[i0:i1], self.day_w[i0:i1]
        for _ in range(200):
            t = rng.choices(days, weights)[0] + rng.choices(range(24), HOUR_W)[0] * 3600
            t += rng.randrange(3600)
            if lo <= t < hi:
                return t
        return rng.randrange(lo, hi)

    def new_id(self, sec: int) -> int:
        # Snowflake: milliseconds since the Twitter epoch, then 22 bits of worker/sequence.
        while True:
            pid = ((sec * 1000 + self.rng.randrange(1000) - 1288834974657) << 22) \
                | self.rng.getrandbits(22)
            if pid not in self.ids:
                self.ids.add(pid)
                return pid

    # ---- text --------------------------------------------------------------------
    def tco(self, expanded: str) -> str:
        while True:
            url = "https://t.co/" + "".join(self.rng.choices(ALPHANUMERIC, k=10))
            if url not in self.links:
                self.links[url] = expanded
                return url

    def link_target(self, kind: str, a: Account) -> str:
        rng = self.rng
        slug = "-".join(rng.sample(S.SLUG_WORDS, 2)) + f"-{rng.randrange(10, 1000)}"
        if kind == "paperlink":
            number = rng.randrange(1000, 10000)  # 10.5555 is the DOI prefix kept for tests
            return f"https://jfme.example.org/content/10.5555/jfme.{self.year}.{number}"
        if kind == "bloglink":
            base = a.site or f"https://{a.handle.lower().replace('_', '')}.blog.example.com"
            return f"{base}/posts/{slug}"
        host = rng.choice(S.NEWS_HOSTS if kind == "newslink" else S.RESOURCE_HOSTS)
        return f"https://{host}/{slug}"

    def mention(self, kind: str, a: Account) -> Account:
        fixed = {"journal": self.journal, "society": self.society}.get(kind)
        if fixed is not None and fixed is not a:
            return fixed
        roles = {"peer": TRAINEES, "senior": ("faculty",)}.get(kind)
        cands = [x for x in self.accts if x is not a and (roles is None or x.role in roles)]
        cands = cands or [x for x in self.accts if x is not a]
        return self.rng.choices(cands, [x.activity for x in cands])[0]

    def fill(self, template: str, a: Account, ctx: dict | None = None) -> str:
        """Replace ``{slot}`` placeholders; a slot's value may hold slots of its own."""
        ctx, used = ctx or {}, []

        def slot(m: re.Match) -> str:
            key = m.group(1)
            if key in ctx:
                return ctx[key]
            if key[0] == "@":
                return "@" + self.mention(key[1:], a).handle
            if key.endswith("link"):
                return self.tco(self.link_target(key, a))
            value = self.rng.choice(S.SLOTS[key])
            if value in used:  # "between EM and EM": draw once more
                value = self.rng.choice(S.SLOTS[key])
            used.append(value)
            return value

        for _ in range(3):
            template, n = SLOT_RE.subn(slot, template)
            if not n:
                break
        return template

    def choose(self, pool: list[str], role: str) -> str:
        """A template whose voice (``S|`` trainee, ``F|`` senior) fits the role."""
        fits = [t for t in pool if not ((t.startswith("S|") and role not in TRAINEES)
                                        or (t.startswith("F|") and role == "student"))]
        t = self.rng.choice(fits or pool)
        return t[2:] if t[1:2] == "|" else t

    def tags(self, text: str, theme: str, a: Account) -> str:
        rng, r = self.rng, self.rng.random()
        n = int(r > 0.93) if theme == "personal" else (0 if r < 0.5 else 1 if r < 0.88 else 2)
        names, weights = zip(*S.HASHTAGS[theme])
        picked = [rng.choices(names, weights)[0] for _ in range(n)]
        picked += [tag for key, tag in S.SPECIALTY_TAGS.items()
                   if key in text and rng.random() < .5]
        out, low = [], text.lower()
        for tag in picked:
            trainee_tag = tag == "MedStudentTwitter" and a.role not in TRAINEES
            if f"#{tag.lower()}" not in low and tag not in out and not trainee_tag:
                out.append(tag)
        return text + "".join(" #" + t for t in out)

    def lengthen(self, text: str) -> str:
        """Make a long (note) post: more than 280 characters."""
        for extra in self.rng.sample(S.ELABORATIONS, 3):
            if len(text) > 290:
                break
            text = f"{text} {extra}"
        return text

    def compose(self, a: Account, theme: str) -> tuple[str, tuple, str]:
        """Text, codes and language of an original post on ``theme``."""
        rng = self.rng
        codes = ALL_THEMES[theme]["codes"] if theme in ALL_THEMES else NO_CODES
        if theme in S.SPANISH and rng.random() < (0.4 if a.es else 0.006):
            return self.fill(rng.choice(S.SPANISH[theme]), a), codes, "es"
        if theme == "personal":
            return self.tags(self.fill(rng.choice(S.PERSONAL), a), theme, a), codes, "en"
        if a.role == "organization" and theme in S.ORG_POSTS:
            text = self.fill(rng.choice(S.ORG_POSTS[theme]), a)
        else:
            spec = ALL_THEMES[theme]
            pool = spec["implicit"] if rng.random() < 0.15 else spec["explicit"]
            text = self.fill(self.choose(pool, a.role), a)
            if rng.random() < 0.15:
                text, codes = self.second_code(a, text, codes)
        if rng.random() < 0.09:
            text = self.lengthen(text)
        return self.tags(text, theme, a), codes, "en"

    def second_code(self, a: Account, text: str, codes: tuple) -> tuple[str, tuple]:
        """Append a sentence on another Chretien theme: the post then carries two codes."""
        others = [t for t in T.THEMES if t not in codes[0] and ROLE_THEMES[a.role].get(t)]
        if not others:
            return text, codes
        other = self.rng.choice(others)
        extra = self.fill(self.choose(T.THEMES[other]["explicit"], a.role), a)
        if len(text) + len(extra) >= 270:
            return text, codes
        chretien = _merge(codes[0], T.THEMES[other]["codes"][0], CHRETIEN)
        return f"{text} {extra}", (chretien, codes[1])

    # ---- posts -------------------------------------------------------------------
    def add(self, a: Account, sec: int, kind: str, full: str, codes: tuple, theme: str,
            parent: Post | None = None, lang: str = "en", source: str = "") -> Post:
        pid = self.new_id(sec)
        mentions: list[int] = []
        for handle in MENTION_RE.findall(full):
            who = self.by_handle.get(handle.lower())
            if who is not None and who is not a and who.idx not in mentions:
                mentions.append(who.idx)
        text = _cut(full, 140, False) if kind == "retweet" else _cut(full, 280, True)
        if not source:
            names, weights = zip(*S.SOURCES[a.role])
            source = self.rng.choices(names, weights)[0]
        conv = parent.conv if kind == "reply" else pid
        post = Post(pid, sec, a.idx, kind, full, text, lang, codes, theme, parent, conv, source,
                    mentions)
        self.posts.append(post)
        return post

    def reply(self, a: Account, parent: Post, sec: int, body: str, codes: tuple, theme: str,
              source: str = "") -> Post:
        """A reply opens with the @handles of the author and others in the conversation."""
        heads = [parent.author] + parent.mentions[:2]
        prefix = " ".join("@" + self.accts[h].handle for h in dict.fromkeys(heads) if h != a.idx)
        full = f"{prefix} {body}" if prefix else body
        return self.add(a, sec, "reply", full, codes, theme, parent, source=source)

    def retweet(self, a: Account, parent: Post, sec: int) -> Post:
        self.rts.add((a.idx, parent.id))
        full = f"RT @{self.accts[parent.author].handle}: {parent.full}"
        return self.add(a, sec, "retweet", full, NO_CODES, "", parent, lang=parent.lang)

    def quote(self, a: Account, parent: Post, sec: int, body: str, codes: tuple,
              theme: str) -> Post:
        handle = self.accts[parent.author].handle
        link = self.tco(f"https://twitter.com/{handle}/status/{parent.id}")
        return self.add(a, sec, "quote", f"{body} {link}", codes, theme, parent)

    # ---- API v2 rendering ----------------------------------------------------------
    def entities(self, text: str, cut: bool = False, mention_ids: bool = True) -> dict:
        """Hashtag, mention and url entities of ``text``, offsets in code points.

        When ``cut`` (text ends in an added "…"), entities touching the ellipsis were cut
        off and are dropped, as the API does.
        """
        limit = len(text) - 1 if cut else len(text) + 1
        tags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)}
                for m in HASHTAG_RE.finditer(text) if m.end() < limit]
        mentions = []
        for m in MENTION_RE.finditer(text):
            who = self.by_handle.get(m.group(1).lower())
            if who is not None and m.end() < limit:
                mention = {"start": m.start(), "end": m.end(), "username": who.handle}
                mentions.append({**mention, "id": who.id} if mention_ids else mention)
        urls = []
        for m in TCO_RE.finditer(text):
            expanded = self.links.get(m.group())
            if expanded is not None and m.end() < limit:
                host, _, path = expanded.split("://", 1)[1].partition("/")
                host = host[4:] if host.startswith("www.") else host
                path = "/" + path if path else ""
                shown = host + (path[:15] + "…" if len(path) > 15 else path)
                urls.append({"start": m.start(), "end": m.end(), "url": m.group(),
                             "expanded_url": expanded, "display_url": shown})
        found = {"hashtags": tags, "mentions": mentions, "urls": urls}
        return {k: v for k, v in found.items() if v}

    def tweet_json(self, p: Post, metrics: dict) -> dict:
        """The post as an API v2 tweet object, keys in a fixed order."""
        d = {"id": str(p.id), "text": p.text, "author_id": self.accts[p.author].id,
             "created_at": iso(p.sec), "conversation_id": str(p.conv), "lang": p.lang,
             "public_metrics": metrics}
        ents = self.entities(p.text, cut=p.text != p.full)
        if ents:
            d["entities"] = ents
        if p.parent is not None:
            kind = {"reply": "replied_to", "quote": "quoted", "retweet": "retweeted"}[p.kind]
            d["referenced_tweets"] = [{"type": kind, "id": str(p.parent.id)}]
        if p.kind == "reply":
            d["in_reply_to_user_id"] = self.accts[p.parent.author].id
        d.update(source=p.source, reply_settings="everyone", possibly_sensitive=False)
        if p.kind != "retweet" and p.text != p.full:
            note = {"text": p.full}
            note_ents = self.entities(p.full)
            if note_ents:
                note["entities"] = note_ents
            d["note_tweet"] = note
        return d
