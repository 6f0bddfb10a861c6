"""The coding app in a real browser: Debian's chromium driven by Selenium through chromedriver.

Two coders code a round with the keyboard only, a third person adjudicates, the store holds exactly
what was pressed, and no page logs a console error (the round holds the hostile posts: no script
of theirs runs). One browser and one in-process server for the module; skipped, saying why,
without chromium or chromedriver (`.ci/run` installs both).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _skip_reason() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).is_file():
            return f"{path} not found: apt-get install {package} (.ci/run does)"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A round of 4 posts (2 hostile) served in this process, and the people's tokens."""
    from flows.coding.app import work
    from flows.coding.app.access import Access
    from flows.coding.app.server import Settings, Store, create_app, running
    from flows.coding.codebook import resolve_codebook
    from flows.coding.rounds import sample
    from flows.ingest.files import ingest
    from flows.sample.generate import generate
    from flows.store.db import connect

    folder = tmp_path_factory.mktemp("code_app_browser")
    con = connect(folder / "study.duckdb")
    ingest(con, [FIXTURES / "report" / "hostile.jsonl", Path(generate(folder / "sample", tweets=500)["corpus"])])
    codebook = resolve_codebook("chretien2015")
    drawn = sample(con, codebook, 4, folder / "round.csv", seed=5, strata=["kind"])
    con.execute("UPDATE coding_round_posts SET post_id = CASE position WHEN 0 THEN '1400000000000000001' "
                "ELSE '1400000000000000002' END, stratum = 'hostile' WHERE round_id = ? AND position < 2",
                [drawn["round_id"]])
    rnd = work.load_round(con, drawn["round_id"], codebook, ["ana", "ben"], "carla")
    con.close()
    access, tokens = Access.issue(["ana", "ben"], "carla")
    app = create_app(Settings(rnd, Store(folder / "study.duckdb"), access, n_boot=20))
    with running(app) as url:
        yield {"url": url, "tokens": tokens, "round": rnd, "db": folder / "study.duckdb"}


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--disable-extensions",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


class Person:
    """One person at the keyboard: signs in with their link and presses keys."""

    def __init__(self, driver, site, name: str) -> None:
        self.driver, self.site = driver, site
        self.log: list[dict] = []
        driver.delete_all_cookies()
        from selenium.webdriver.support.ui import WebDriverWait

        driver.get(f"{site['url']}/login#{site['tokens'][name]}")
        WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)  # the page signed in
        self.wait_for("main")
        assert "#" not in driver.current_url  # the token left the address bar

    def wait_for(self, css: str):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def keys(self, keys: str, *, submits: bool = False) -> None:
        """Press ``keys`` on the page (not in a field); with ``submits``, wait for the next page."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        old = self.driver.find_element(By.TAG_NAME, "main")
        ActionChains(self.driver).send_keys(keys).perform()
        if submits:
            WebDriverWait(self.driver, 30).until(ec.staleness_of(old))
            self.wait_for("main")
        self.log += self.driver.get_log("browser")

    def text(self, css: str = "main") -> str:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def checked(self) -> set[str]:
        from selenium.webdriver.common.by import By

        return {box.get_attribute("value") for box in self.driver.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
                if box.is_selected()}


def _codes(site, coder: str) -> dict[str, list[str]]:
    from flows.store.db import connect

    con = connect(site["db"], read_only=True)  # the app opens the store per request; between requests it is free
    try:
        rows = con.execute("""SELECT post_id, list(code_id ORDER BY code_id) FILTER (WHERE value = 1)
            FROM code_assignments WHERE coder = ? GROUP BY post_id""", [coder]).fetchall()
    finally:
        con.close()
    return {p: sorted(c or []) for p, c in rows}


def test_two_coders_code_with_the_keyboard_and_a_third_adjudicates(browser, site):
    from selenium.webdriver.common.keys import Keys

    posts = [p for _, p, _ in site["round"].posts]
    ana = Person(browser, site, "ana")
    assert "Post 1 of 4" in ana.text() and "0 of 4 done" in ana.text(".bar")
    assert "<script>alert(1)</script>" in ana.text(".post.current")  # shown as text, not run
    ana.keys("1")
    assert ana.checked() == {"information"}  # a key toggles its code before anything is saved
    ana.keys("n", submits=True)  # information
    ana.keys("34m")
    ana.keys("anas-memo: not a <b>peer</b> call" + Keys.ESCAPE)
    ana.keys("p", submits=True)  # back to post 1 (post 2 is saved first: it was changed)
    assert ana.checked() == {"information"} and "saved" in ana.text(".position")
    ana.keys("s", submits=True)  # forward without saving
    assert ana.checked() == {"perspectives", "community"} and "1 of 4 done" not in ana.text(".bar")
    ana.keys(Keys.ENTER, submits=True)  # Enter is n: unchanged, so nothing is saved; on to the next to do
    assert "Post 3 of 4" in ana.text()
    ana.keys("s", submits=True)  # post 3 skipped: still to do
    ana.keys("u", submits=True)  # post 4: not available
    assert "Post 3 of 4" in ana.text() and "to do" in ana.text(".position")  # back at the skipped post
    ana.keys("12n", submits=True)
    assert "You have coded every post of this round" in ana.text()

    ben = Person(browser, site, "ben")
    assert ben.checked() == set()  # blind: none of ana's codes
    ben.keys("1n", submits=True)
    assert ben.checked() == set() and "anas-memo" not in browser.page_source  # nor her memo
    ben.keys("4n", submits=True)
    ben.keys("2n", submits=True)
    ben.keys("7n", submits=True)
    assert "You have coded every post of this round" in ben.text()

    assert _codes(site, "ana") == {posts[0]: ["information"], posts[1]: ["community", "perspectives"],
                                   posts[2]: ["collaboration", "information"]}
    assert _codes(site, "ben") == {posts[0]: ["information"], posts[1]: ["community"], posts[2]: ["collaboration"],
                                   posts[3]: ["equalization"]}

    carla = Person(browser, site, "carla")
    assert "Disagreement 1 of 3" in carla.text() and "anas-memo: not a <b>peer</b> call" in carla.text(".memos")
    assert carla.checked() == {"community"}  # the codes both coders gave are proposed
    carla.keys("3n", submits=True)  # post 2: perspectives too
    assert "Disagreement 2 of 3" in carla.text() and carla.checked() == {"collaboration"}
    carla.keys("n", submits=True)  # post 3: collaboration only
    assert "Disagreement 3 of 3" in carla.text()  # post 4: ana could not see it, ben coded it
    carla.keys("7n", submits=True)
    assert "Every disagreement is resolved" in carla.text() and "3 of 3 disagreements resolved" in carla.text(".bar")
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "accept-agreed").click()
    carla.wait_for("#agreement")
    carla.log += browser.get_log("browser")
    assert "accept-agreed" not in browser.page_source
    assert _codes(site, "consensus") == {posts[0]: ["information"], posts[1]: ["community", "perspectives"],
                                         posts[2]: ["collaboration"], posts[3]: ["equalization"]}
    errors = [e for person in (ana, ben, carla) for e in person.log if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
