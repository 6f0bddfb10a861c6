"""X API v2 collection against the replay server: timelines and search with their pagination
tokens, since_id on a later run, note_tweet's full text, pages stamped like twarc's, a 429 with
x-rate-limit-reset, per-seed errors, compliance results, and real v2 tweets from ../shared."""

from __future__ import annotations

import json

import pytest
from replay import Replay, World
from replay_x import tweet, user
from test_collect_bluesky import Clock, rows

from flows.collect.collect import collect_study
from flows.collect.limits import Waiter
from flows.errors import UserError
from flows.study.model import load_study

LONG = ("Thread on how we run morning report for interns: every case starts with the patient's own words, "
        "then the differential, then what we would do tonight. ") * 3


def world_with(n: int = 7) -> World:
    world = World()
    maya = world.users["drmaya"] = user("1001", "drmaya")
    world.tweets["drmaya"] = [tweet(str(1_500_000_000_000_000_000 + i), maya, f"Morning report {i} #MedTwitter",
                                    f"2025-03-{1 + i:02d}T09:00:00.000Z") for i in range(n)]
    world.tweets["drmaya"].append(tweet("1500000000000000100", maya, LONG[:270] + "…", "2025-03-20T09:00:00.000Z",
                                        note=LONG))
    return world


def make_study(tmp_path, base: str, **x):
    settings = {"accounts": ["drmaya"], "api_base": base, "page_size": 10} | x
    (tmp_path / "study.yaml").write_text(json.dumps({"title": "collect x", "collect": {"x": settings}}))
    return load_study(tmp_path / "study.yaml")


@pytest.fixture
def served():
    replays = []

    def serve(world):
        replays.append(Replay(world))
        return replays[-1].__enter__()

    yield serve
    for r in replays:
        r.__exit__()


def run(study, world, clock=None, **kw):
    clock = clock or Clock()
    kw.setdefault("waiter", Waiter(sleep=clock.sleep, clock=clock.time))
    return collect_study(study, clock=clock.now, env={"X_BEARER_TOKEN": world.bearer}, **kw)


def test_a_timeline_is_paged_stamped_like_twarc_and_kept_whole(tmp_path, served):
    world = world_with(14)
    study = make_study(tmp_path, served(world))
    result = run(study, world)
    assert result["ingested"] == 15 and result["status"] == "completed"
    timeline = [r for r in world.requests if r.startswith("/2/users/1001/tweets")]
    assert len(timeline) == 2 and "note_tweet" in timeline[0] and "referenced_tweets.id.author_id" in timeline[0]
    page = json.loads(next((tmp_path / "data/collected/twitter").rglob("*.jsonl")).read_text().splitlines()[0])
    assert set(page["__twarc"]) == {"url", "version", "retrieved_at"}
    assert page["__twarc"]["version"].startswith("ethnoflow")
    assert rows(study, "SELECT text FROM posts WHERE post_id = '1500000000000000100'") == [(LONG,)]
    assert rows(study, "SELECT DISTINCT format FROM sources") == [("twarc2",)]
    assert rows(study, "SELECT author_id, handle, status FROM collect_seeds") == [("1001", "drmaya", "ok")]


def test_a_second_run_asks_only_for_posts_since_the_newest(tmp_path, served):
    world = world_with(5)
    study = make_study(tmp_path, served(world))
    run(study, world)
    world.requests.clear()
    world.tweets["drmaya"].append(tweet("1500000000000000200", world.users["drmaya"], "Grand rounds today",
                                        "2025-04-01T09:00:00.000Z"))
    assert run(study, world)["ingested"] == 1
    [timeline] = [r for r in world.requests if "/tweets" in r]
    assert "since_id=1500000000000000100" in timeline


