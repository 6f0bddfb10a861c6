"""Author roles from bios and display names: transparent rules, then the embedding model.

Each account gets one of ``ROLES``, decided in this order of authority:

1. **override**: the researcher's file (``data/roles.csv``: ``handle,role[,note]``) always wins;
2. **rule**: cue phrases in the bio ("MS3", "PGY-2", "MD candidate", "Assistant Professor",
   "Program Director", "Official account of the Journal ..."), else in the display name
   (", RN", "Journal", ", MD"). When several cues match, the one that comes *first* in the
   text decides (bios lead with who the person is: "Program Director ... proud of our
   residents" is faculty), then the longer one ("third-year resident" beats "third-year").
   A generic physician word ("doctor", "psychiatrist") yields to a trainee's cue anywhere in the
   bio ("Youngish doctor ... GI fellow" is a resident). Words with other meanings outside
   medicine ("consultant", "intern", "fellow", "resident", "chair of", and abbreviations such as
   PD, R2, F1, M3) count only with a clinical word near them ("software consultant",
   "communications intern", "Resident Hippy" are not clinicians). A cue right after "former",
   "ex-" or "past:" is ignored ("former ER scribe");
3. **embedding**: when no rule fires and there is a bio, the role whose prototype
   sentence is nearest by cosine similarity, the score kept as evidence; below ``MIN_SCORE``
   the bio is like no role's and the role is ``unknown`` (with the nearest one as evidence).
   A clinical role (student, resident, faculty, health professional) is given this way only
   when the bio has a clinical word and scores at least ``CLINICAL_MIN_SCORE``: on real corpora
   a bio no clinical rule reads is rarely a clinician's, and below 0.6 the model's nearest
   clinical prototype was wrong for nearly all of them (a hospital, a patient advocate, a TV GP);
4. **default**: ``unknown`` (no bio, or no model given).

``other`` is a role the evidence shows (a journalist, a patient advocate); ``unknown`` says the
evidence is not there.

Roles are stored in ``author_roles`` with the method and evidence, so reports and exports
can join them; ``list_roles`` is the stable JSON of ``ethnoflow roles --json``.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from flows.errors import UserError
from flows.provenance import digest
from flows.store.db import transaction

ROLES = ("student", "resident", "faculty", "health_professional", "organization", "other", "unknown")
# Below this cosine to the nearest prototype (all-MiniLM-L6-v2) a bio is not like any role's: the role is
# `unknown`, not a guess. Measured on the healthcare tweet-chat bios
# (benchmarks/bench_roles.py; the README's roles section).
MIN_SCORE = 0.4
TRAINEES = ("student", "resident")
SENIORITY = {"student": 1, "resident": 2, "faculty": 3}  # who can mentor or sponsor whom
RULES_VERSION = "roles-rules/4"
CLINICAL = ("student", "resident", "faculty", "health_professional")
CLINICAL_MIN_SCORE = 0.6  # the embedding gives a clinical role only this close to its prototype
WEAK = ("year of study", "applying to residency", "board exam", "class of")  # do not outrank a physician word
DEFAULT_OVERRIDES = Path("data") / "roles.csv"
_I, _C = re.IGNORECASE, 0  # most cues ignore case; abbreviations ("MS3", "RN", "PD") do not


@dataclass(frozen=True)
class Rule:
    role: str
    label: str
    pattern: re.Pattern
    context: re.Pattern | None = None  # the cue counts only with this within CONTEXT_CHARS
    generic: bool = False  # yields to a trainee's cue anywhere in the text


# Clinical words: what makes an ambiguous cue medical. An Italian party (PD), a car (F1) or a droid
# (R2) is not a programme director, a fellow or a student; a software consultant, a communications
# intern, a "PopTech fellow" or a "Resident Hippy" is not a clinician. Only words that are medical
# on their own count ("program", "fellow", "family", "internal" are not).
MEDICAL_CONTEXT = re.compile(
    r"\b(residency|fellowship|clerkship|GME|IM|EM|FM|OB|peds|p(a)?ediatric|NHS|"
    r"medicine|medical|med|meded|medtwitter|surg\w*|hospital\w*|clinic(al|ian)?|SOM|COM|MD|DO|MBBS|"
    r"physician|doctor|internal medicine|family medicine|emergency medicine|ob/?gyn|cath lab|"
    r"anatomy|step ?[12]|USMLE|rotations?|cardio\w*|neuro(logy|surgery|science)?|psychiatr\w*|"
    r"oncology|an(a)?esthesi\w*|radiology|pathology|dermatology|derm|ortho(pa)?(edics)?|ENT|ICU|NICU|"
    r"ER|ED|A&E|ward|wards|on call|patients?|nursing|cards|echo)\b", re.IGNORECASE)
CONTEXT_CHARS = 60


def _rules(*specs: tuple) -> tuple[Rule, ...]:
    """(role, label, regex, flags[, "in context" | "generic"]) -> rules."""
    return tuple(Rule(role, label, re.compile(rx, flags), MEDICAL_CONTEXT if "in context" in rest else None,
                      "generic" in rest) for role, label, rx, flags, *rest in specs)


_SPECIALIST = (r"hospitalist|intensivist|internist|surgeon|p(a)?ediatrician|psychiatrist|obstetrician|"
               r"gyn(a)?ecologist|geriatrician|neonatologist|an(a)?esthesiologist|an(a)?esthetist|"
               r"radiologist|pathologist|dermatologist|cardiologist|neurologist|oncologist|"
               r"nephrologist|gastroenterologist|pulmonologist|endocrinologist|rheumatologist|"
               r"h(a)?ematologist|urologist|ophthalmologist|otolaryngologist|allergist")
BIO_RULES = _rules(
    ("organization", "official account", r"\bofficial (twitter |x |bluesky )?(account|feed|page)\b", _I),
    ("organization", "organisation name", r"^(The )?([A-Z][\w&'.-]*\s+((of|for|and|on|in|the)\s+)*){0,5}"
     r"(Journal|Society|Association|College|Academy|Foundation|Council|Institute|Alliance|Federation|"
     r"Network|Organi[sz]ation|Department|Hospital|University|Center|Centre)\b", _C),
    ("organization", "journal", r"\bpeer[- ]reviewed\b", _I),
    ("organization", "speaks as 'we'", r"^(we|our)\b|\bjoin us\b|\bwe are\b", _I),
    ("faculty", "professor", r"\b((assistant|associate|adjunct|clinical|full|emeritus|visiting)\s+)?"
     r"prof(essor)?\b", _I),
    ("faculty", "dean", r"\b((associate|assistant|vice|senior)\s+)?dean\b", _I),
    ("faculty", "director", r"\b(program|programme|clerkship|course|residency|fellowship|medical|"
     r"education|curriculum|simulation|division|clinical)\s+director\b", _I),
    ("faculty", "director abbreviation", r"\b(A?PD|DIO)\b", _C, "in context"),
    ("faculty", "chair or chief", r"\b(department|dept\.?|division|section)\s+(chair|chief|head)\b", _I),
    ("faculty", "chair or chief", r"\b(chair|chief) of\b", _I, "in context"),  # not "Chair of Wales Regional Board"
    ("faculty", "attending or faculty", r"\b(attending|faculty|clinician[- ]educator)\b", _I),
    ("faculty", "consultant", r"\bconsultant\b", _I, "in context"),  # not "software consultant"
    # one person's own word (not "Doctors Without Borders", "doctor-prescribed"), and a trainee's cue
    # beats it: a resident is a doctor too
    ("faculty", "physician", r"\b(physician|doctor|" + _SPECIALIST + r")\b"
     r"(?!-(prescribed|recommended|approved|owned|led|run|patient)\b)", _I, "generic"),  # "physician-scientist" is one
    ("faculty", "physician credential", r"^(Dr\.?\s+)?[A-Z][a-z]+(\s+[A-Z]\.)?(\s+[A-Z][\w'-]+)+,\s*"
     r"(MD|DO|MBBS|MBChB|FRCP\w*|FACP|FACS|FAAP|FACEP)\b(?!\s*(student|candidate))", _C),  # "Ana Ruiz, MD"
    # not "Miami resident", "resident of Ohio", nor "Director of Resident Wellness"
    ("resident", "resident", r"(?<!\bof )(?<!\bfor )\b(chief\s+)?resident\b(?!\s+(wellness|well-being|"
     r"wellbeing|education|affairs|recruitment|council|committee|selection|of)\b)", _I, "in context"),
    ("resident", "year of residency", r"\b(first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)[- ]year\s+"
     r"(resident|fellow)\b", _I),
    ("resident", "intern", r"\b(intern|interns|registrar)\b", _I, "in context"),  # not "communications intern"
    ("resident", "house officer", r"\b(house\s*(officer|staff)|junior doctor|foundation doctor)\b", _I),
    ("resident", "PGY", r"\b(PGY|pgy)[- ]?\d\b", _C),
    ("resident", "year of training", r"\b(R|CA|ST|CT|F)[1-8]\b", _C, "in context"),
    ("resident", "fellow", r"\b\w+ fellow\b(?!\s+(of|med|medical|students?|trainees?|humans?))", _I,
     "in context"),  # not "health reporting fellow", nor "@PopTech fellow"
    ("student", "year in school", r"\b(MS|OMS)[- ]?([1-4]|I{1,3}|IV)\b", _C),
    ("student", "year in school", r"\bM[- ]?([1-4]|I{1,3}|IV)\b", _C, "in context"),
    ("student", "medical student", r"\b((med(ical)?|osteopathic|MD|DO|MD/PhD|MD-PhD|MD/MPH|MBBS|MBChB)"
     r"[ /-]?(student|candidate)|medstudent|student doctor|estudiante de medicina)\b", _I),
    ("student", "doctor in training",
     r"\b((doctor|physician|dr\.?) in (training|the making)|learning to be a doctor)\b", _I),
    ("student", "med student", r"\bmed(ical)? school student\b", _I),
    ("student", "board exam", r"\b(USMLE\s+)?Step\s?1\b|\bCOMLEX\s+(Level\s?)?1\b", _I),
    ("student", "class of", r"\bclass of '?(\d{4}|\d{2})\b", _I),
    ("student", "year of study", r"\b(first|second|third|fourth|1st|2nd|3rd|4th)[- ]year\b", _I, "in context"),
    ("student", "applying to residency", r"\b(matching|match(ed)? into|applying to residency)\b", _I, "in context"),
    ("student", "studying medicine", r"\bstudying (medicine|mbbs|to be a (doctor|physician))\b", _I),
    ("student", "future doctor", r"\b(future|aspiring|soon[- ]to[- ]be|wannabe)\s+([\w/]+[ -]){0,2}?"
     r"(doc|doctor|dr|physician|md|" + _SPECIALIST + r")\b", _I),
    ("health_professional", "other profession",
     r"\b(nurse|nursing|midwife|pharmacist|physician assistant|physiotherapist|"
     r"(physical|occupational|respiratory|speech|speech-language) therapist|speech-language pathologist|"
     r"dietitian|dietician|nutritionist|paramedic|social worker|psychologist|dentist|optometrist|"
     r"podiatrist|audiologist|sonographer|radiographer|phlebotomist|doula|chaplain|scribe)s?\b", _I),
    ("health_professional", "credential", r"\b(RN|BSN|MSN|DNP|NP|CRNA|PA-C|PharmD|DPT|OTR|RRT|EMT|LCSW|MSW)\b",
     _C),
    ("other", "non-clinical role", r"\b(journalist|reporter|(science|health|medical) writer|"
     r"patient advocate|e-patient|caregiver|carer|health policy|policy (researcher|analyst)|economist|"
     r"lawyer|attorney|ethicist|historian|sociologist|anthropologist|engineer|librarian)\b", _I),
)
NAME_RULES = _rules(
    ("organization", "organisation name", r"\b(Journal|Society|Association|College|Academy|Foundation|"
     r"Council|Institute|Network|Hospital|University|Dept|Department|School|Center|Centre)\b", _C),
    ("organization", "journal abbreviation", r"^J\s", _C),
    ("student", "medical student", r"\b(MD|DO) (candidate|student)\b|\bMS[1-4]\b", _C),
    ("health_professional", "credential", r"\b(RN|BSN|MSN|NP|PA-C|PharmD|DPT|RRT|LCSW|MSW|DDS|DMD)\b", _C),
    ("faculty", "physician credential", r"\b(MD|DO|MBBS|MBChB|FRCP|FRCPC|FACP|FACS|FAAP|FACEP)\b", _C),
)
_NEGATION = re.compile(r"\b(former|formerly|ex|retired|past:?|not( an?)?)(-|\s+)([\w/-]+\s+)?$", _I)
# "PharmD turned MS2", "nurse turned med student", "RN -> MD student": what someone was, not is.
_TURNED = re.compile(r"^\W{0,3}\s*(turned|turning|→|->|=>)\s", _I)

# Role prototypes for the embedding step: how people of each role describe themselves.
PROTOTYPES = {
    "student": ["Medical student.", "Med student studying for exams, anatomy lab and board exams.",
                "Learning to be a doctor in medical school, preclinical years.",
                "Third-year medical student on clinical rotations and clerkships.",
                "Future doctor, medical school class of 2027.", "Osteopathic medical student."],
    "resident": ["Resident physician in training.", "Intern year, on call overnight on the wards.",
                 "Postgraduate trainee in internal medicine residency.", "Surgery resident, PGY-3.",
                 "Junior doctor, registrar in training.", "Clinical fellow in cardiology fellowship."],
    "faculty": ["Attending physician and professor of medicine.",
                "Academic physician who teaches medical students and residents.",
                "Program director and clinician educator at a university hospital.",
                "Senior consultant physician, department chair.", "Physician researcher and mentor.",
                "Practicing doctor and specialist."],
    "health_professional": ["Registered nurse.", "Pharmacist.", "Physician assistant.", "Physical therapist.",
                            "Paramedic.", "Dietitian, social worker, therapist or other allied health professional."],
    "organization": ["Official account of a medical journal.",
                     "News and updates from our department, society and association.",
                     "We are a nonprofit organization serving our members.",
                     "A podcast, conference and community for medical education.", "Tweets by the team.",
                     "Peer-reviewed research published by the journal."],
    "other": ["Parent, runner, sports fan, coffee lover.", "Journalist and writer.",
              "Patient living with a chronic illness.", "Software engineer and tech founder.",
              "Artist, teacher, retired.", "Views are my own."],
}


class RoleOverrideError(UserError):
    """The override file cannot be used; the message names the file, line and fix."""


@dataclass
class Cue:
    role: str
    label: str
    field: str   # bio | name
    text: str
    start: int
    order: int
    ignored: bool = False
    generic: bool = False


@dataclass
class RoleAssignment:
    """One account's role and why: the row of ``author_roles``."""

    platform: str
    author_id: str
    handle: str | None
    role: str
    method: str
    evidence: list[str]
    score: float | None = None
    model_id: str | None = None
    basis: str = ""
    text: str = field(default="", repr=False)


