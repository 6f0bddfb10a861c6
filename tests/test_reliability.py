"""Reliability holes an attack on the sample study found (issue 22), one test each.

Withdrawals that a changed key would undo, outputs overwritten without --force, a failed command
that changed the store, rows lost to an unterminated quote, input that crashed a reader, bombs,
locks a symlink bypassed, processes left behind, and messages that were tracebacks. Each test
has its own fixture under ``tests/fixtures/attacks/`` (or builds it in a few lines).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES

from flows.store.db import connect

ATTACKS = FIXTURES / "attacks"


def _rounds(db: Path) -> list:
    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT round_id FROM coding_rounds ORDER BY ALL").fetchall()
    finally:
        con.close()


# -- 2. outputs are not overwritten without --force -------------------------------------------------

@pytest.fixture
def coded(cli, tmp_path) -> Path:
    """A store of the control-character posts, machine-coded with the tiny codebook."""
    cli("ingest", ATTACKS / "control_chars.jsonl")
    cli("code", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", "--embedder", "none")
    return tmp_path / "cli.duckdb"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_sample_refuses_to_overwrite_a_sheet_without_force(cli, coded, tmp_path, suffix):
    sheet = tmp_path / f"round1{suffix}"
    sheet.write_bytes(b"a filled coding sheet")
    result = cli("sample", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", "--n", 3, "--out", sheet, ok=False)
    assert result.exit_code != 0 and "--force" in result.output
    assert sheet.read_bytes() == b"a filled coding sheet"
    assert _rounds(coded) == []  # refused before anything was recorded
    cli("sample", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", "--n", 3, "--out", sheet, "--force")
    assert sheet.read_bytes() != b"a filled coding sheet"


def test_export_codes_refuses_to_overwrite_without_force(cli, coded, tmp_path):
    out = tmp_path / "codes.csv"
    out.write_text("kept\n")
    result = cli("export", "codes", "--out", out, ok=False)
    assert result.exit_code != 0 and "--force" in result.output
    assert out.read_text() == "kept\n"
    cli("export", "codes", "--out", out, "--force")
    assert out.read_text().startswith("post_id,codebook")


def test_export_network_refuses_to_overwrite_without_force(cli, coded, tmp_path):
    out = tmp_path / "network.gexf"
    out.write_text("kept")
    result = cli("export", "network", "--out", out, "--model", "none", ok=False)
    assert result.exit_code != 0 and "--force" in result.output
    assert out.read_text() == "kept"
    cli("export", "network", "--out", out, "--model", "none", "--force")
    assert out.read_text().startswith("<?xml")


# -- 3. a failed command leaves the store as it was ----------------------------------------------

def test_an_xlsx_sheet_of_posts_with_control_characters_is_written_and_read_back(cli, coded, tmp_path):
    from flows.coding.sheets import read_sheet

    sheet = tmp_path / "round1.xlsx"
    cli("sample", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", "--n", 6, "--out", sheet)
    header, rows = read_sheet(sheet)
    texts = [r[header.index("text")] for r in rows]
    assert len(texts) == 6 and all("vertical\ufffdtab" in t for t in texts)
    assert len(_rounds(coded)) == 1


def test_a_sample_whose_sheet_cannot_be_written_records_no_round(cli, coded, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the sheet's folder should be")
    result = cli("sample", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", "--n", 3,
                 "--out", blocker / "round1.xlsx", ok=False)
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1, result.output
    assert _rounds(coded) == []


# -- 9. messages -------------------------------------------------------------------------------

def test_init_with_a_windows_path_as_title_writes_valid_yaml(cli, tmp_path):
    title = "C:\\new\\qstudy \"quoted\" # not a comment: {x}"
    cli("init", tmp_path / "s", "--title", title)
    assert yaml.safe_load((tmp_path / "s" / "study.yaml").read_text())["title"] == title


# -- 1. withdrawals survive a key change ------------------------------------------------------------

def _posts_by(db: Path, handle: str) -> int:
    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM posts WHERE lower(author_handle) = lower(?)", [handle]).fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def withdrawn(cli, tmp_path, monkeypatch) -> Path:
    """A store (its secret in a file beside it) from which DrMayaW was withdrawn."""
    monkeypatch.delenv("ETHNOFLOW_SECRET", raising=False)
    cli("ingest", ATTACKS / "withdrawal.jsonl")
    cli("forget", "DrMayaW", "--reason", "asked by Maya Withdrawn in a DM")
    db = tmp_path / "cli.duckdb"
    assert _posts_by(db, "DrMayaW") == 0 and (tmp_path / ".ethnoflow_secret").exists()
    return db


def test_a_changed_secret_is_refused_and_the_withdrawal_stands(cli, withdrawn, monkeypatch):
    monkeypatch.setenv("ETHNOFLOW_SECRET", "another-secret")
    result = cli("ingest", ATTACKS / "withdrawal_again.jsonl", ok=False)
    assert result.exit_code != 0 and "not the study secret" in result.output
    assert "another-secret" not in result.output
    assert _posts_by(withdrawn, "DrMayaW") == 0


def test_a_deleted_secret_is_an_error_not_a_new_secret(cli, withdrawn, tmp_path):
    (tmp_path / ".ethnoflow_secret").unlink()
    result = cli("ingest", ATTACKS / "withdrawal_again.jsonl", ok=False)
    assert result.exit_code != 0 and "missing" in result.output
    assert not (tmp_path / ".ethnoflow_secret").exists()
    assert _posts_by(withdrawn, "DrMayaW") == 0


def test_with_its_own_secret_back_the_withdrawn_account_is_removed_again(cli, withdrawn, tmp_path):
    secret = (tmp_path / ".ethnoflow_secret").read_bytes()
    (tmp_path / ".ethnoflow_secret").unlink()
    cli("ingest", ATTACKS / "withdrawal_again.jsonl", ok=False)
    (tmp_path / ".ethnoflow_secret").write_bytes(secret)
    (tmp_path / ".ethnoflow_secret").chmod(0o600)
    cli("ingest", ATTACKS / "withdrawal_again.jsonl")
    assert _posts_by(withdrawn, "DrMayaW") == 0 and _posts_by(withdrawn, "BenStays") == 3


def test_init_makes_the_study_secret(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("ETHNOFLOW_SECRET", raising=False)
    cli("init", tmp_path / "s")
    secret = tmp_path / "s" / "data" / ".ethnoflow_secret"
    assert secret.exists() and secret.stat().st_mode & 0o077 == 0


# -- 7. locks ----------------------------------------------------------------------------------

def test_a_symlinked_database_path_takes_the_same_lock(tmp_path):
    import fcntl
    import os

    from flows.store.lock import LockedError, study_lock

    real = tmp_path / "real" / "study.duckdb"
    real.parent.mkdir()
    real.touch()
    (tmp_path / "link").symlink_to(real.parent, target_is_directory=True)
    fd = os.open(str(real) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another writer, as far as study_lock can tell
    try:
        for alias in (tmp_path / "alias.duckdb", tmp_path / "link" / "study.duckdb"):
            if not alias.exists():
                alias.symlink_to(real)
            with pytest.raises(LockedError), study_lock(alias):
                pass
    finally:
        os.close(fd)


HOLD = """
import sys, time
from flows.store.db import connect
con = connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def test_status_waits_for_a_writer_between_stages(cli, tmp_path):
    import subprocess
    import sys

    cli("ingest", ATTACKS / "withdrawal.jsonl")
    db = tmp_path / "cli.duckdb"
    writer = subprocess.Popen([sys.executable, "-c", HOLD, str(db), "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "holding"
        busy = cli("status", "--wait", 0, ok=False)
        assert busy.exit_code != 0 and len(busy.output.strip().splitlines()) == 1 and "--wait" in busy.output
        assert '"posts": 6' in cli("status", "--json", "--wait", 60).output
    finally:
        writer.wait(timeout=60)


# -- 4. no silent row loss in a CSV ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["unterminated_quote.csv", "unterminated_quote_midfile.csv"])
def test_an_unterminated_quote_rejects_its_line_and_keeps_the_rows_after_it(ingest_files, con, name):
    from conftest import counts

    assert counts(ingest_files(ATTACKS / name)[name]) == (4, 3, 0, 1)
    reason, = con.execute("SELECT reason FROM rejects").fetchone()
    assert "line 3 of the CSV" in reason and "quote" in reason
    assert sorted(r[0] for r in con.execute("SELECT text FROM posts").fetchall()) == sorted([
        "a quoted, fine cell" if "midfile" in name else "third row fine", "first row fine", "fourth row fine"])


def test_reingest_after_forget_counts_the_withdrawn_posts_apart(con, monkeypatch):
    from flows.ingest.files import ingest
    from flows.privacy.forget import forget

    monkeypatch.setenv("ETHNOFLOW_SECRET", "reingest-secret")
    ingest(con, [ATTACKS / "withdrawal.jsonl"])
    forget(con, "DrMayaW")
    report, = ingest(con, [ATTACKS / "withdrawal_again.jsonl"])
    assert (report.read, report.ingested, report.duplicates, report.rejected, report.withdrawn) == (7, 0, 3, 0, 4)
    assert con.execute("SELECT ingested, withdrawn FROM sources WHERE sha256 = ?", [report.sha256]).fetchone() == (0, 4)


def test_the_withdrawal_audit_keeps_no_display_name(cli, withdrawn):
    con = connect(withdrawn, read_only=True)
    try:
        reason, = con.execute("SELECT reason FROM withdrawal_audit").fetchone()
    finally:
        con.close()
    assert "Maya" not in reason and "Withdrawn" not in reason and reason.startswith("asked by ") and "DM" in reason


# -- 5. input that crashed a reader or was refused whole ----------------------------------------------

def test_json_nested_ten_thousand_deep_is_a_one_line_refusal(cli):
    result = cli("ingest", ATTACKS / "deep.json", ok=False)
    assert result.exit_code != 0 and "nested more than" in result.output and "Traceback" not in result.output


def test_a_jsonl_line_nested_ten_thousand_deep_is_rejected_alone(ingest_files):
    from conftest import counts

    assert counts(ingest_files(ATTACKS / "deep_line.jsonl")["deep_line.jsonl"]) == (3, 2, 0, 1)


def test_an_inbox_file_that_is_no_corpus_is_left_out_and_the_run_goes_on(tmp_path):
    from conftest import settled_copy

    from flows.run.stages import Context, ingest_stage
    from flows.study.model import load_study
    from flows.study.scaffold import create_study

    study = load_study(create_study(tmp_path / "s"))
    for name in ("deep.json", "withdrawal.jsonl"):  # finished copies: the settle window holds new ones
        settled_copy(ATTACKS / name, tmp_path / "s" / "data" / "inbox" / name)
    result = ingest_stage(Context(study))
    assert result["ingested"] == 6 and result["not_corpus"] == 1
    assert [w for w in result["warnings"] if "deep.json" in w] and len(result["warnings"]) == 1


def test_a_jsonl_whose_first_line_is_over_a_megabyte_is_read(ingest_files):
    from conftest import counts

    assert (ATTACKS / "long_first_line.jsonl").stat().st_size > 1 << 20
    assert counts(ingest_files(ATTACKS / "long_first_line.jsonl")["long_first_line.jsonl"]) == (3, 3, 0, 0)


def test_a_utf16_file_with_its_byte_order_mark_is_read(ingest_files, con):
    from conftest import counts

    report = ingest_files(ATTACKS / "utf16.jsonl")["utf16.jsonl"]
    assert counts(report) == (3, 3, 0, 0)
    assert con.execute("SELECT sha256, name FROM sources").fetchone() == (report.sha256, "utf16.jsonl")
    from flows.ingest.readers import file_sha256

    assert report.sha256 == file_sha256(ATTACKS / "utf16.jsonl")  # the file as collected, not its copy


def test_a_nul_byte_rejects_its_line_not_the_file(ingest_files, con):
    from conftest import counts

    assert counts(ingest_files(ATTACKS / "nul_line.jsonl")["nul_line.jsonl"]) == (3, 2, 0, 1)
    assert "NUL byte" in con.execute("SELECT reason FROM rejects").fetchone()[0]


def test_a_lone_surrogate_is_called_what_it_is(ingest_files, con):
    from conftest import counts

    assert counts(ingest_files(ATTACKS / "lone_surrogate.jsonl")["lone_surrogate.jsonl"]) == (3, 2, 0, 1)
    reason = con.execute("SELECT reason FROM rejects").fetchone()[0]
    assert "lone UTF-16 surrogate (\\ud83d)" in reason and "truncated" not in reason


def test_binary_files_are_still_refused_whole(tmp_path, ingest_files):
    from flows.ingest.formats import NotACorpus

    with pytest.raises(NotACorpus, match="binary file"):
        ingest_files(FIXTURES / "ingest" / "image.png")


# -- 6. bombs: bounded sizes and expansion, with a clear refusal ------------------------------------

def test_a_qdpx_that_inflates_a_thousand_times_is_refused_before_it_is_read():
    from flows.export.refiqda.reader import RefiError, read_qdpx

    assert (ATTACKS / "bomb.qdpx").stat().st_size < 100_000  # 64 MiB of XML inside
    with pytest.raises(RefiError, match="zip bomb"):
        read_qdpx(ATTACKS / "bomb.qdpx")


def test_an_xlsx_with_one_huge_cell_is_refused_before_openpyxl_opens_it():
    from flows.coding.sheets import SheetError, read_sheet

    with pytest.raises(SheetError, match="zip bomb"):
        read_sheet(ATTACKS / "huge_cell.xlsx")


def test_xml_nested_ten_thousand_deep_is_refused_not_a_recursion_error(cli):
    from flows.export.refiqda.reader import RefiError, read_qdpx

    with pytest.raises(RefiError, match="levels deep"):
        read_qdpx(ATTACKS / "deep_xml.qdpx")
    result = cli("import-qdpx", ATTACKS / "deep_xml.qdpx", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", ok=False)
    assert result.exit_code != 0 and "levels deep" in result.output


def test_an_alias_bomb_inside_a_valid_keyword_list_is_refused_everywhere(cli, tmp_path):
    bomb = ATTACKS / "alias_bomb_codebook.yaml"
    for args in (("codebook", "validate", bomb), ("code", "--codebook", bomb, "--embedder", "none")):
        result = cli(*args, ok=False)
        assert result.exit_code != 0 and "alias bomb" in result.output, args
    study = tmp_path / "s"
    cli("init", study)
    (study / "coding_schemes" / "tiny.yaml").write_text(bomb.read_text())
    import os

    cwd = os.getcwd()
    os.chdir(study)
    try:
        cli("status", "--db", tmp_path / "cli.duckdb", ok=False)  # status reads no codebook: it may not hang
        result = cli("code", "--codebook", "tiny", ok=False)
        assert result.exit_code != 0 and "alias bomb" in result.output
    finally:
        os.chdir(cwd)


# -- 9. messages: a full disk and a read-only store are one line, and the store stays intact ----------

def _cli_process(args: list, **kwargs):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", "from flows.cli import app; app(prog_name='ethnoflow')",
                           *map(str, args)], capture_output=True, text=True, timeout=120, **kwargs)


def _store_posts(db: Path) -> int:
    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        con.close()


def test_a_full_disk_is_one_line_and_the_store_stays_as_it_was(cli, tmp_path):
    import resource
    import signal

    cli("ingest", ATTACKS / "withdrawal.jsonl")
    db = tmp_path / "cli.duckdb"
    limit = 256 << 10  # the 1 MiB record cannot be written anywhere

    def small_disk():  # writes past the limit fail as they do on a full disk (EFBIG, not a signal)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = _cli_process(["ingest", "--db", db, ATTACKS / "long_first_line.jsonl"], preexec_fn=small_disk)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "database is as it was" in result.stderr
    assert _store_posts(db) == 6


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write to: a read-only tmpfs for root (whom permissions do not stop),
    a folder without write permission for anyone else."""
    import os
    import subprocess

    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        yield folder, lambda: folder.chmod(0o555)
        folder.chmod(0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("running as root without the right to mount a read-only file system to test on")
    try:
        yield folder, lambda: subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_store_is_one_line_and_stays_as_it_was(cli, read_only_folder):
    folder, make_read_only = read_only_folder
    db = folder / "study.duckdb"
    cli("ingest", "--db", db, ATTACKS / "withdrawal.jsonl")
    make_read_only()
    for args in (["ingest", "--db", db, ATTACKS / "long_first_line.jsonl"], ["forget", "--db", db, "DrMayaW"]):
        result = cli(*args, ok=False)
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
        assert "read-only" in result.output or "permission" in result.output
    assert '"posts": 6' in cli("status", "--db", db, "--json").output


# -- 8. process hygiene ------------------------------------------------------------------------------

def _gone(pid: int, seconds: float = 15) -> bool:
    import time

    import psutil

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


PARENT = """
import os, subprocess, sys, time
from flows.run.serve import dies_with
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], preexec_fn=dies_with(os.getpid()))
print(child.pid, flush=True)
time.sleep(60)
"""


def test_a_server_child_dies_with_its_parent_even_by_sigkill():
    """How `run` and `serve` start the Prefect server: a kill -9 of ethnoflow takes it along."""
    import subprocess
    import sys

    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait(timeout=10)
    assert _gone(child), "the child outlived its SIGKILLed parent"


SUPERVISOR = """
import subprocess, sys
from pathlib import Path
from flows.run.serve import supervise
stubborn = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('serving', flush=True); time.sleep(120)"]
server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]) if sys.argv[2] == "server" else None
if server:
    print(server.pid, flush=True)
