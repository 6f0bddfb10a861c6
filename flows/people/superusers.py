"""Superuser selection: measurable criteria modelled on Chretien et al. (2015).

Chretien and colleagues chose 31 medical-student "superusers" who posted professional
content, interacted with other students and with faculty, and took part in tweet chats.
``SuperuserCriteria`` turns each of those into a value and a threshold (the
``superusers:`` section of a study file), and ``select_superusers`` reports, for every
account of an eligible role, each criterion's value and pass/fail, ranked:

- ``role``: the account's role is in ``roles`` (students by default; see ``flows.people.roles``);
- ``posts_per_month``: posts authored (reposts included unless ``count_reposts`` is false)
  divided by the calendar months the corpus spans (or ``months``);
- ``professional_share``: share of the account's own posts (not reposts) that are
  *professional*: they carry a field hashtag (``professional_hashtags``) or the hashtag of a
  detected tweet chat, or their text names the field (``professional_terms``: patients,
  rotations, exams, residency, research, teaching ...; a few Spanish terms too), or they share a link that is not a
  photo, video or another post, or (when a ``code_assignments`` table exists, from machine
  or human coding, and ``use_codes`` is on) they have a code; a quote of a post that passes
  these tests is professional too. Small talk ("third coffee of the day") passes none;
- ``faculty_interacted`` / ``students_interacted``: distinct faculty / other student accounts
  tied to the account by a reply, mention, quote or repost, made or received
  (``direction``);
- ``chats``: distinct tweet chats hosted or taken part in (``flows.people.chats``).

Ranking: selected accounts first, then more criteria passed, more posts per month, a
larger professional share, then handle (then platform and id), so ties are broken the
same way every time.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, field_validator

from flows.store.db import sql_text, transaction

Role = Literal["student", "resident", "faculty", "health_professional", "organization", "other"]
Kind = Literal["reply", "mention", "quote", "repost"]
FIELD_HASHTAGS = ["meded", "medtwitter", "foamed", "medstudenttwitter", "medstudent", "medschool",
                  "mededchat", "mededresearch", "medicaleducation", "hcsm", "hcldr", "somedocs", "some",
                  "healthpolicy", "healthequity", "globalhealth", "publichealth", "vaccineswork",
                  "womeninmedicine", "ilooklikeasurgeon", "dermtwitter", "pedstwitter", "emtwitter",
                  "qi", "patientsafety", "wellness", "physicianwellness", "residency", "usmle", "match"]
FIELD_TERMS = [
    r"patients?", r"clinic(al|s)?", r"hospital(s|ist)?", r"rotations?", r"clerkships?", r"residen(t|ts|cy)",
    r"interns?(hip)?", r"attendings?", r"rounds", r"wards?", r"med(ical)? school", r"medic(al|ine)",
    r"(med )?students?", r"exams?", r"step ?[123]", r"shelf", r"boards", r"usmle", r"osce", r"lectures?",
    r"anatomy", r"patho(logy|physiology)", r"physiology", r"pharmacology", r"diagnos(is|es|tic)",
    r"differential", r"treatment", r"surg(ery|ical|eon)", r"icu", r"ecg|ekg", r"x-?rays?", r"ultrasound",
    r"vaccin(e|es|ation)", r"health(care)?", r"public health", r"policy", r"research", r"stud(y|ies)",
    r"papers?", r"journal", r"abstracts?", r"posters?", r"conference", r"mentor(s|ship|ing)?",
    r"teach(ing|er|ers)?", r"learn(ing)?", r"curricul(um|a)", r"feedback", r"match(ed|day|\d{4})?", r"burnout",
    r"wellness", r"physicians?", r"doctors?", r"nurs(e|es|ing)", r"pharmacists?", r"sepsis", r"foamed",
    r"meded", r"professional(ism)?", r"advocacy", r"equity", r"evidence", r"guidelines?", r"case",
    r"first[- ]years?", r"ms[1-4]s?", r"white coats?", r"faculty", r"dean", r"chair", r"trainees?",
    r"colleagues?", r"educat(ion|ors?)", r"on call|call nights?", r"sub-?i", r"code", r"sources?",
    r"p(a)?ediatrics?|peds|psych|neuro|derm|cardio(logy)?|oncology|ob/?gyn",
    # Spanish, for the bilingual accounts of US and Latin American #MedTwitter
    r"medicina", r"pacientes?", r"estudiantes?", r"salud", r"vacunas?", r"residencia", r"médic[oa]s?",
]
# A shared link is professional unless it shows a photo or video or points at another post.
PERSONAL_LINK_RE = r"(pic\.twitter\.com|/photo/|/video/|(twitter|x)\.com/\w+/status/|bsky\.app/profile/[^/]+/post/)"


class SuperuserCriteria(BaseModel):
    """The superuser rules and thresholds (the ``superusers:`` section of a study file)."""

    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(default_factory=lambda: ["student"], description="eligible roles")
    min_posts_per_month: float = Field(8.0, ge=0, description="posts per month of the window")
    count_reposts: bool = Field(True, description="reposts count towards posts per month")
    months: int | None = Field(None, ge=1, description="window length; default: months the corpus spans")
    min_professional_share: float = Field(0.5, ge=0, le=1, description="share of own posts that are professional")
    professional_hashtags: list[str] = Field(default_factory=lambda: list(FIELD_HASHTAGS),
                                             description="field hashtags, without '#'")
    professional_terms: list[str] = Field(default_factory=lambda: list(FIELD_TERMS),
                                          description="words or regexes naming the field")
    use_codes: bool = Field(True, description="a post with a code in code_assignments is professional")
    min_faculty: int = Field(1, ge=0, description="distinct faculty accounts interacted with")
    min_students: int = Field(1, ge=0, description="distinct other students interacted with")
    min_chats: int = Field(1, ge=0, description="distinct tweet chats hosted or taken part in")
    interaction_kinds: list[Kind] = Field(default_factory=lambda: ["reply", "mention", "quote", "repost"])
    direction: Literal["either", "outgoing"] = Field("either", description="count ties received too")

    @field_validator("professional_hashtags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return [t.lstrip("#").lower() for t in tags]

    @field_validator("professional_terms")
    @classmethod
    def _terms(cls, terms: list[str]) -> list[str]:
        for term in terms:
            try:
                re.compile(term)
            except re.error as exc:
                raise ValueError(f"term {term!r} is not a valid regex ({exc}); "
                                 "escape ( ) [ ] + ? with a backslash") from None
        return terms

    def terms_pattern(self) -> str:
        """One RE2 pattern matching any professional term as a whole word."""
        return r"\b(" + "|".join(f"(?:{t})" for t in self.professional_terms) + r")\b" if self.professional_terms \
            else r"$^"

    def sha256(self) -> str:
        """Content hash of the criteria, stored with the selection."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def measure(con: duckdb.DuckDBPyConnection, criteria: SuperuserCriteria) -> list[dict]:
    """Every account's raw measures (posts, own and professional posts, partners, chats, months)."""
    _coded_posts_view(con, criteria.use_codes)
    cur = con.execute(sql_text("people/superuser_metrics.sql"), {
        "hashtags": criteria.professional_hashtags, "terms": criteria.terms_pattern(),
        "personal_links": PERSONAL_LINK_RE,
        "count_reposts": criteria.count_reposts, "kinds": list(criteria.interaction_kinds),
        "either": criteria.direction == "either"})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _coded_posts_view(con: duckdb.DuckDBPyConnection, use_codes: bool) -> None:
    """_coded_posts: posts with a code, when the coding stage's table exists (else none)."""
    cols = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = "
                                      "'code_assignments' AND schema_name = 'main'").fetchall()}
    source = "SELECT NULL::VARCHAR AS platform, NULL::VARCHAR AS post_id WHERE false"
    if use_codes and {"platform", "post_id"} <= cols:
        source = "SELECT DISTINCT platform, post_id FROM code_assignments"
        source += " WHERE value = 1" if "value" in cols else ""  # 0 records a coder saying "not this code"
    con.execute(f"CREATE OR REPLACE TEMP VIEW _coded_posts AS {source}")