def find_cues(text: str | None, rules: tuple[Rule, ...], field_name: str) -> list[Cue]:
    """Every rule match in ``text``, in deciding order (first in the text, then longest)."""
    cues = []
    for order, rule in enumerate(rules):
        for m in rule.pattern.finditer(text or ""):
            if rule.context is not None and not rule.context.search(
                    text[max(0, m.start() - CONTEXT_CHARS):m.end() + CONTEXT_CHARS].replace(m.group(0), " ")):
                continue  # an abbreviation with nothing medical around it
            ignored = bool(_NEGATION.search(text[max(0, m.start() - 24):m.start()]) or _TURNED.match(text[m.end():]))
            cues.append(Cue(rule.role, rule.label, field_name, m.group(0).strip(), m.start(), order, ignored,
                            rule.generic))
    cues.sort(key=lambda c: (c.ignored, c.start, -len(c.text), c.order))
    trainee = next((c for c in cues if not c.ignored and c.role in TRAINEES and c.label not in WEAK), None)
    if trainee is not None and cues[0].generic:  # "doctor ... GI fellow": the trainee's cue decides
        cues.remove(trainee)
        cues.insert(0, trainee)
    return cues


def rule_role(display_name: str | None, bio: str | None) -> tuple[str | None, list[str]]:
    """The role the rules give (bio first, then display name) and the evidence, deciding cue first."""
    for field_name, text, rules in (("bio", bio, BIO_RULES), ("name", display_name, NAME_RULES)):
        cues = find_cues(text, rules, field_name)
        if cues and not cues[0].ignored:
            return cues[0].role, [_describe(c) for c in cues]
    cues = find_cues(bio, BIO_RULES, "bio") + find_cues(display_name, NAME_RULES, "name")
    return None, [_describe(c) for c in cues]