sys.exit(supervise(stubborn, Path(sys.argv[1]), server=server, grace=1))
"""


def test_serve_stops_on_sigterm_even_when_the_deployment_ignores_it(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    log = tmp_path / "serve.log"
    serving = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(log), "-"], stderr=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while "serving" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.1)
    import psutil

    children = psutil.Process(serving.pid).children(recursive=True)
    serving.send_signal(signal.SIGTERM)
    out, err = serving.communicate(timeout=30)
    assert serving.returncode == 0 and out == "" and err.strip() == "stopped serving: received SIGTERM"
    assert children and all(_gone(c.pid, 5) for c in children)


def test_serve_stops_with_one_line_when_its_server_stops(tmp_path):
    import subprocess
    import sys

    serving = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(tmp_path / "serve.log"), "server"],
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    server = int(serving.stdout.readline())
    import os
    import signal

    os.kill(server, signal.SIGKILL)
    out, err = serving.communicate(timeout=30)
    assert serving.returncode == 1 and "Traceback" not in err
    assert err.strip().startswith("stopped serving: the local Prefect server stopped")


def test_a_killed_run_is_not_listed_as_running_forever(cli, tmp_path):
    import fcntl
    import json
    import os

    from flows.run.records import start_run
    from flows.store.lock import lock_path

    cli("init", tmp_path / "s")
    study = tmp_path / "s" / "study.yaml"
    db = tmp_path / "s" / "data" / "ethnoflow.duckdb"
    con = connect(db)
    start_run(con, "run-killed-by-sigkill", "pipeline", None)  # ...and then the process was killed
    con.close()
    listed = json.loads(cli("runs", "--study", study, "--json").output)
    assert [(r["status"], r["error"].split(":")[0]) for r in listed] == [("failed", "interrupted")]
    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a run that is really going on holds the study lock
    try:
        assert [r["status"] for r in json.loads(cli("runs", "--study", study, "--json").output)] == ["running"]
    finally:
        os.close(fd)


@pytest.mark.slow
def test_kill_9_of_a_prefect_run_leaves_no_server_and_no_run_running(study, cli):
    """The real thing (slow: a Prefect server starts): `ethnoflow run`, killed with SIGKILL while
    its flow holds the study, takes its server along, and `runs` lists the run as interrupted."""
    import json
    import os
    import subprocess
    import sys
    import time

    import psutil

    from flows.store.lock import held

    study.write_text(study.read_text().replace("  model: minilm", "  model: fake\n  backend: kmeans")
                     .replace("  embedder: minilm", "  embedder: fake"))
    db = study.parent / "data" / "ethnoflow.duckdb"
    ethnoflow = str(Path(sys.executable).with_name("ethnoflow"))
    env = {k: v for k, v in os.environ.items() if k not in ("ETHNOFLOW_DB", "PREFECT_API_URL", "PREFECT_HOME")}
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "240"  # a busy machine starts a server slowly
    log = study.parent / "run.log"
    with open(log, "w") as out:
        run = subprocess.Popen([ethnoflow, "run"], cwd=study.parent, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while "Task run 'ingest" not in log.read_text() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)  # the run is recorded, its flow holds the study and its first stage ran
        assert held(db), log.read_text()[-3000:]
        family = psutil.Process(run.pid).children(recursive=True)
        assert any("server" in " ".join(p.cmdline()) for p in family)  # its Prefect server
    finally:
        run.kill()
        run.wait(timeout=30)
    assert all(_gone(p.pid) for p in family), "a child of the killed run is still running"
    listed = json.loads(cli("runs", "--study", study, "--json").output)
    assert listed and listed[0]["status"] == "failed" and listed[0]["error"].startswith("interrupted")


def test_forget_masks_the_account_in_saved_topic_models(con, tmp_path, monkeypatch):
    """A saved BERTopic folder keeps its vocabulary (c-TF-IDF config) and topic words as JSON."""
    import json
    import shutil

    from flows.ingest.files import ingest
    from flows.privacy.forget import forget

    monkeypatch.setenv("ETHNOFLOW_SECRET", "saved-model-secret")
    ingest(con, [ATTACKS / "withdrawal.jsonl"])
    model = tmp_path / "models" / "topics" / "run1"
    shutil.copytree(ATTACKS / "saved_topic_model", model)
    con.execute("INSERT INTO topic_runs (run_id, backend, model_id, text_rule, settings, versions, input_hash, docs, "
                "topics, outlier_share, cluster_outlier_share, model_path, started_at, embed_seconds, fit_seconds, "
                "total_seconds) VALUES ('run1', 'bertopic', 'm', 't', '{}', '{}', 'h', 6, 2, 0, 0, ?, now(), 0, 0, 0)",
                [str(model)])
    report = forget(con, "DrMayaW")
    assert report.scrubbed_models == [str(model)]
    for file in model.glob("*.json"):
        text = file.read_text().lower()
        assert "drmayaw" not in text and "4300000001" not in text, file.name
    vocab = json.loads((model / "ctfidf_config.json").read_text())["vectorizer_model"]["vocab"]
    assert sorted(vocab.values()) == [0, 1, 2, 3, 4, 5] and vocab["teaching"] == 3 and vocab["rounds"] == 1
