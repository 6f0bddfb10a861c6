"""Take the README's screenshots of the coding app (docs/code-app-coding.png, docs/code-app-review.png).

On the sample study (`ethnoflow init --sample`, ingested, roles by rules): a round of 40 posts
stratified by author and month, coded by two simulated coders (the sample's ground truth with a
few cells flipped, seeded), then the coding screen of a reply and the adjudication screen, each
taken by Debian's chromium through Selenium from the app served in this process.

    .venv/bin/python docs/code_app_screenshots.py
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def build(folder: Path):
    """The sample study with a round coded by ana and ben; returns (db, round)."""
    from flows.coding.app import work
    from flows.coding.codebook import resolve_codebook
    from flows.coding.rounds import sample
    from flows.ingest.files import ingest
    from flows.people.roles import assign_roles
    from flows.store.db import connect
    from flows.study.scaffold import create_study

    create_study(folder, title="Sample study", sample=True)
    db = folder / "data" / "ethnoflow.duckdb"
    con = connect(db)
    ingest(con, sorted((folder / "data" / "inbox").glob("*.jsonl")))
    assign_roles(con, None)
    codebook = resolve_codebook("chretien2015")
    drawn = sample(con, codebook, 40, folder / "round1.xlsx", strata=["author", "month"], seed=7)
    rnd = work.load_round(con, drawn["round_id"], codebook, ["ana", "ben"], "carla")
    truth = json.loads((folder / "data" / "sample" / "truth.json").read_text(encoding="utf-8"))["codes"]
    replies = [i for i, (p, q, _) in enumerate(rnd.posts) if work.context(con, p, q)["parent"] is not None]
    left = replies[0] if replies else 0  # ana has this reply still to do in the screenshot
    for coder, seed in (("ana", 1), ("ben", 2)):
        rng = random.Random(seed)
        for i, (platform, post_id, _) in enumerate(rnd.posts):
            if coder == "ana" and i == left:
                continue
            true = set(truth.get(post_id, {}).get("chretien2015", []))
            flipped = [c for c in rnd.codes if rng.random() < 0.025]
            codes = {c for c in rnd.codes if (c in true) != (c in flipped)}
            memo = f"Unsure about {flipped[0].replace('_', ' ')} here." if flipped else ""
            work.save(con, rnd, coder, platform, post_id, codes, memo)
    con.close()
    return db, rnd, left


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from flows.coding.app.access import Access
    from flows.coding.app.server import Settings, Store, create_app, running

    with tempfile.TemporaryDirectory() as tmp:
        db, rnd, left = build(Path(tmp) / "sample-study")
        access, tokens = Access.issue(["ana", "ben"], "carla")
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,840", "--hide-scrollbars"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            with running(create_app(Settings(rnd, Store(db), access, n_boot=1000))) as url:
                driver.get(f"{url}/login#{tokens['ana']}")
                WebDriverWait(driver, 30).until(lambda d: "/code" in d.current_url)
                driver.get(f"{url}/code")  # the post ana has still to do
                ActionChains(driver).send_keys("4m").perform()  # a code, then the memo field
                ActionChains(driver).send_keys("Encouragement from a peer, not advice." + Keys.ESCAPE).perform()
                driver.save_screenshot(str(DOCS / "code-app-coding.png"))
                ActionChains(driver).send_keys("n").perform()  # saved: the round is finished
                WebDriverWait(driver, 30).until(lambda d: "every post" in d.page_source)
                driver.delete_all_cookies()
                driver.get(f"{url}/login#{tokens['carla']}")
                WebDriverWait(driver, 120).until(lambda d: "/review" in d.current_url)
                driver.save_screenshot(str(DOCS / "code-app-review.png"))
        finally:
            driver.quit()
    print("wrote docs/code-app-coding.png and docs/code-app-review.png", file=sys.stderr)


if __name__ == "__main__":
    main()