def _describe(c: Cue) -> str:
    what = "ignored (what the account was: 'former', 'ex-', '... turned ...')" if c.ignored else f"-> {c.role}"
    return f"rule: {c.field} {c.text!r} ({c.label}) {what}"


# The evidence lines written by _describe and _embed_roles, read back by short_evidence.
_RULE_EVIDENCE = re.compile(r"^(rule: (?:bio|name) )'(.*?)'( \(.*)$", re.DOTALL)
_EMBEDDING_EVIDENCE = re.compile(r"^embedding: nearest prototype '(?P<role>[a-z_]+)' \('(?P<proto>.*?)'\), "
                                 r"cosine (?P<score>[0-9.]+)(?:, (?P<why>.*?): unknown)?, model ")


def short_evidence(text: str, redact) -> str:
    """One evidence line as a table shows it. ``redact`` (a text -> text function, the study's
    redaction layer) sees only what came from the account: the bio or name words a rule quotes,
    or an override's note. The rest is ethnoflow's own wording, so that a role word such as
    'unknown' or a prototype sentence is never taken for a name and replaced. The model's line is
    shortened (the model is named in the report's methods; `ethnoflow roles --json` keeps it whole)."""
    model = _EMBEDDING_EVIDENCE.match(text)
    if model is not None:
        if model["why"]:
            why = model["why"].replace("the minimum ", "")
            return f"model: nearest '{model['role']}', cosine {model['score']}, {why}"
        return f"model: like '{model['proto']}' (cosine {model['score']})"
    if text.startswith(("embedding: ", "default: ")):
        return text
    rule = _RULE_EVIDENCE.match(text)
    if rule is None:
        return redact(text)
    head, quoted, rest = rule.groups()
    return f"{head}{redact(quoted)!r}{rest}"


