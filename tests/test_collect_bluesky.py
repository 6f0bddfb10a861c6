"""Bluesky collection against a replay server on 127.0.0.1: pagination, incremental runs, a 429,
a crash and its resume, an author feed that stops early, deletions, search with an app password,
per-seed errors, thread context, and real post views from ../shared."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from replay import T0, Account, Replay, World

from flows.collect.collect import collect_study
from flows.collect.limits import Waiter
from flows.store.db import connect
from flows.study.model import load_study

AMY, BEN, CAL = "did:plc:amy00000000000000000000", "did:plc:ben00000000000000000000", "did:plc:cal00000000000000000000"


class Clock:
    """The fake clock and sleeper: waits advance time, nobody sleeps."""

    def __init__(self):
        self.t = T0

    def time(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


def day(n: int, minute: int = 0) -> str:
    return (datetime(2025, 3, 1, 8, tzinfo=UTC) + timedelta(days=n, minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def world_with(n: int = 12) -> World:
    world = World()
    for i in range(n):
        world.add(AMY, "amy.example.org", f"3amy{i:04d}", f"Teaching rounds, day {i} #MedSky", day(i), tags=("MedSky",))
    return world


def make_study(tmp_path, base: str, **bluesky):
    settings = {"accounts": ["amy.example.org"], "api_base": base, "page_size": 5} | bluesky
    (tmp_path / "study.yaml").write_text(json.dumps({"title": "collect", "collect": {"bluesky": settings}}))
    return load_study(tmp_path / "study.yaml")


def run(study, clock=None, **kw):
    clock = clock or Clock()
    kw.setdefault("waiter", Waiter(sleep=clock.sleep, clock=clock.time))
    return collect_study(study, clock=clock.now, **kw)


def rows(study, sql, *params):
    with connect(study.path(study.database), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def feed_calls(world: World) -> list[str]:
    return [r for r in world.requests if "getAuthorFeed" in r]


@pytest.fixture
def served():
    worlds = []

    def serve(world: World):
        replay = Replay(world)
        worlds.append(replay)
        return replay.__enter__()

    yield serve
    for replay in worlds:
        replay.__exit__()


def test_pages_are_walked_stored_and_recorded_in_the_manifest(tmp_path, served):
    world = world_with(12)
    study = make_study(tmp_path, served(world))
    result = run(study)
    assert result["status"] == "completed" and result["ingested"] == 12
    assert len(feed_calls(world)) == 3  # 5 + 5 + 2
    assert rows(study, "SELECT count(*) FROM posts WHERE author_id = ?", AMY) == [(12,)]
    assert rows(study, "SELECT author_id, handle, status FROM collect_seeds") == [(AMY, "amy.example.org", "ok")]
    calls = rows(study, "SELECT endpoint, params, pages, posts FROM collect_calls ORDER BY call_no")
    assert calls[0] == ("app.bsky.feed.getAuthorFeed",
                        json.dumps({"actor": AMY, "filter": "posts_with_replies", "limit": 5}, separators=(",", ":")),
                        3, 12)
    assert calls[1][0] == "com.atproto.repo.listRecords" and calls[1][2:] == (3, 12)
    assert rows(study, "SELECT status, pages FROM collect_runs") == [("completed", 6)]
    files = sorted((tmp_path / "data" / "collected" / "bluesky").rglob("*.jsonl"))
    assert files and all(json.loads(line).get("feed") is not None for line in files[0].read_text().splitlines())


def test_a_second_run_fetches_only_new_pages(tmp_path, served):
    world = world_with(12)
    study = make_study(tmp_path, served(world))
    run(study)
    world.requests.clear()
    world.add(AMY, "amy.example.org", "3amy0100", "A new post", day(30))
    second = run(study)
    assert len(feed_calls(world)) == 1 and "cursor" not in feed_calls(world)[0]  # one page, from the top
    assert len([r for r in world.requests if "listRecords" in r]) == 1  # down to the newest record it had
    assert second["ingested"] == 1
    assert rows(study, "SELECT count(*) FROM posts") == [(13,)]


def test_a_429_waits_for_the_reset_the_headers_name(tmp_path, served):
    world = world_with(6)
    world.throttle["app.bsky.feed.getAuthorFeed"] = 1
    study = make_study(tmp_path, served(world))
    shown = []
    clock = Clock()
    waiter = Waiter(sleep=clock.sleep, clock=clock.time, show=lambda why, done, total: shown.append((done, total)))
    result = run(study, clock, waiter=waiter)
    assert waiter.waited == [31.0]  # ratelimit-reset is T0 + 30; one second past it
    assert clock.t == T0 + 31 and shown[0] == (0, 31.0) and shown[-1] == (31.0, 31.0)
    assert result["ingested"] == 6 and result["waited_seconds"] == 31.0


class Killed(BaseException):
    """The process dying mid-collection."""


class Dies(httpx.HTTPTransport):
    def __init__(self, after: int):
        super().__init__()
        self.left = after

    def handle_request(self, request):
        if "getAuthorFeed" in request.url.path:
            self.left -= 1
            if self.left < 0:
                raise Killed
        return super().handle_request(request)


def test_a_crash_mid_collection_resumes_from_the_last_durable_page(tmp_path, served):
    world = world_with(12)
    study = make_study(tmp_path, served(world))
    with pytest.raises(Killed):
        run(study, transport=Dies(after=2), checkpoint=1)
    assert rows(study, "SELECT count(*) FROM posts") == [(10,)]  # two pages were made durable
    assert rows(study, "SELECT cursor, newest FROM collect_seeds") == [("10", None)]
    assert rows(study, "SELECT status FROM collect_runs") == [("failed",)]
    world.requests.clear()
    world.add(AMY, "amy.example.org", "3amy0200", "Posted while we were down", day(40))
    result = run(study, checkpoint=1)
    feeds = feed_calls(world)
    assert "cursor=10" in feeds[0] and "cursor" not in feeds[1]  # the rest, then what appeared meanwhile
    assert len(feeds) == 2 and result["ingested"] == 3
    assert rows(study, "SELECT count(*) FROM posts") == [(13,)]
    assert rows(study, "SELECT cursor, walk_top FROM collect_seeds") == [(None, None)]


def test_posts_only_the_repository_holds_are_fetched_and_flagged(tmp_path, served):
    world = world_with(8)
    world.accounts[AMY].feed_stops_after = 3  # getAuthorFeed stops early (atproto#2616)
    study = make_study(tmp_path, served(world))
    result = run(study)
    assert result["bluesky"]["repo_only"] == 5
    assert rows(study, "SELECT count(*) FROM posts") == [(8,)]
    assert rows(study, "SELECT count(*) FROM collect_flags WHERE flag = 'repo_only'") == [(5,)]
    assert any("getPosts" in r for r in world.requests)


def test_a_deleted_post_leaves_the_corpus_with_an_audit_row(tmp_path, served):
    world = world_with(6)
    study = make_study(tmp_path, served(world))
    clock = Clock()
    run(study, clock)
    gone = world.accounts[AMY].posts.pop(2)["uri"]
    clock.t += 86400  # a day later: the weekly full listing is not due
    assert run(study, clock)["bluesky"]["deleted"] == 0
    clock.t += 7 * 86400  # a week later: it is
    assert run(study, clock)["bluesky"]["deleted"] == 1
    assert rows(study, "SELECT count(*) FROM posts WHERE post_id = ?", gone) == [(0,)]
    assert rows(study, "SELECT count(*) FROM raw_records WHERE contains(payload, ?)", gone) == [(0,)]
    audit = rows(study, "SELECT platform, evidence, batch_posts, post_hash FROM post_deletions")
    assert [a[:3] for a in audit] == [("bluesky", "bluesky:listRecords", 1)] and gone not in audit[0][3]
    assert rows(study, "SELECT count(*) FROM posts") == [(5,)]
    kept = "".join(p.read_text() for p in (tmp_path / "data" / "collected").rglob("*.jsonl"))
    assert gone not in kept and "3amy0003" in kept  # cut from the pages kept as collected too


def test_search_logs_in_with_an_app_password_and_reuses_the_saved_session(tmp_path, served):
    world = world_with(3)
    world.add(BEN, "ben.example.org", "3ben0001", "Journal club tonight #MedSky", day(5), tags=("MedSky",))
    study = make_study(tmp_path, served(world), accounts=[], queries=["#MedSky"], threads=False)
    env = {"BLUESKY_HANDLE": "collector.example.org", "BLUESKY_APP_PASSWORD": world.password}
    first = run(study, env=env)
    assert first["ingested"] == 4 and world.sessions == 1
    session = tmp_path / "data" / ".ethnoflow_bluesky_session"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    run(study, env={})  # no password needed now: the saved session is reused
    assert world.sessions == 1
    stored = "".join(str(r) for table in ("collect_calls", "collect_seeds", "raw_records")
                     for r in rows(study, f"SELECT * FROM {table}"))
    assert world.password not in stored and session.read_text().strip() not in stored


def test_an_expiring_session_is_refreshed_and_the_refreshed_one_saved(tmp_path, served):
    from atproto_client.client.session import Session

    world = world_with(2)
    world.access_ttl = 60  # the SDK refreshes an access token 15 minutes before it expires
    study = make_study(tmp_path, served(world), accounts=[], queries=["#MedSky"], threads=False)
    run(study, env={"BLUESKY_HANDLE": "collector.example.org", "BLUESKY_APP_PASSWORD": world.password})
    assert world.sessions == 2 and any("refreshSession" in r for r in world.requests)
    saved = Session.decode((tmp_path / "data" / ".ethnoflow_bluesky_session").read_text().strip())
    assert saved.access_jwt_payload.jti == "access2"


def test_search_without_a_login_says_what_to_set(tmp_path, served):
    from flows.collect.bluesky_api import LoginError

    study = make_study(tmp_path, served(world_with(1)), accounts=[], queries=["#MedSky"])
    with pytest.raises(LoginError, match="BLUESKY_APP_PASSWORD"):
        run(study, env={})


def test_accounts_that_cannot_be_collected_are_recorded_per_seed(tmp_path, served):
    world = world_with(2)
    world.add(BEN, "ben.example.org", "3ben0001", "Hello", day(1))
    world.accounts[BEN].error = ("AccountTakedown", "Account has been suspended")
    world.add(CAL, "cal.example.org", "3cal0001", "Hi", day(1))
    study = make_study(tmp_path, served(world), accounts=["amy.example.org", "ben.example.org", "cal.example.org",
                                                          "gone.example.org"])
    run(study)
    world.accounts[CAL].handle = "cal.hospital.example"  # renamed: the stored DID still finds it
    result = run(study)
    seeds = dict((s, (st, e)) for s, st, e in rows(study, "SELECT seed, status, error FROM collect_seeds"))
    assert seeds["account:amy.example.org"] == ("ok", None)
    assert seeds["account:ben.example.org"][0] == "suspended" and "suspended" in seeds["account:ben.example.org"][1]
    assert seeds["account:gone.example.org"][0] == "not_found"
    assert seeds["account:cal.example.org"] == ("renamed", "the handle is now cal.hospital.example")
    assert result["status"] == "completed with seed errors" and result["bluesky"]["errors"] == 2


def test_the_thread_above_a_reply_is_fetched_as_context(tmp_path, served):
    world = world_with(1)
    parent = world.add(BEN, "ben.example.org", "3ben0001", "Who teaches ECG reading well?", day(0))
    world.add(AMY, "amy.example.org", "3amy0900", "We do, in week two", day(1), parent=parent["uri"])
    study = make_study(tmp_path, served(world))
    result = run(study)
    assert result["bluesky"]["threads"] == 1
    assert rows(study, "SELECT post_id, flag FROM collect_flags WHERE flag = 'context'") == [(parent["uri"], "context")]
    world.requests.clear()
    run(study)
    assert not [r for r in world.requests if "getPostThread" in r]


def test_real_post_views_from_a_real_author_feed(tmp_path, served, shared):
    """123 real post views (twitwi's test file): one author's are served as its author feed."""
    views = [v for v in json.loads((shared / "twitwi/test/resources/bluesky-posts.json").read_text())
             if "author" in v]
    did = "did:plc:hbbrkyeqnurr25zqve3a5udb"
    world = World()
    mine = [v for v in views if v["author"]["did"] == did]
    world.accounts[did] = Account(did, mine[0]["author"]["handle"], mine)
    study = make_study(tmp_path, served(world), accounts=[did], page_size=2, threads=False)
    result = run(study)
    assert result["ingested"] == len(mine) == 7
    assert len(feed_calls(world)) == 4
    stored = {r[0] for r in rows(study, "SELECT post_id FROM posts")}
    assert stored == {v["uri"] for v in mine}
    assert not os.environ.get("ETHNOFLOW_BLUESKY_API")


def test_the_report_shows_the_manifest_pseudonymised(tmp_path, served):
    from flows.report.build import build_report
    from flows.report.settings import ReportSettings

    world = world_with(4)
    world.add(BEN, "ben.example.org", "3ben0001", "Hello", day(1))
    world.accounts[BEN].error = ("AccountTakedown", "Account has been suspended")
    study = make_study(tmp_path, served(world), accounts=["amy.example.org", "ben.example.org"])
    run(study)
    with connect(study.path(study.database), read_only=True) as con:
        build_report(con, tmp_path / "report", ReportSettings(pseudonymise=True, n_boot=0))
    md = (tmp_path / "report" / "report.md").read_text()
    assert "Collection manifest" in md and "app.bsky.feed.getAuthorFeed" in md
    assert "com.atproto.repo.listRecords" in md
    assert "Seeds that could not be collected" in md and "suspended" in md
    assert AMY not in md and "amy.example.org" not in md and "ben.example.org" not in md
    manifest = (tmp_path / "report" / "tables" / "corpus_collection.csv").read_text()
    assert manifest.count("\n") == 4  # a header; amy's feed and listing; ben's profile, refused
    assert "app.bsky.actor.getProfile" in manifest and "suspended" in manifest


def test_a_withdrawn_account_is_not_collected_again(tmp_path, served):
    from flows.privacy.forget import forget

    world = world_with(3)
    study = make_study(tmp_path, served(world))
    run(study)
    with connect(study.path(study.database)) as con:
        report = forget(con, "amy.example.org", reason="withdrew consent")
    world.requests.clear()
    world.add(AMY, "amy.example.org", "3amy0300", "Still posting", day(20))
    result = run(study)
    assert any(e["kind"] == "collected pages" for e in report.earlier_outputs)  # listed for deletion
    assert rows(study, "SELECT status FROM collect_seeds WHERE seed = 'account:amy.example.org'") == [("withdrawn",)]
    assert not feed_calls(world) and result["ingested"] == 0
    assert rows(study, "SELECT count(*) FROM posts") == [(0,)]


class Flaky(httpx.HTTPTransport):
    """A 502 for the first two author-feed requests."""

    def __init__(self):
        super().__init__()
        self.left = 2

    def handle_request(self, request):
        if "getAuthorFeed" in request.url.path and self.left:
            self.left -= 1
            return httpx.Response(502, json={"error": "UpstreamFailure", "message": "Upstream Failure"})
        return super().handle_request(request)


def test_a_502_is_tried_again_after_a_backoff(tmp_path, served):
    study = make_study(tmp_path, served(world_with(3)))
    clock = Clock()
    waiter = Waiter(sleep=clock.sleep, clock=clock.time)
    result = run(study, clock, waiter=waiter, transport=Flaky())
    assert waiter.waited == [2.0, 4.0] and result["ingested"] == 3 and result["status"] == "completed"


def test_a_real_record_only_the_repository_lists_is_stored_as_listed(tmp_path, served, shared):
    """MarshalX/atproto's post_record.json: a record listRecords returns that no view exists for."""
    record = json.loads((shared / "atproto/tests/test_atproto_client/models/test_data/post_record.json").read_text())
    did = record["uri"].split("/")[2]
    world = World()
    world.accounts[did] = Account(did, "someone.bsky.social", records=[record])
    study = make_study(tmp_path, served(world), accounts=[did], threads=False)
    assert run(study)["bluesky"]["repo_only"] == 1
    assert rows(study, "SELECT post_id, author_id, text FROM posts") == [(record["uri"], did, "new text114")]
    assert rows(study, "SELECT flag FROM collect_flags") == [("repo_only",)]


def test_a_repository_is_listed_at_the_host_its_did_document_names(tmp_path):
    """Without a base URL, listRecords goes to the account's PDS, read from the PLC directory."""
    from flows.collect.bluesky_api import BlueskyAPI
    from flows.collect.settings import BlueskyCollect

    doc = {"id": AMY, "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                   "serviceEndpoint": "https://morel.us-east.host.bsky.network"}]}
    asked = []

    def answer(request):
        asked.append(str(request.url))
        return httpx.Response(200, json=doc)

    api = BlueskyAPI(BlueskyCollect(), secrets_dir=tmp_path, transport=httpx.MockTransport(answer), env={})
    assert api.repo_host(AMY) == "https://morel.us-east.host.bsky.network"
    assert api.repo_host(AMY) == "https://morel.us-east.host.bsky.network" and asked == [f"https://plc.directory/{AMY}"]
