"""The coding app (`ethnoflow code-app`) without a browser: every security point, blinding, durable
saves, adjudication, suggestions, and that codes made in the app give the same `agreement` as the
same codes imported from sheets. One small store (the sample corpus and the hostile posts) is built
once; each test codes a copy of it through Starlette's TestClient."""

from __future__ import annotations

import hmac
import logging
import re
import shutil
import urllib.request
import warnings
from pathlib import Path

import pytest
from conftest import FIXTURES

from flows.coding.app import work
from flows.coding.app.access import Access, bind_address
from flows.coding.app.server import Settings, Store, create_app, running
from flows.coding.codebook import resolve_codebook
from flows.store.db import connect

HOSTILE = FIXTURES / "report" / "hostile.jsonl"
BASE = "http://127.0.0.1:8765"

with warnings.catch_warnings():  # starlette's TestClient prefers httpx2; httpx (Prefect's) works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A store with the hostile posts and 500 sample posts, and a round of 8 posts (5 hostile)."""
    from flows.coding.rounds import sample
    from flows.ingest.files import ingest
    from flows.sample.generate import generate

    folder = tmp_path_factory.mktemp("code_app")
    corpus = generate(folder / "sample", tweets=500)["corpus"]
    con = connect(folder / "base.duckdb")
    ingest(con, [HOSTILE, Path(corpus)])
    codebook = resolve_codebook("chretien2015")
    hostile = [r[0] for r in con.execute("SELECT post_id FROM posts WHERE post_id LIKE '14000000000000000%' "
                                         "ORDER BY post_id").fetchall()]
    drawn = sample(con, codebook, 8, folder / "round.csv", seed=3)
    con.execute("DELETE FROM coding_round_posts WHERE round_id = ? AND position < 5", [drawn["round_id"]])
    con.executemany("INSERT INTO coding_round_posts VALUES (?, 'twitter', ?, ?, 'hostile')",
                    [[drawn["round_id"], p, i] for i, p in enumerate(hostile)])
    con.close()
    return {"db": folder / "base.duckdb", "round": drawn["round_id"], "codebook": codebook, "hostile": hostile}


class App:
    """One app run on a copy of the base store, with a TestClient per person."""

    def __init__(self, base, folder: Path, coders=("ana", "ben"), reviewer="rev", n_boot=20, wait=15.0) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.db = folder / "store.duckdb"
        if not self.db.exists():
            shutil.copy(base["db"], self.db)
        con = connect(self.db)
        self.round = work.load_round(con, base["round"], base["codebook"], list(coders), reviewer)
        con.close()
        self.access, self.tokens = Access.issue(list(coders), reviewer)
        self.app = create_app(Settings(self.round, Store(self.db, wait=wait), self.access, n_boot=n_boot, seed=0))

    def client(self, name: str | None = None) -> TestClient:
        client = TestClient(self.app, base_url=BASE)
        if name:
            signed = client.post("/login", data={"token": self.tokens[name]}, follow_redirects=False)
            assert signed.status_code == 303, signed.text
            client.csrf = self.access.csrf(self.tokens[name])  # what every page of the session carries
        return client

    def con(self, read_only=True):
        return connect(self.db, read_only=read_only)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def code(client: TestClient, i: int, codes: list[str], memo: str = "", action: str = "next"):
    """Post one post's codes as the coding page's form does (the page's CSRF token is the session's)."""
    return client.post("/code", data={"csrf": client.csrf, "i": str(i), "action": action, "code": codes,
                                      "memo": memo}, follow_redirects=False)


def stored(db_app: App, coder: str) -> dict[str, list[str]]:
    with db_app.con() as con:
        rows = con.execute("""SELECT post_id, list(code_id ORDER BY code_id) FILTER (WHERE value = 1)
            FROM code_assignments WHERE coder = ? GROUP BY post_id""", [coder]).fetchall()
    return {p: list(c or []) for p, c in rows}


@pytest.fixture
def app(base, tmp_path):
    return App(base, tmp_path)


# -- security ---------------------------------------------------------------------------------

def test_no_access_without_a_token(app):
    client = app.client()
    for path in ("/", "/code", "/code?i=0", "/review", "/nope"):
        page = client.get(path)
        assert page.status_code == 401 and "Sign in with your link" in page.text, path
        assert "advice" not in page.text  # no post text
    posted = client.post("/code", data={"i": "0", "action": "next", "code": ["information"]}, follow_redirects=False)
    wrong = client.post("/login", data={"token": app.tokens["ana"][:-1] + "x"}, follow_redirects=False)
    assert posted.status_code == 401 and wrong.status_code == 401 and "set-cookie" not in wrong.headers
    assert stored(app, "ana") == {}
    login = client.get("/login")
    assert login.status_code == 200 and 'id="token"' in login.text