def load_overrides(path: str | Path) -> dict[str, tuple[str, str]]:
    """Read ``handle,role[,note]`` rows: {lower-cased handle: (role, evidence)}.

    Raises:
        RoleOverrideError: a missing header, an unknown role or column, or a handle twice.
    """
    path = Path(path)
    if not path.exists():
        raise RoleOverrideError(f"{path}: no such file; write a CSV with the header `handle,role`")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if header[:2] != ["handle", "role"] or not set(header) <= {"handle", "role", "note"}:
        raise RoleOverrideError(f"{path}: line 1: the header must be `handle,role` (optionally `,note`), "
                                f"found {','.join(header) or 'nothing'}")
    out: dict[str, tuple[str, str]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(header, (c.strip() for c in row)))
        handle, role = cells.get("handle", "").lstrip("@").lower(), cells.get("role", "").lower()
        if role not in ROLES:
            raise RoleOverrideError(f"{path}: line {line}: role {cells.get('role', '')!r} for "
                                    f"{handle or '(no handle)'} is not one of {', '.join(ROLES)}")
        if not handle or handle in out:
            problem = "has no handle" if not handle else f"repeats handle {handle!r}"
            raise RoleOverrideError(f"{path}: line {line} {problem}; give each account once")
        note = f": {cells['note']}" if cells.get("note") else ""
        out[handle] = (role, f"override: {path.name} line {line}{note}")
    return out