def test_search_waits_out_a_429_and_records_its_parameters(tmp_path, served):
    world = world_with(3)
    world.throttle["recent"] = 1
    study = make_study(tmp_path, served(world), accounts=[], queries=["#MedTwitter"])
    clock = Clock()
    waiter = Waiter(sleep=clock.sleep, clock=clock.time)
    result = run(study, world, clock, waiter=waiter)
    assert waiter.waited == [31.0] and result["ingested"] == 3
    [(endpoint, params)] = rows(study, "SELECT endpoint, params FROM collect_calls")
    assert endpoint == "/2/tweets/search/recent"
    assert json.loads(params) == {"max_results": 10, "query": "#MedTwitter", "start_time": None, "end_time": None}


def test_missing_suspended_protected_and_renamed_accounts_are_recorded_per_seed(tmp_path, served):
    world = world_with(2)
    world.users["banned"] = user("1002", "banned", suspended=True)
    world.users["private"] = user("1003", "private", protected=True)
    study = make_study(tmp_path, served(world), accounts=["drmaya", "banned", "private", "nobody"])
    run(study, world)
    world.users["drmaya_md"] = world.users.pop("drmaya")
    world.users["drmaya_md"]["username"] = "drmaya_md"
    world.tweets["drmaya_md"] = world.tweets.pop("drmaya")
    run(study, world)
    seeds = {s: (st, e) for s, st, e in rows(study, "SELECT seed, status, error FROM collect_seeds")}
    assert seeds["account:drmaya"] == ("renamed", "the username is now drmaya_md")
    assert seeds["account:banned"][0] == "suspended" and "suspended" in seeds["account:banned"][1]
    assert seeds["account:private"][0] == "protected"
    assert seeds["account:nobody"][0] == "not_found" and "Could not find user" in seeds["account:nobody"][1]


def test_compliance_results_remove_deleted_posts_with_an_audit_row(tmp_path, served):
    world = world_with(3)
    base = served(world)
    study = make_study(tmp_path, base)
    run(study, world)
    gone = world.tweets["drmaya"][1]["id"]
    results = [{"id": gone, "action": "delete", "created_at": "2025-03-02T09:00:00.000Z", "reason": "deleted"},
               {"id": world.tweets["drmaya"][0]["id"], "action": "scrub_geo", "reason": "scrub_geo"}]
    (tmp_path / "compliance.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results))
    study = make_study(tmp_path, base, accounts=[], compliance=["compliance.jsonl"])
    assert run(study, world)["x"]["deleted"] == 1
    assert rows(study, "SELECT count(*) FROM posts") == [(3,)]
    assert rows(study, "SELECT count(*) FROM posts WHERE post_id = ?", gone) == [(0,)]
    assert rows(study, "SELECT evidence FROM post_deletions") == [("x:compliance:deleted",)]
    assert rows(study, "SELECT count(*) FROM raw_records WHERE contains(payload, ?)", f'"id":"{gone}"') == [(0,)]
    kept = "".join(p.read_text() for p in (tmp_path / "data" / "collected").rglob("*.jsonl"))
    assert f'"id":"{gone}"' not in kept and world.tweets["drmaya"][0]["id"] in kept


def test_a_missing_bearer_token_names_the_variable(tmp_path, served):
    study = make_study(tmp_path, served(world_with(1)), bearer_token_env="MY_X_TOKEN")
    with pytest.raises(UserError, match=r"\$MY_X_TOKEN"):
        collect_study(study, env={})


def test_real_v2_tweets_collected_by_search(tmp_path, served, shared):
    """The 200 real tweets of twarc-csv's 2sets.jsonl, served as a search's pages."""
    pages = [json.loads(line) for line in (shared / "twarc-csv/test-data/2sets.jsonl").read_text().splitlines()]
    world = World()
    for page in pages:
        world.users |= {u["username"]: u for u in page["includes"]["users"]}
        world.tweets.setdefault("all", []).extend(page["data"])
    study = make_study(tmp_path, served(world), accounts=[], queries=[""], page_size=100)
    result = run(study, world)
    ids = {t["id"] for t in world.tweets["all"]}
    assert result["posts"] == len(ids) == 200 and result["ingested"] == 200
    assert rows(study, "SELECT count(DISTINCT author_id) FROM posts")[0][0] > 100