def test_tokens_are_compared_in_constant_time(app, monkeypatch):
    import flows.coding.app.access as access

    calls, real = [], hmac.compare_digest

    def spy(a, b):
        calls.append((type(a), type(b)))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    assert app.access.identify(app.tokens["ben"]).name == "ben"
    assert len(calls) == 3  # every identity is compared, also after a match: no early exit
    assert app.access.identify("not-a-token") is None and app.access.identify("") is None
    assert app.access.check_csrf(app.tokens["ana"], app.access.csrf(app.tokens["ana"]))
    assert len(calls) == 7


def test_sign_in_sets_a_strict_http_only_cookie_and_the_token_is_in_no_page(app):
    client = TestClient(app.app, base_url=BASE)
    signed = client.post("/login", data={"token": app.tokens["ana"]}, follow_redirects=False)
    cookie = signed.headers["set-cookie"].lower()
    assert signed.headers["location"] == "/code" and "httponly" in cookie and "samesite=strict" in cookie
    page = client.get("/code")
    assert page.status_code == 200 and app.tokens["ana"] not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["referrer-policy"] == "same-origin"


def test_writes_need_the_sessions_csrf_token_and_the_apps_origin(app):
    ana, ben = app.client("ana"), app.client("ben")
    page = ana.get("/code?i=0").text
    data = {"i": "0", "action": "next", "code": ["information"]}
    assert ana.post("/code", data=data, follow_redirects=False).status_code == 403
    assert ana.post("/code", data={**data, "csrf": "0" * 64}, follow_redirects=False).status_code == 403
    bens = csrf_of(ben.get("/code?i=0").text)
    assert ana.post("/code", data={**data, "csrf": bens}, follow_redirects=False).status_code == 403
    evil = ana.post("/code", data={**data, "csrf": csrf_of(page)}, headers={"origin": "http://evil.example"},
                    follow_redirects=False)
    assert evil.status_code == 403 and stored(app, "ana") == {}
    assert ana.post("/code", data={**data, "csrf": csrf_of(page)}, follow_redirects=False).status_code == 303
    assert stored(app, "ana") == {app.round.posts[0][1]: ["information"]}
    assert ana.post("/logout", data={}, follow_redirects=False).status_code == 403  # logout is a write too


def test_a_coders_token_cannot_read_or_write_another_coders_codes(app):
    ana, ben = app.client("ana"), app.client("ben")
    post = app.round.posts[0][1]
    assert code(ana, 0, ["information", "community"], memo="ana's private memo").status_code == 303
    page = ben.get("/code?i=0").text
    assert "checked" not in page and "private memo" not in page  # blind: ben sees none of ana's codes
    # ben's session writes ben's codes, whatever the form says
    sent = ben.post("/code", data={"csrf": csrf_of(page), "i": "0", "action": "next", "code": ["advocacy"],
                                   "coder": "ana", "memo": ""}, follow_redirects=False)
    assert sent.status_code == 303
    assert stored(app, "ana") == {post: ["community", "information"]} and stored(app, "ben") == {post: ["advocacy"]}
    assert ben.get("/code?i=0").text.count(" checked") == 1
    assert ana.get("/review").status_code == 403  # coders never see the side-by-side view
    assert ana.post("/review", data={"csrf": csrf_of(page), "action": "accept_agreed"}).status_code == 403
    rev = app.client("rev")
    assert rev.get("/code").status_code == 403
    assert rev.post("/code", data={"csrf": csrf_of(rev.get("/review").text), "i": "0", "action": "next",
                                   "code": ["community"]}).status_code == 403
    assert "ana's private memo" not in rev.get("/review").text  # not before every coder finished


def test_every_post_is_rendered_escaped(app, base):
    ana = app.client("ana")
    pages = "".join(ana.get(f"/code?i={i}&thread=1").text for i in range(5))
    for raw in ("<script>alert(1)", "<iframe", "<img src=x", "<svg/onload", "<script>alert('bio')", "<b>Student"):
        assert raw not in pages
    for escaped in ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;iframe src=", "&lt;svg/onload=alert(3)&gt;",
                    "MS3 &lt;script&gt;alert(&#39;bio&#39;)&lt;/script&gt;", "Plain &lt;b&gt;Student&lt;/b&gt;"):
        assert escaped in pages
    assert len(re.findall(r"<script\b", pages)) == 5  # only app.js, once per page