def accounts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """(platform, author_id, handle, display_name, bio) of every account, in key order."""
    return con.execute("SELECT platform, author_id, handle, display_name, bio FROM accounts_v "
                       "ORDER BY platform, author_id").fetchall()


def classify(rows, overrides: dict[str, tuple[str, str]] | None = None,
             con: duckdb.DuckDBPyConnection | None = None, embedder=None) -> list[RoleAssignment]:
    """Roles for (platform, author_id, handle, display_name, bio) rows.

    ``embedder`` is an ``flows.embed.Embedder``, or a function returning one (called only
    when some bio needs the model), or None; embedding caches in ``con``.
    """
    overrides = overrides or {}
    out, pending = [], []
    for platform, author_id, handle, name, bio in rows:
        a = RoleAssignment(platform, author_id, handle, "unknown", "default", [],
                           basis=_basis(name, bio, overrides.get((handle or "").lower())),
                           text=" ".join(t for t in (name, bio) if t))
        role, evidence = rule_role(name, bio)
        if (handle or "").lower() in overrides:
            a.role, ev = overrides[(handle or "").lower()]
            a.method, a.evidence = "override", [ev] + evidence
        elif role is not None:
            a.role, a.method, a.evidence = role, "rule", evidence
        elif bio and bio.strip() and embedder is not None:
            a.evidence = evidence  # cues that were ignored, if any
            pending.append(a)
        else:
            a.evidence = evidence + ["default: no rule matched" + ("" if bio else " and no bio")]
        out.append(a)
    if pending:
        if not hasattr(embedder, "encode"):
            embedder = embedder()  # a loader: load the model only now that a bio needs it
        _embed_roles(con, embedder, pending)
    return out