def evaluate(m: dict, criteria: SuperuserCriteria) -> dict:
    """Each criterion's value, threshold and pass for one account's measures."""
    months = criteria.months or m["months"]
    per_month = round(m["posts"] / months, 3)
    share = round(m["professional_posts"] / m["own_posts"], 3) if m["own_posts"] else 0.0
    return {
        "role": {"value": m["role"], "threshold": list(criteria.roles), "pass": m["role"] in criteria.roles},
        "posts_per_month": {"value": per_month, "threshold": criteria.min_posts_per_month,
                            "pass": per_month >= criteria.min_posts_per_month, "posts": m["posts"], "months": months},
        "professional_share": {"value": share, "threshold": criteria.min_professional_share,
                               "pass": share >= criteria.min_professional_share,
                               "professional_posts": m["professional_posts"], "own_posts": m["own_posts"]},
        "faculty_interacted": {"value": m["faculty"], "threshold": criteria.min_faculty,
                               "pass": m["faculty"] >= criteria.min_faculty},
        "students_interacted": {"value": m["students"], "threshold": criteria.min_students,
                                "pass": m["students"] >= criteria.min_students},
        "chats": {"value": m["chats"], "threshold": criteria.min_chats, "pass": m["chats"] >= criteria.min_chats},
    }


def select_superusers(con: duckdb.DuckDBPyConnection, criteria: SuperuserCriteria | None = None,
                      include_all: bool = False) -> list[dict]:
    """Rank the candidates and store the selection in ``superuser_candidates``.

    Needs ``author_roles``, ``interactions`` and ``chat_participation`` (see :func:`flows.people.stage.prepare`).

    Args:
        criteria: the rules; the defaults follow Chretien et al. (2015).
        include_all: list accounts of every role (those of other roles never pass ``role``).

    Returns:
        ``[{"handle", "rank", "selected", "criteria", "platform", "role"}]`` in rank order.
    """
    criteria = criteria or SuperuserCriteria()
    rows = []
    for m in measure(con, criteria):
        if not include_all and m["role"] not in criteria.roles:
            continue
        checks = evaluate(m, criteria)
        passed = sum(c["pass"] for c in checks.values())
        rows.append({"handle": m["handle"], "platform": m["platform"], "author_id": m["author_id"],
                     "role": m["role"], "selected": passed == len(checks), "criteria": checks, "_passed": passed})
    rows.sort(key=lambda r: (not r["selected"], -r["_passed"], -r["criteria"]["posts_per_month"]["value"],
                             -r["criteria"]["professional_share"]["value"], r["handle"].lower(), r["handle"],
                             r["platform"], r["author_id"]))
    for rank, r in enumerate(rows, start=1):
        r["rank"] = rank
        del r["_passed"]
    _store(con, rows, criteria.sha256())
    return [{"handle": r["handle"], "rank": r["rank"], "selected": r["selected"], "criteria": r["criteria"],
             "platform": r["platform"], "role": r["role"]} for r in rows]


def _store(con: duckdb.DuckDBPyConnection, rows: list[dict], digest: str) -> None:
    with transaction(con):
        con.execute("DELETE FROM superuser_candidates")
        if rows:
            con.executemany("INSERT INTO superuser_candidates VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [[r["platform"], r["author_id"], r["handle"], r["role"], r["rank"], r["selected"],
                              json.dumps(r["criteria"]), digest] for r in rows])