def test_bound_to_loopback_unless_host_is_given_then_a_warning(app):
    assert bind_address(None) == ("127.0.0.1", None)
    assert bind_address("127.0.0.1") == ("127.0.0.1", None)
    host, warning = bind_address("0.0.0.0")
    assert host == "0.0.0.0" and "warning" in warning and "not only on this computer" in warning
    other = TestClient(app.app, base_url="http://evil.example")  # DNS rebinding: another Host is refused
    assert other.get("/login").status_code == 400


def test_tokens_never_reach_the_store_or_a_log(base, tmp_path, caplog):
    app = App(base, tmp_path)
    caplog.set_level(logging.DEBUG)
    with running(app.app) as url:
        for name in ("ana", "ben", "rev"):
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
            opener.open(urllib.request.Request(url + "/login", data=f"token={app.tokens[name]}".encode(),
                                               headers={"Content-Type": "application/x-www-form-urlencoded"}))
            if name != "rev":
                page = opener.open(url + "/code?i=0").read().decode()
                opener.open(urllib.request.Request(url + "/code", data=f"csrf={csrf_of(page)}&i=0&action=next&"
                                                   "code=information&memo=hello".encode()))
            opener.open(url + "/review" if name == "rev" else url + "/code").read()
    assert stored(app, "ana") and stored(app, "ben")
    files = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    text = caplog.text
    for token in app.tokens.values():
        assert token.encode() not in files and token not in text
        assert app.access.csrf(token).encode() not in files


def test_a_save_while_another_command_writes_the_study_is_refused_and_nothing_is_lost(base, tmp_path):
    import subprocess
    import sys

    from flows.store.lock import lock_path

    app = App(base, tmp_path, wait=0.3)
    ana = app.client("ana")
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], "
                               "os.O_RDWR | os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); "
                               "time.sleep(60)", str(lock_path(app.db))], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"  # another process writes the study (a pipeline run)
        busy = code(ana, 0, ["information"])
        assert busy.status_code == 503 and "Not saved" in busy.text and "being written" in busy.text
        assert ana.get("/code?i=0").status_code == 200  # reading goes on
        assert "Waiting for the coders" in app.client("rev").get("/review").text
    finally:
        holder.kill()
        holder.wait()
    assert stored(app, "ana") == {}
    assert code(ana, 0, ["information"]).status_code == 303 and stored(app, "ana") == {app.round.posts[0][1]:
                                                                                      ["information"]}


# -- coding -------------------------------------------------------------------------------------

def test_saves_are_durable_and_a_new_app_run_resumes_where_the_coder_stopped(base, tmp_path):
    first = App(base, tmp_path)
    ana = first.client("ana")
    assert code(ana, 0, ["information"], memo="first look").headers["location"] == "/code?i=1"
    assert code(ana, 1, [], action="skip").headers["location"] == "/code?i=2"
    assert code(ana, 2, [], memo="deleted on the platform", action="unavailable").headers["location"] == "/code?i=3"
    again = App(base, tmp_path)  # the app was closed and started again: new tokens, same store
    assert again.tokens["ana"] != first.tokens["ana"] and first.access.identify(again.tokens["ana"]) is None
    page = again.client("ana").get("/code").text
    assert "Post 2 of 8" in page and "2 of 8 done" in page  # the first post not done: the skipped one
    with again.con() as con:
        memos = con.execute("SELECT post_id, kind, label, memo FROM memos WHERE coder = 'ana' ORDER BY ALL").fetchall()
        done = work.states(con, again.round, "ana")
    posts = [p for _, p, _ in again.round.posts]
    assert memos == sorted([(posts[0], "memo", "memo", "first look"), (posts[2], "memo", "memo",
                            "deleted on the platform"), (posts[2], "note", "not available", "post not available")])
    assert done == {("twitter", posts[0]): "coded", ("twitter", posts[2]): "unavailable"}
    assert stored(again, "ana") == {posts[0]: ["information"]}
    back = again.client("ana").get("/code?i=0").text
    assert "first look" in back and 'id="code-information" checked' in back
    from flows.coding.coders import list_coders, remove_coder

    with again.con(read_only=False) as con:
        assert [r["sheets"] for r in list_coders(con)] == [[f"code-app round {again.round.round_id[:12]}"]]
        removed = remove_coder(con, "ana", again.round.round_id[:8])  # the round's codes and memos go
    assert removed["assignments"] == 7 and removed["memos"] == 3 and stored(again, "ana") == {}