def _embed_roles(con, embedder, pending: list[RoleAssignment], min_score: float = MIN_SCORE) -> None:
    from flows.embed.cache import embed_texts

    labels = [(role, text) for role, texts in PROTOTYPES.items() for text in texts]
    protos = embed_texts(con, embedder, [t for _, t in labels])
    vectors = embed_texts(con, embedder, [a.text for a in pending])
    sims = vectors @ protos.T
    for a, row in zip(pending, sims):
        best = max(range(len(labels)), key=lambda j: (float(row[j]), -j))
        role, proto = labels[best]
        a.method, a.score, a.model_id = "embedding", round(float(row[best]), 6), embedder.model_id
        clinical = role in CLINICAL
        floor = max(min_score, CLINICAL_MIN_SCORE) if clinical else min_score
        why = ""
        if a.score < floor:
            why = f"below the minimum {floor:g}" + (" for a clinical role" if clinical else "")
        elif clinical and MEDICAL_CONTEXT.search(a.text) is None:
            why = "but the bio has no clinical word"
        a.role = "unknown" if why else role
        below = f", {why}: unknown" if why else ""
        a.evidence = [f"embedding: nearest prototype {role!r} ({proto!r}), cosine {a.score:.3f}{below}, "
                      f"model {embedder.model_id}"] + a.evidence


def _basis(name: str | None, bio: str | None, override) -> str:
    return digest([RULES_VERSION, name, bio, override])


def assign_roles(con: duckdb.DuckDBPyConnection, embedder=None, overrides: str | Path | None = None,
                 ) -> list[RoleAssignment]:
    """Give every account a role and store the result in ``author_roles``, atomically.

    Args:
        con: the store.
        embedder: an ``flows.embed.Embedder`` (or a function returning one) for bios no rule
            covers; None: they are 'unknown'.
        overrides: the researcher's ``handle,role`` CSV; None reads ``data/roles.csv`` if present.
    """
    table = _overrides(overrides)
    result = classify(accounts(con), table, con, embedder)
    import pyarrow as pa

    names = ["platform", "author_id", "handle", "role", "method", "score", "evidence", "model_id", "basis_sha256"]
    rows = [(a.platform, a.author_id, a.handle, a.role, a.method, a.score,
             json.dumps(a.evidence, ensure_ascii=False), a.model_id, a.basis) for a in result]
    new_roles = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)},  # noqa: F841 (read by SQL)
                         schema=pa.schema([(n, pa.float64() if n == "score" else pa.string()) for n in names]))
    with transaction(con):
        con.execute("DELETE FROM author_roles")
        con.execute("INSERT INTO author_roles SELECT * FROM new_roles")
    return result


def _overrides(path: str | Path | None) -> dict[str, tuple[str, str]]:
    if path is None:
        return load_overrides(DEFAULT_OVERRIDES) if DEFAULT_OVERRIDES.exists() else {}
    return load_overrides(path)


def roles_stale(con: duckdb.DuckDBPyConnection, overrides: str | Path | None = None) -> bool:
    """True when an account has no stored role or its bio, name or override changed since."""
    table = _overrides(overrides)
    stored = dict(((p, a), b) for p, a, b in
                  con.execute("SELECT platform, author_id, basis_sha256 FROM author_roles").fetchall())
    now = {(p, a): _basis(n, b, table.get((h or "").lower())) for p, a, h, n, b in accounts(con)}
    return stored != now


def list_roles(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """``[{"handle", "role", "evidence", "method", "score"}]`` sorted by handle (stable JSON)."""
    rows = con.execute("SELECT handle, author_id, role, evidence, method, score FROM author_roles "
                       "ORDER BY lower(coalesce(handle, author_id)), platform, author_id").fetchall()
    return [{"handle": h or a, "role": r, "evidence": json.loads(e), "method": m, "score": s}
            for h, a, r, e, m, s in rows]


def role_of(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """{(platform, author_id): role} of the stored roles."""
    return {(p, a): r for p, a, r in con.execute("SELECT platform, author_id, role FROM author_roles").fetchall()}
