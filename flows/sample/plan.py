"""What the sample study plants: chats, mentorship threads, sponsorship, background posts.

``Study`` extends the engine's ``Builder`` with the study's social structure. Scripted
parts come first and fix their own times; ``background`` then walks the remaining post
slots in time order so that replies, retweets and quotes only point backwards in time.
"""
from __future__ import annotations

import math
from datetime import date

from flows.sample import mentoring as M
from flows.sample import slots as S
from flows.sample.engine import (
    AFFINITY,
    ALL_THEMES,
    DEFAULT_KIND_W,
    EASTERN,
    KIND_W,
    KINDS,
    NO_CODES,
    ROLE_THEMES,
    TRAINEES,
    Account,
    Builder,
    Post,
    epoch,
    iso,
)


class Study(Builder):
    """A ``Builder`` that knows the study design."""

    # ---- #MedEdChat ----------------------------------------------------------------
    def chats(self, tweets: int) -> list[dict]:
        """Weekly chats, Tuesdays 9 pm Eastern (02:00 UTC Wednesday), for the whole window."""
        rng = self.rng
        host = self.society or self.mention("senior", self.accts[0])
        day = self.start // 86400
        t = (day + (2 - (day + 3) % 7) % 7) * 86400 + 7200  # 1970-01-01 was a Thursday
        weeks = max(1, (self.end - t) // (7 * 86400))
        step = max(1, math.ceil(weeks * 21 / (0.13 * tweets)))  # thin out chats in small corpora
        biggest = max(4, min(12, round(12 * min(1.0, tweets / 6000)), len(self.accts) - 1))
        topics = rng.sample(M.CHAT_TOPICS, len(M.CHAT_TOPICS))
        out = []
        while t + 3600 <= self.end:
            out.append(self.one_chat(host, t, topics[len(out) % len(topics)], biggest))
            t += 7 * 86400 * step
        return out

    def one_chat(self, host: Account, t0: int, topic: dict, biggest: int) -> dict:
        rng, src = self.rng, S.CHAT_SOURCE
        codes = topic["codes"]
        theme = (codes[1] or codes[0])[0]
        ctx = {"title": topic["title"]}
        self.add(host, t0, "original", self.fill(M.CHAT_INTRO, host, ctx), M.CHAT_CODES,
                 "community", source=src)
        qs = [self.add(host, t0 + 300 + 600 * k, "original", f"Q{k + 1}: {q} #MedEdChat",
                       codes, theme, source=src)
              for k, q in enumerate(topic["questions"])]
        people = self.sample_people(rng.randint(4, biggest), host)
        answers = []
        for a in people:
            for k in sorted(rng.sample(range(3), rng.choice((1, 1, 1, 2, 2, 3)))):
                sec = qs[k].sec + rng.randint(45, 840)
                body = f"A{k + 1}: {self.fill(rng.choice(topic['answers']), a)} #MedEdChat"
                via = src if rng.random() < 0.5 else ""
                answers.append(self.reply(a, qs[k], sec, body, codes, theme, via)
                               if rng.random() < 0.6 else
                               self.add(a, sec, "original", body, codes, theme, source=via))
        self.chat_banter(host, t0, people, answers, codes, theme)
        self.add(host, t0 + 3300, "original", self.fill(M.CHAT_WRAP, host, ctx), M.CHAT_CODES,
                 "community", source=src)
        return {"hashtag": "MedEdChat", "host": host.handle, "start": iso(t0),
                "end": iso(t0 + 3600), "question_post_ids": [str(q.id) for q in qs],
                "participants": [a.handle for a in people]}

    def chat_banter(self, host: Account, t0: int, people: list[Account], answers: list[Post],
                    codes: tuple, theme: str) -> None:
        """Participants answer each other; the host retweets an answer or two."""
        rng = self.rng
        for _ in range(rng.randint(0, 3)):
            target, a = rng.choice(answers), rng.choice(people)
            sec = target.sec + rng.randint(30, 400)
            if a.idx != target.author and sec < t0 + 3590:
                self.reply(a, target, sec, f"{rng.choice(M.CHAT_CROSS)} #MedEdChat", codes, theme)
        for target in rng.sample(answers, min(len(answers), rng.randint(1, 2))):
            sec = min(target.sec + rng.randint(20, 300), t0 + 3590)
            if sec > target.sec and (host.idx, target.id) not in self.rts:
                self.retweet(host, target, sec)

    def sample_people(self, k: int, exclude: Account) -> list[Account]:
        """Weighted draw without replacement; chats are mostly trainees and faculty."""
        cands = [a for a in self.accts if a is not exclude]
        weights = [a.activity * (1.5 if a.role in TRAINEES + ("faculty",) else .5) for a in cands]
        chosen = []
        for _ in range(min(k, len(cands))):
            i = self.rng.choices(range(len(cands)), weights)[0]
            chosen.append(cands[i])
            weights[i] = 0
        return chosen

    # ---- mentorship and sponsorship --------------------------------------------------
    def mentorships(self, months: list[tuple[int, int]]) -> list[tuple[Account, Account]]:
        """6-10 mentor (faculty, then residents) and student pairs talking in 3-5 months."""
        rng = self.rng
        faculty = [a for a in self.accts if a.role == "faculty"]
        residents = [a for a in self.accts if a.role == "resident"]
        mentees = [a for a in self.accts if a.role == "student" and a.activity >= 0.5]
        mentors = rng.sample(faculty, len(faculty)) + rng.sample(residents, len(residents))
        rng.shuffle(mentees)
        n = min(rng.randint(6, 10), len(mentees), 2 * len(mentors))
        pairs = [(mentors[i % len(mentors)], mentees[i]) for i in range(n)]
        for mentor, mentee in pairs:
            chosen = rng.sample(range(len(months)), min(len(months), rng.randint(3, 5)))
            for m in sorted(chosen):
                self.mentor_thread(mentor, mentee, *months[m])
        return pairs

    def mentor_thread(self, mentor: Account, mentee: Account, lo: int, hi: int) -> None:
        """One thread in which each of the two replies to the other at least once."""
        rng = self.rng
        sec = self.sample_time(lo, hi - 6 * 3600)  # room for the replies inside the month
        if rng.random() < 0.6:
            full, codes, lang = self.compose(mentee, "advice_seeking")
            if rng.random() < 0.5:
                full += f" cc @{mentor.handle}"
            post = self.add(mentee, sec, "original", full, codes, "advice_seeking", lang=lang)
            turns = [mentor, mentee] + [mentor] * (rng.random() < .5)
        else:
            theme = rng.choice(("coaching", "resource_sharing", "mentorship"))
            full, codes, lang = self.compose(mentor, theme)
            post = self.add(mentor, sec, "original", full, codes, theme, lang=lang)
            turns = [mentee, mentor] + [mentee] * (rng.random() < .5)
        for who in turns:
            sec = post.sec + rng.randint(300, 5400)
            if who is mentor:
                theme = rng.choice(("coaching", "reassurance", "resource_sharing"))
                spec = ALL_THEMES[theme]
                body, codes = self.fill(self.choose(spec["reply"], who.role), who), spec["codes"]
            else:
                theme, codes = "mentorship", M.MENTEE_CODES
                body = self.fill(rng.choice(M.MENTEE_REPLIES), who)
            post = self.reply(who, post, sec, body, codes, theme)

    def sponsorships(self, pairs: list, match_day: date | None) -> list[dict]:
        """Seniors retweet or quote trainees' papers, posters, awards and Match news."""
        rng, events = self.rng, []
        mentor_of = {e.idx: m for m, e in pairs}
        if match_day is not None:
            noon = epoch(match_day) + 12 * 3600 + EASTERN
            for s in (a for a in self.accts if a.role == "student" and a.year == 4):
                sponsor = mentor_of.get(s.idx)
                if sponsor is None and rng.random() < .5:
                    sponsor = self.mention("senior", s)
                events.append(self.sponsor_event(sponsor, s, "match", noon + rng.randrange(5400),
                                                 str(match_day.year)))
            for _ in range(rng.randint(2, 4)):
                a = self.mention("senior", self.accts[0])
                text = self.fill(rng.choice(M.MATCH_CONGRATS), a, {"year": str(match_day.year)})
                self.add(a, noon + rng.randrange(3600, 7 * 3600), "original", text,
                         (("community",), ()), "community")
        extra = [(self.mention("senior", self.accts[0]), None) for _ in range(rng.randint(4, 8))]
        for sponsor, trainee in [(m, e) for m, e in pairs] + extra:
            trainee = trainee or self.mention("peer", sponsor)
            for kind in rng.sample(("paper", "poster", "award"), 1 + (rng.random() < .3)):
                sec = self.sample_time(self.start, self.end - 6 * 3600)
                events.append(self.sponsor_event(sponsor, trainee, kind, sec))
        return [e for e in events if e is not None]

    def sponsor_event(self, sponsor: Account | None, trainee: Account, kind: str, sec: int,
                      year: str = "") -> dict | None:
        rng = self.rng
        ctx = {"match": M.MATCH_SPECIALTY.get(trainee.handle, rng.choice(S.SLOTS["specialty"])),
               "program": rng.choice(M.PROGRAMS), "year": year}
        theme = "community" if kind == "match" else "digital_footprint"
        text = self.tags(self.fill(rng.choice(M.WORK_POSTS[kind]), trainee, ctx), theme, trainee)
        work = self.add(trainee, sec, "original", text, M.WORK_CODES[kind], theme)
        if sponsor is None or sponsor is trainee:
            return None
        at = sec + rng.randint(600, 4 * 3600)
        if rng.random() < 0.6:
            amp = self.retweet(sponsor, work, at)
        else:
            body = self.fill(rng.choice(M.SPONSOR_QUOTES), sponsor,
                             {"@trainee": "@" + trainee.handle})
            amp = self.quote(sponsor, work, at, body, M.SPONSOR_CODES, "community")
        return {"sponsor": sponsor.handle, "trainee": trainee.handle, "post_id": str(amp.id),
                "work_post_id": str(work.id)}

    # ---- background ----------------------------------------------------------------
    def background(self, n: int) -> None:
        """``n`` posts by activity-weighted authors, made in time order."""
        rng = self.rng
        authors = rng.choices(self.accts, [a.activity for a in self.accts], k=n)
        slots = sorted((self.sample_time(), i) for i in range(n))
        scripted = sorted(self.posts, key=lambda p: p.id)
        pool: list[Post] = []  # posts one can reply to, retweet or quote, oldest first
        j = 0
        for sec, i in slots:
            while j < len(scripted) and scripted[j].sec < sec:
                if scripted[j].kind != "retweet":
                    pool.append(scripted[j])
                j += 1
            post = self.background_post(authors[i], sec, pool)
            if post.kind != "retweet":
                pool.append(post)

    def background_post(self, a: Account, sec: int, pool: list[Post]) -> Post:
        rng = self.rng
        kind = rng.choices(KINDS, KIND_W.get(a.role, DEFAULT_KIND_W))[0]
        target = self.pick_target(a, sec, pool, kind) if kind != "original" else None
        if target is None:
            names, weights = zip(*ROLE_THEMES[a.role].items())
            theme = rng.choices(names, weights)[0]
            full, codes, lang = self.compose(a, theme)
            return self.add(a, sec, "original", full, codes, theme, lang=lang)
        if kind == "retweet":
            return self.retweet(a, target, sec)
        if kind == "quote":
            theme = target.theme if target.theme in ALL_THEMES else "community"
            spec = ALL_THEMES[theme]
            body = self.fill(self.choose(spec["quote"], a.role), a)
            return self.quote(a, target, sec, body, spec["codes"], theme)
        body, codes, theme = self.reply_body(a, target)
        return self.reply(a, target, sec, body, codes, theme)

    def pick_target(self, a: Account, sec: int, pool: list[Post], kind: str) -> Post | None:
        """A recent post by someone else, favouring people of related roles and replies to ``a``."""
        rng, n = self.rng, len(pool)
        for _ in range(8 if n else 0):
            p = pool[n - 1 - min(int(rng.expovariate(1 / 80)), n - 1)]
            if p.author == a.idx or p.sec >= sec:
                continue
            if kind != "reply" and (p.theme == "personal" or (a.idx, p.id) in self.rts):
                continue  # nobody retweets "third coffee of the day"
            if kind != "retweet" and "#MedEdChat" in p.full:
                continue  # chat posts get their answers during the chat
            if kind == "retweet" and p.kind == "reply" and rng.random() < .7:
                continue  # replies are retweeted less than posts
            talks_to_me = a.idx in p.mentions or (p.parent is not None and p.parent.author == a.idx)
            affinity = AFFINITY.get((a.role, self.accts[p.author].role), .55)
            if rng.random() < (1 if talks_to_me else affinity):
                return p
        return None

    def reply_body(self, a: Account, parent: Post) -> tuple[str, tuple, str]:
        """Body, codes and theme of a reply, led by what the parent is about."""
        rng, boss = self.rng, self.accts[parent.author].role in ("faculty", "organization")
        if parent.theme not in ALL_THEMES or rng.random() < 0.18:
            if parent.theme in ALL_THEMES or rng.random() < 0.75:
                return self.fill(rng.choice(S.PERSONAL_REPLIES), a), NO_CODES, "personal"
            theme = "community"
        elif a.role == "student" and boss and rng.random() < 0.35:
            theme = "equalization"  # a student talking straight to faculty or an editor
        elif parent.theme == "advice_seeking" and a.role != "student":
            theme = rng.choice(("coaching", "reassurance", "resource_sharing"))
        elif rng.random() < 0.8 or self.accts[parent.author].role not in TRAINEES:
            theme = parent.theme
        else:
            theme = "community"  # cheering a fellow trainee on, whatever they posted
        spec = ALL_THEMES[theme]
        body = self.fill(self.choose(spec["reply"], a.role), a)
        if rng.random() < 0.03:
            body = self.lengthen(body)
        return body, spec["codes"], theme
