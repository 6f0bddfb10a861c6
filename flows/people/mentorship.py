"""Mentorship candidates and sponsorship events, read from the interaction network.

Definitions (each a SQL file under ``flows/people/sql/``):

- **Mentorship candidate** (``mentorship.sql``): two accounts who replied to each other
  *both ways* in at least ``reciprocity_months`` (default 3) distinct calendar months, a
  month counting when A replied to B and B replied to A within it (UTC). The more senior
  role (faculty > resident > student) is the mentor ("hierarchical" tie); two accounts of
  the same rank, or with a role outside those three, make a "peer" tie.
- **Sponsorship event** (``sponsorship.sql``): an account whose role is in
  ``sponsor_roles`` (faculty and resident by default) reposts or quotes a post by a more
  junior trainee (student or resident) that is the trainee's *own work or achievement*: the
  trainee's original post or quote (not a reply, not someone else's post reposted) whose
  text matches ``achievement_cues`` (paper, preprint, manuscript, published, poster,
  abstract, "presented at/our/my", award, "won a/the/best ...", honored, grant,
  scholarship, matched, Match Day, #Match2015, accepted ...). The matched words are kept
  as the event's ``cue``.

Both run inside ``flows.people.network.build_network``'s transaction, after the edges.
"""

from __future__ import annotations

import duckdb

from flows.store.db import sql_text


def find_mentorship(con: duckdb.DuckDBPyConnection, min_months: int = 3) -> int:
    """Rebuild ``mentorship_candidates``; returns how many pairs were found."""
    con.execute("DELETE FROM mentorship_candidates")
    con.execute(sql_text("people/mentorship.sql"), {"min_months": min_months})
    return con.execute("SELECT count(*) FROM mentorship_candidates").fetchone()[0]


def find_sponsorship(con: duckdb.DuckDBPyConnection, settings) -> int:
    """Rebuild ``sponsorship_events`` (settings: a ``NetworkSettings``); returns the count."""
    con.execute("DELETE FROM sponsorship_events")
    con.execute(sql_text("people/sponsorship.sql"),
                {"cues": settings.achievement_cues, "sponsor_roles": list(settings.sponsor_roles)})
    return con.execute("SELECT count(*) FROM sponsorship_events").fetchone()[0]


def list_mentorship(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Mentorship candidates with handles and roles, longest-lasting first, then by handles."""
    rows = con.execute("""
        SELECT coalesce(a.handle, m.mentor_id) AS mentor, coalesce(ra.role, 'other'),
               coalesce(b.handle, m.mentee_id) AS mentee, coalesce(rb.role, 'other'), m.tie, m.months_both_ways,
               m.mentor_replies, m.mentee_replies, strftime(m.first_month, '%Y-%m'), strftime(m.last_month, '%Y-%m')
        FROM mentorship_candidates m
        LEFT JOIN accounts_v a ON a.platform = m.platform AND a.author_id = m.mentor_id
        LEFT JOIN accounts_v b ON b.platform = m.platform AND b.author_id = m.mentee_id
        LEFT JOIN author_roles ra ON ra.platform = m.platform AND ra.author_id = m.mentor_id
        LEFT JOIN author_roles rb ON rb.platform = m.platform AND rb.author_id = m.mentee_id
        ORDER BY m.months_both_ways DESC, lower(mentor), lower(mentee)""").fetchall()
    keys = ("mentor", "mentor_role", "mentee", "mentee_role", "tie", "months_both_ways",
            "mentor_replies", "mentee_replies", "first_month", "last_month")
    return [dict(zip(keys, row)) for row in rows]


def list_sponsorship(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Sponsorship events with handles, in time order."""
    rows = con.execute("""
        SELECT coalesce(a.handle, s.sponsor_id), coalesce(b.handle, s.trainee_id), s.kind, s.post_id,
               s.work_post_id, s.cue, strftime(s.created_at, '%Y-%m-%dT%H:%M:%SZ')
        FROM sponsorship_events s
        LEFT JOIN accounts_v a ON a.platform = s.platform AND a.author_id = s.sponsor_id
        LEFT JOIN accounts_v b ON b.platform = s.platform AND b.author_id = s.trainee_id
        ORDER BY s.created_at, s.platform, s.post_id""").fetchall()
    keys = ("sponsor", "trainee", "kind", "post_id", "work_post_id", "cue", "created_at")
    return [dict(zip(keys, row)) for row in rows]
