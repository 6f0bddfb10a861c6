"""Author roles: rules on bios and names, the embedding model, the researcher's overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.network.build import Corpus

from flows.embed.models import FakeEmbedder
from flows.ingest.files import ingest
from flows.people.roles import (
    MIN_SCORE,
    ROLES,
    RoleOverrideError,
    assign_roles,
    classify,
    list_roles,
    load_overrides,
    roles_stale,
    rule_role,
)


@pytest.mark.parametrize("bio, role, cue", [
    ("MS3 @ Fictional U SOM | future pediatrician?", "student", "MS3"),
    ("MD candidate 2018. Coding + medicine.", "student", "MD candidate"),
    ("Former ER scribe, now on the other side of the lecture hall. Class of 2018.", "student", "Class of 2018"),
    ("Estudiante de medicina (MS2) | salud global", "student", "Estudiante de medicina"),
    ("aspiring surgeon | MS3", "student", "aspiring surgeon"),
    ("PGY-2 internal medicine | #FOAMed", "resident", "PGY-2"),
    ("Third-year resident in EM", "resident", "Third-year resident"),
    ("Cards fellow | echo enthusiast | former chief resident", "resident", "Cards fellow"),
    ("Family medicine R2 | rural health", "resident", "R2"),
    ("Assistant Professor of Medicine | #MedEd", "faculty", "Assistant Professor"),
    ("Program Director, IM residency. Proud of our residents every single day.", "faculty", "Program Director"),
    ("Neurologist & clerkship director. Localize the lesion!", "faculty", "Neurologist"),
    ("Former chief resident, now attending at Example Hospital", "faculty", "attending"),
    ("ICU nurse, 12 yrs. Interprofessional education believer.", "health_professional", "nurse"),
    ("Physician assistant | lifelong learner", "health_professional", "Physician assistant"),
    ("Official account of the Journal of Fictional Medical Education.", "organization", "Official account"),
    ("Society for Fictional Medical Education. Host of #MedEdChat.", "organization", "Society"),
    ("Patient advocate | living with lupus | med students: listen to us", "other", "Patient advocate"),
    ("Science journalist covering health and how doctors are trained.", "other", "journalist"),
])
def test_the_first_cue_in_the_bio_decides(bio, role, cue):
    got, evidence = rule_role("Someone", bio)
    assert got == role
    assert evidence[0].startswith(f"rule: bio {cue!r}") and evidence[0].endswith(f"-> {role}")


@pytest.mark.parametrize("bio, role, cue", [
    # a trainee's cue outranks a generic physician word, wherever it is
    ("Young doctor with big plans. GI fellow @ExampleGeneral. Tweets mine.", "resident", "GI fellow"),
    ("Psychiatrist & Director of Resident Wellness, Example University.", "faculty", "Psychiatrist"),
    ("Pediatrician. Editor of a guide to baby's first year.", "faculty", "Pediatrician"),  # not a year of study
    ("Ana Ruiz, MD. Emergency and sports medicine.", "faculty", "Ana Ruiz, MD"),
    ("Consultant cardiologist, NHS. Echo and heart failure.", "faculty", "Consultant"),
    ("studying mbbs at an example medical college", "student", "studying mbbs"),
    ("Physician-scientist studying sepsis.", "faculty", "Physician"),
    ("Mom, doctor, proud resident of Ohio.", "faculty", "doctor"),  # a resident of a place
    ("Resident in internal medicine, Example General. Former nurse.", "resident", "Resident"),
])
def test_cues_read_as_a_clinician_would(bio, role, cue):
    got, evidence = rule_role("Someone", bio)
    assert (got, evidence[0].split(" (")[0]) == (role, f"rule: bio {cue!r}")


@pytest.mark.parametrize("bio", [
    "Software consultant and open-source maintainer",          # consultant without a clinical word
    "Communications intern at a civil liberties charity",      # intern
    "Director of Communications Programs, PopTech fellow",    # fellow; "program" is not clinical
    "Creative Brit, Resident Hippy, F1 fan, proud geek",       # resident, F1
    "Vice Chair of the Regional Board of a co-operative",      # chair of
    "Blogging about energy politics. Not a doctor.",           # negated
    "Drug-safety news: side effects of doctor-prescribed drugs",
    "Trustee of Doctors in Distress, former MP",               # a charity's name, not a person's role
    "2nd year electrical engineering student, guitar",         # a year of study, but not of medicine
    "Matching blood donors with those in need",
])
def test_words_with_other_meanings_outside_medicine_give_no_role(bio):
    assert rule_role("Someone", bio)[0] is None, rule_role("Someone", bio)


def test_display_name_speaks_when_the_bio_is_silent():
    assert rule_role("Nadia Kowalski, RN", "Views my own.")[0] == "health_professional"
    assert rule_role("J Fictional Med Educ", "")[0] == "organization"
    assert rule_role("Ellen Parkhurst, MD", "coffee, books, travel")[0] == "faculty"
    assert rule_role("Jo Smith", "Baltimore, MD. Crabs.") == (None, [])  # a state is not a degree


def corpus() -> Corpus:
    c = Corpus()
    c.user("maya", "MS3 at Example SOM")
    c.user("hal", "attending hospitalist, #MedEd")
    c.user("drifter", "Night owl, drinking too much coffee")
    c.user("blank", "")
    for handle in ("maya", "hal", "drifter", "blank"):
        c.post(handle, "hello #MedTwitter", "2015-01-05T10:00")
    return c


@pytest.fixture
def people(con, tmp_path):
    ingest(con, [corpus().write(tmp_path / "people.jsonl")])
    return con


def test_roles_are_stored_with_method_and_evidence(people):
    assign_roles(people, FakeEmbedder())
    rows = {h: (r, m, s, json.loads(e), model) for h, r, m, s, e, model in people.execute(
        "SELECT handle, role, method, score, evidence, model_id FROM author_roles").fetchall()}
    assert rows["maya"][:3] == ("student", "rule", None)
    assert rows["hal"][:3] == ("faculty", "rule", None)
    role, method, score, evidence, model = rows["drifter"]  # no rule: nearest prototype
    assert method == "embedding" and role in ROLES and -1 <= score <= 1 and model == "fake-ngram-v1"
    assert evidence[0].startswith("embedding: nearest prototype '") and "cosine" in evidence[0]
    assert (role == "unknown") == (score < MIN_SCORE) and ("below the minimum" in evidence[0]) == (role == "unknown")
    assert rows["blank"][:3] == ("unknown", "default", None) and "no bio" in rows["blank"][3][-1]


def test_without_a_model_bios_no_rule_covers_are_unknown(people):
    assign_roles(people, None)
    assert people.execute("SELECT role, method FROM author_roles WHERE handle = 'drifter'").fetchone() == (
        "unknown", "default")


def test_the_override_file_always_wins(people, tmp_path):
    overrides = tmp_path / "roles.csv"
    overrides.write_text("handle,role,note\n@Maya,resident,graduated in May\nnobody,faculty,\n")
    assign_roles(people, None, overrides)
    roles = {r["handle"]: r for r in list_roles(people)}
    assert roles["maya"]["role"] == "resident"
    assert roles["maya"]["evidence"][0] == "override: roles.csv line 2: graduated in May"
    assert roles["maya"]["evidence"][1].startswith("rule: bio 'MS3'")  # what the rules said, kept
    assert roles["hal"]["role"] == "faculty"


@pytest.mark.parametrize("text, message", [
    ("handle,role\nmaya,professor\n", "line 2: role 'professor' for maya is not one of student"),
    ("name,role\nmaya,student\n", "line 1: the header must be `handle,role`"),
    ("handle,role\nmaya,student\nMaya,faculty\n", "line 3 repeats handle 'maya'"),
    ("handle,role,extra\nmaya,student,x\n", "the header must be"),
])
def test_override_file_errors_name_the_line_and_fix(tmp_path, text, message):
    path = tmp_path / "roles.csv"
    path.write_text(text)
    with pytest.raises(RoleOverrideError, match=message.replace("(", r"\(")) as err:
        load_overrides(path)
    assert str(path) in str(err.value)


def test_a_missing_override_file_is_an_error_only_when_named(people, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no data/roles.csv here: fine
    assign_roles(people, None)
    with pytest.raises(RoleOverrideError, match="no such file"):
        assign_roles(people, None, tmp_path / "missing.csv")


def test_roles_go_stale_when_a_bio_or_override_changes(people, tmp_path):
    assign_roles(people, None)
    assert not roles_stale(people)
    people.execute("UPDATE authors SET bio = 'PGY-1' WHERE handle = 'maya'")
    assert roles_stale(people)
    assign_roles(people, None)
    overrides = tmp_path / "roles.csv"
    overrides.write_text("handle,role\nhal,other\n")
    assert roles_stale(people, overrides) and not roles_stale(people)


def test_cli_roles_json_is_the_stable_interface(cli, tmp_path):
    cli("ingest", corpus().write(tmp_path / "people.jsonl"))
    rows = json.loads(cli("roles", "--json", "--model", "none").output)
    assert [set(r) for r in rows] == [{"handle", "role", "evidence"}] * 4
    assert {r["handle"]: r["role"] for r in rows} == {"blank": "unknown", "drifter": "unknown", "hal": "faculty",
                                                      "maya": "student"}
    bad = tmp_path / "bad.csv"
    bad.write_text("handle,role\nmaya,dean\n")
    result = cli("roles", "--overrides", bad, "--model", "none", ok=False)
    assert result.exit_code == 2 and "bad.csv: line 2" in result.output


def sample_agreement(tmp_path, embedder) -> float:
    from flows.sample.generate import generate
    from flows.store.db import connect

    manifest = generate(tmp_path)
    truth = json.loads(Path(manifest["truth"]).read_text(encoding="utf-8"))
    con = connect(tmp_path / "s.duckdb")
    ingest(con, [manifest["corpus"]])
    assign_roles(con, embedder)
    got = {r["handle"]: r["role"] for r in list_roles(con)}
    return sum(got[a["handle"]] == a["role"] for a in truth["accounts"]) / len(truth["accounts"])


def test_sample_study_roles_agree_with_the_generator(tmp_path):
    assert sample_agreement(tmp_path, FakeEmbedder()) >= 0.9


@pytest.mark.slow
def test_real_model_places_bios_no_rule_covers(tmp_path):
    from flows.embed.models import load_embedder
    from flows.store.db import connect

    model = load_embedder("minilm")
    bios = {"Preclinical years of medical school, anatomy and board exams ahead": "student",
            "On call overnight on the wards, internal medicine residency": "resident",
            "Teaching at the bedside for 20 years. Academic internist.": "faculty",
            "Caring for patients as a registered nurse on a cardiac floor": "health_professional",
            "News and updates from the Department of Medicine": "organization",
            "Dad, runner, Cubs fan": "other",
            # near a clinical prototype (0.57, 0.59) but not close enough: real bios that near were
            # a hospital, a patient advocate, a TV GP, so the role is left unknown, saying why
            "Studying for exams and drinking too much coffee in the anatomy lab": "unknown",
            "Surgery trainee at a big teaching hospital": "unknown",
            # clinical-sounding to the model, with no clinical word: a body piercer is no resident
            "Las Vegas professional body piercer, including dermal implants": "unknown"}
    rows = [("twitter", str(i), f"h{i}", "", bio) for i, bio in enumerate(bios)]
    got = classify(rows, {}, connect(tmp_path / "m.duckdb"), model)
    assert [a.role for a in got] == list(bios.values())
    assert "below the minimum 0.6 for a clinical role" in got[-2].evidence[0]
    assert sample_agreement(tmp_path / "sample", model) >= 0.9


def test_the_model_loads_only_when_a_bio_needs_it(con):
    def loader():
        raise AssertionError("the model was loaded although every bio had a rule")

    rows = [("twitter", "1", "maya", "", "MS3"), ("twitter", "2", "hal", "", "attending hospitalist")]
    assert [a.role for a in classify(rows, {}, con, loader)] == ["student", "faculty"]
    drifter = [("twitter", "3", "drifter", "", "Night owl, drinking too much coffee")]
    assert classify(drifter, {}, con, lambda: FakeEmbedder())[0].method == "embedding"