def test_the_page_shows_context_progress_strata_and_the_thread_on_request(base, tmp_path):
    app = App(base, tmp_path)
    ana = app.client("ana")
    replies = [i for i, (_, p, _) in enumerate(app.round.posts) if _reply(app, p)]
    page = ana.get("/code?i=0").text
    assert "Post 1 of 8" in page and "stratum <span class=\"stratum\">hostile</span>" in page
    assert "Progress by stratum of the sample" in page and "Bio</dt>" in page and "data-key=\"t\"" in page
    assert "Thread (" not in page and "Thread (" in ana.get("/code?i=0&thread=1").text
    for key in ("<kbd>1</kbd>", "<kbd>n</kbd>", "<kbd>p</kbd>", "<kbd>s</kbd>", "<kbd>u</kbd>"):
        assert key in page
    if replies:
        assert "In reply to" in ana.get(f"/code?i={replies[0]}").text or "not in the corpus" in ana.get(
            f"/code?i={replies[0]}").text


def test_a_quote_shows_the_quoted_post_and_a_reply_the_post_it_answers(app):
    with app.con() as con:
        quote, reply = (con.execute(f"""SELECT p.post_id FROM posts AS p JOIN posts AS q
            ON q.platform = p.platform AND q.post_id = p.{column} ORDER BY p.post_id LIMIT 1""").fetchone()[0]
                        for column in ("quoted_post_id", "in_reply_to_post_id"))
        quoted, answered = work.context(con, "twitter", quote), work.context(con, "twitter", reply)
    assert quoted["quoted"]["post_id"] and answered["parent"]["post_id"]
    assert quoted["quoted"]["text"] and answered["parent"]["author"]


def _reply(app: App, post_id: str) -> bool:
    with app.con() as con:
        return bool(con.execute("SELECT in_reply_to_post_id FROM posts WHERE post_id = ?", [post_id]).fetchone()[0])


def test_suggestions_are_off_by_default_and_shown_only_when_the_round_turns_them_on(base, tmp_path, monkeypatch):
    from flows.coding.store import replace_assignments, write_batch
    from flows.report.build import build_report
    from flows.report.settings import ReportSettings

    app = App(base, tmp_path)
    post = app.round.posts[0]
    with app.con(read_only=False) as con:
        batch = write_batch(con, "auto", app.round.codebook, "combined", {"test": True})
        frame = work._frame(app.round, "auto", [(post[0], post[1], {"community"}, "x")])
        frame["batch_id"] = batch
        replace_assignments(con, frame)
        assert not work.suggestions_on(con, app.round.round_id)
    ana = app.client("ana")
    assert "Machine suggestion" not in ana.get("/code?i=0").text
    with app.con(read_only=False) as con:
        work.set_suggestions(con, app.round.round_id, True)
    page = ana.get("/code?i=0").text
    assert "Machine suggestion (shown in this round)" in page and '<span class="chip">community</span>' in page
    _code_round(app, {"ana": CODES["ana"][:3], "ben": CODES["ben"][:3]})
    with app.con(read_only=False) as con:
        work.set_suggestions(con, app.round.round_id, False)
        assert con.execute("SELECT * FROM coding_round_suggestions").fetchall() == [(app.round.round_id, "auto",
                                                                                     False)]
    assert "Machine suggestion" not in ana.get("/code?i=0").text
    monkeypatch.setenv("ETHNOFLOW_SECRET", "test-secret-for-the-code-app")
    with app.con() as con:  # the report says the round's coders saw the machine's codes
        build_report(con, tmp_path / "report", ReportSettings(n_boot=10))
    text = " ".join((tmp_path / "report" / "report.md").read_text(encoding="utf-8").split())
    assert f"Machine suggestions were shown to coders in the coding app (round {app.round.round_id[:12]} (8 posts, " \
           "later turned off))" in text and "anchor" in text


# -- adjudication and agreement ----------------------------------------------------------------

CODES = {"ana": [["information"], ["community"], [], ["advocacy", "community"], ["information"], [], [],
                 ["equalization"]],
         "ben": [["information"], ["collaboration"], [], ["advocacy"], ["information"], ["perspectives"], [],
                 ["equalization"]]}


def _code_round(app: App, codes=CODES) -> None:
    for coder, rows in codes.items():
        client = app.client(coder)
        for i, present in enumerate(rows):
            assert code(client, i, present, memo=f"{coder} on {i}" if i == 1 else "").status_code == 303


