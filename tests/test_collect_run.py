"""Each run of the pipeline collects first, then ingests: the plain runner (what `serve`'s scheduled
runs and `ethnoflow run` execute) against a replay server named by $ETHNOFLOW_BLUESKY_API."""

from __future__ import annotations

from replay import Replay, World

from flows.embed.models import FakeEmbedder
from flows.run.runner import nothing_new, run_study
from flows.store.db import connect
from flows.study.model import load_study
from flows.study.scaffold import create_study

AMY = "did:plc:amy00000000000000000000"


def test_a_scheduled_run_collects_first_then_runs_every_stage_on_what_it_fetched(tmp_path, monkeypatch):
    world = World()
    for i in range(30):
        topic = "ECG reading" if i % 2 else "night shift handover"
        world.add(AMY, "amy.example.org", f"3amy{i:04d}", f"Residents teaching residents, case {i}: {topic} #MedSky",
                  f"2025-03-{1 + i % 28:02d}T08:00:00.000Z")
    path = create_study(tmp_path / "study")
    folder = path.parent  # no codebook: this test is about the stage order, not the coding
    path.write_text(path.read_text().replace("codebooks: [chretien2015]", "codebooks: []")
                    + "\ncollect:\n  bluesky:\n    accounts: [amy.example.org]\n    page_size: 10\n")
    with Replay(world) as base:
        monkeypatch.setenv("ETHNOFLOW_BLUESKY_API", base)
        study = load_study(folder / "study.yaml")
        assert nothing_new(study) is not None  # a collecting study always looks for new posts
        first = run_study(study, embedder=FakeEmbedder(), topic_backend="kmeans")
        assert [s["stage"] for s in first["stages"]][:2] == ["collect", "ingest"]
        collect = first["stages"][0]["counts"]
        assert collect["status"] == "completed" and collect["ingested"] == 30, collect
        assert not first["problems"], first["problems"]
        world.requests.clear()
        world.add(AMY, "amy.example.org", "3amy0999", "One more #MedSky case", "2025-04-01T08:00:00.000Z")
        from flows.run.stages import Context, collect_stage

        second = collect_stage(Context(study))  # the next run's first stage: only the new page
    assert second["ingested"] == 1 and len([r for r in world.requests if "getAuthorFeed" in r]) == 1
    with connect(study.path(study.database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == 31
        assert con.execute("SELECT count(*) FROM topic_assignments").fetchone()[0] > 0  # the run modelled them
        assert con.execute("SELECT count(*) FROM collect_runs WHERE status = 'completed'").fetchone()[0] == 2


def test_a_study_without_collect_runs_as_before(tmp_path):
    study = load_study(create_study(tmp_path / "plain"))
    from flows.run.stages import Context, collect_stage

    assert study.collect is None
    assert collect_stage(Context(study)) == {"skipped": "study.yaml has no collect: section"}


def test_the_collect_command_prints_what_it_fetched(tmp_path, cli, monkeypatch):
    world = World()
    for i in range(3):
        world.add(AMY, "amy.example.org", f"3amy{i:04d}", f"Case {i} #MedSky", f"2025-03-0{i + 1}T08:00:00.000Z")
    (tmp_path / "study.yaml").write_text("title: cli\ncollect:\n  bluesky:\n    accounts: ['@amy.example.org']\n")
    with Replay(world) as base:
        monkeypatch.setenv("ETHNOFLOW_BLUESKY_API", base)
        out = cli("collect", "--study", tmp_path / "study.yaml").output
        again = cli("collect", "--study", tmp_path / "study.yaml", "--json").output
    assert "completed; 2 pages, 6 posts returned, 3 new in the store" in out
    assert '"ingested": 0' in again and '"status": "completed"' in again


def test_collect_without_a_collect_section_says_how(tmp_path, cli):
    (tmp_path / "study.yaml").write_text("title: plain\n")
    result = cli("collect", "--study", tmp_path / "study.yaml", ok=False)
    assert result.exit_code == 2 and "no collect: section" in result.output


def test_a_wait_off_the_terminal_is_one_line_in_the_log():
    import io

    from rich.console import Console

    from flows.cli.progress import wait_progress
    from flows.collect.limits import Waiter

    out, clock = io.StringIO(), [0.0]
    with wait_progress(Console(file=out, force_terminal=False)) as show:
        Waiter(sleep=lambda s: clock.__setitem__(0, clock[0] + s), clock=lambda: clock[0], show=show).until(
            4.0, "app.bsky.feed.searchPosts: rate limited (429), waiting for the reset")
    assert out.getvalue() == "app.bsky.feed.searchPosts: rate limited (429), waiting for the reset: 5 s\n"