def test_adjudication_opens_when_all_coders_finished_and_writes_consensus(app):
    rev = app.client("rev")
    _code_round(app, {"ana": CODES["ana"], "ben": CODES["ben"][:5]})
    waiting = rev.get("/review").text
    assert "Waiting for the coders" in waiting and "ben: 5 of 8 posts" in waiting and "community" not in waiting
    _code_round(app, {"ben": CODES["ben"]})
    page = rev.get("/review").text
    assert "Disagreement 1 of 3" in page and "ana on 1" in page and "ben on 1" in page
    assert 'id="agreement"' in page and "Cohen κ" in page
    posts = [p for _, p, _ in app.round.posts]
    sent = rev.post("/review", data={"csrf": csrf_of(page), "action": "resolve", "at": "0", "platform": "twitter",
                                     "post_id": posts[1], "code": ["community", "collaboration"], "memo": "both"},
                    follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/review?i=1"
    stale = rev.post("/review", data={"csrf": csrf_of(page), "action": "resolve", "at": "1", "platform": "twitter",
                                      "post_id": posts[1], "code": []})
    assert stale.status_code == 400 and "changed since" in stale.text
    page = rev.get("/review?i=1").text
    rev.post("/review", data={"csrf": csrf_of(page), "action": "unavailable", "at": "1", "platform": "twitter",
                              "post_id": posts[3]})
    rev.post("/review", data={"csrf": csrf_of(page), "action": "accept_agreed", "at": "2"})
    assert stored(app, "consensus") == {posts[0]: ["information"], posts[1]: ["collaboration", "community"],
                                        posts[2]: [], posts[4]: ["information"], posts[6]: [],
                                        posts[7]: ["equalization"]}
    with app.con() as con:
        audit = con.execute("SELECT action, coder, detail FROM coder_audit WHERE detail LIKE '%code-app%'").fetchall()
        batches = con.execute("SELECT DISTINCT coder, method, round_id FROM coding_batches ORDER BY 1").fetchall()
    assert len(audit) == 3 and all('"reviewer": "rev"' in d for _, _, d in audit)
    assert batches == [(c, "human", app.round.round_id) for c in ("ana", "ben", "consensus")]
    assert "1 of 3 disagreements" not in rev.get("/review").text


def _sheet_codes(app: App, folder: Path, coder: str, rows) -> Path:
    """The same codes as a filled coding sheet (the layout `sample` writes), in a European Excel CSV."""
    from flows.coding.rounds import sheet_header

    header = sheet_header(app.round.codebook)
    lines = [";".join(header)]
    for (_, post, _), present in zip(app.round.posts, rows):
        memo = f"{coder} on 1" if post == app.round.posts[1][1] else ""
        lines.append(";".join([post, "", "", "", "", *("1,0" if c in present else "0" for c in app.round.codes),
                               memo]))
    path = folder / f"{coder}.csv"
    path.write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_a_round_coded_in_the_app_gives_the_same_agreement_as_the_same_codes_from_sheets(base, tmp_path):
    from flows.coding.agreement import agreement, format_report
    from flows.coding.importing import import_codes

    in_app = App(base, tmp_path / "app")
    _code_round(in_app)
    sheets = App(base, tmp_path / "sheets")
    mixed = App(base, tmp_path / "mixed")
    _code_round(mixed, {"ben": CODES["ben"]})
    cb = base["codebook"]
    for target, coders in ((sheets, ("ana", "ben")), (mixed, ("ana",))):
        with target.con(read_only=False) as con:
            for coder in coders:
                result = import_codes(con, _sheet_codes(target, tmp_path, coder, CODES[coder]), coder, cb)
                assert result["round_id"] == base["round"] and result["posts"] == 8
    reports = []
    for target in (in_app, sheets, mixed):
        with target.con() as con:
            reports.append(agreement(con, cb, n_boot=20, seed=1))
            memos = con.execute("SELECT coder, post_id, memo FROM memos ORDER BY ALL").fetchall()
            assert memos == [("ana", target.round.posts[1][1], "ana on 1"), ("ben", target.round.posts[1][1],
                                                                             "ben on 1")]
    assert reports[0] == reports[1] == reports[2]
    assert format_report(reports[0]) == format_report(reports[1])
    assert reports[0]["codes"]["information"]["n"] == 8 and reports[0]["coders"] == ["ana", "ben"]
    with in_app.con() as con:  # the reviewer's table: the same statistics on the round's posts
        shown = work.round_agreement(con, in_app.round, n_boot=20, seed=1)
    assert shown["codes"] == reports[0]["codes"] and shown["overall"] == reports[0]["overall"]


# -- the command ------------------------------------------------------------------------------

def test_code_app_without_a_round_says_how_to_draw_one(cli):
    cli("ingest", HOSTILE)
    done = cli("code-app", "--coders", "ana,ben", ok=False)
    assert done.exit_code == 2 and "no coding round yet" in done.output and "ethnoflow sample" in done.output
    bad = cli("code-app", "--coders", "ana,consensus", ok=False)
    assert bad.exit_code == 2 and "consensus" in bad.output
