"""Open a report in headless Chromium: console errors, network requests and a screenshot.

Drives Debian's ``chromium`` through the Chrome DevTools Protocol over a websocket
(``websockets``, already installed with Prefect), so no browser download and no Playwright.
Used by the report tests and to make the README's screenshot (``docs/report.png``).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-allow-origins=*")


def find_chromium() -> str | None:
    """The Chromium executable: ``$CHROMIUM``, else the usual Debian paths, else None."""
    candidates = [os.environ.get("CHROMIUM", ""), *CHROMIUM_PATHS]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@dataclass
class PageLoad:
    """What happened while a page loaded."""

    console_errors: list[str] = field(default_factory=list)  # console.error, exceptions, CSP and load errors
    requests: list[str] = field(default_factory=list)        # every URL requested, the page itself included
    facts: dict[str, Any] = field(default_factory=dict)      # results of the probes evaluated after load

    def network_requests(self, page_url: str) -> list[str]:
        """Requests other than the page itself (and inline data: URLs)."""
        return [u for u in self.requests if u != page_url and not u.startswith("data:")]


class Chromium:
    """A headless Chromium with one tab, driven over CDP; use as a context manager."""

    def __init__(self, executable: str, *, width: int = 1280, height: int = 900, timeout: float = 60) -> None:
        self.executable, self.width, self.height, self.timeout = executable, width, height, timeout
        self._ids = itertools.count(1)
        self._events: list[dict] = []

    def __enter__(self) -> Chromium:
        from websockets.sync.client import connect

        self._profile = tempfile.mkdtemp(prefix="ethnoflow-chromium-")
        self._proc = subprocess.Popen([self.executable, *FLAGS, f"--user-data-dir={self._profile}",
                                       f"--window-size={self.width},{self.height}", "about:blank"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port, path = self._devtools_address()
        self._ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=self.timeout)
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self._call(f"{domain}.enable", session=True)
        self._call("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                          "deviceScaleFactor": 1, "mobile": False}, session=True)
        return self

    def __exit__(self, *exc) -> None:
        with suppress(Exception):  # the browser may already be gone; closing is best effort
            self._call("Browser.close")
        try:
            self._ws.close()
        finally:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            shutil.rmtree(self._profile, ignore_errors=True)

    def _devtools_address(self) -> tuple[str, str]:
        marker = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if marker.is_file():
                lines = marker.read_text().split()
                if len(lines) >= 2:
                    return lines[0], lines[1]
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.executable} exited with code {self._proc.returncode} before listening")
            time.sleep(0.05)
        raise RuntimeError(f"{self.executable} did not open its DevTools port within {self.timeout:.0f} s")

    def _call(self, method: str, params: dict | None = None, *, session: bool = False) -> dict:
        msg_id = next(self._ids)
        message = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while True:
            reply = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self._events.append(reply)

    def _wait_for(self, method: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == method for e in self._events):
            self._events.append(json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic()))))

    def load(self, url: str, probes: dict[str, str] | None = None) -> PageLoad:
        """Navigate to ``url``, wait for the load event, and report what happened.

        Args:
            probes: name -> JavaScript expression evaluated in the page after load (through
                DevTools, which the page's Content-Security-Policy does not restrict).
        """
        self._events.clear()
        self._call("Page.navigate", {"url": url}, session=True)
        self._wait_for("Page.loadEventFired")
        result = PageLoad()
        for name, expression in (probes or {}).items():
            found = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
            result.facts[name] = found.get("result", {}).get("value")
        time.sleep(0.2)  # late console messages (e.g. CSP reports) arrive just after load
        self._call("Runtime.evaluate", {"expression": "1"}, session=True)
        for event in self._events:
            _collect(event, result)
        return result

    def screenshot(self, path: Path, *, height: int | None = None, top: int = 0) -> Path:
        """Save a PNG of ``height`` pixels of the page from ``top`` (default: the whole page)."""
        size = self._call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        clip = {"x": 0, "y": top, "width": self.width,
                "height": min(height or size["height"], size["height"] - top), "scale": 1}
        shot = self._call("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True},
                          session=True)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(base64.b64decode(shot["data"]))
        return Path(path)


def _collect(event: dict, result: PageLoad) -> None:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        result.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
    elif method == "Runtime.exceptionThrown":
        result.console_errors.append(params["exceptionDetails"].get("text", "exception"))
    elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
        result.console_errors.append(params["entry"].get("text", ""))
    elif method == "Network.requestWillBeSent":
        result.requests.append(params["request"]["url"])
    elif method == "Network.loadingFailed":
        result.console_errors.append(f"failed to load: {params.get('errorText')}")


def check_report(html: Path, screenshot: Path | None = None, *, executable: str | None = None,
                 screenshot_height: int | None = None) -> PageLoad:
    """Load ``report.html`` in headless Chromium; optionally save a screenshot of it."""
    executable = executable or find_chromium()
    if executable is None:
        raise FileNotFoundError("no Chromium found; install Debian's `chromium` or set $CHROMIUM")
    url = Path(html).resolve().as_uri()
    probes = {"sections": "document.querySelectorAll('main > section').length",
              "scripts": "document.querySelectorAll('script').length",
              "images": "document.querySelectorAll('img, iframe, object, embed').length",
              "svgs": "document.querySelectorAll('figure svg').length",
              "text": "document.body.innerText"}
    with Chromium(executable) as browser:
        loaded = browser.load(url, probes)
        if screenshot is not None:
            browser.screenshot(screenshot, height=screenshot_height)
    return loaded


def main(argv: list[str] | None = None) -> int:
    """``python -m flows.report.browser REPORT.html [SCREENSHOT.png] [--height PX]``: check, screenshot."""
    import argparse

    parser = argparse.ArgumentParser(description="Open a report in headless Chromium and check it.")
    parser.add_argument("html", type=Path)
    parser.add_argument("screenshot", type=Path, nargs="?")
    parser.add_argument("--height", type=int, default=None, help="pixels of the page to capture (default: all)")
    args = parser.parse_args(argv)
    loaded = check_report(args.html, args.screenshot, screenshot_height=args.height)
    requests = loaded.network_requests(args.html.resolve().as_uri())
    print(json.dumps({"console_errors": loaded.console_errors, "network_requests": requests,
                      "sections": loaded.facts.get("sections"), "figures": loaded.facts.get("svgs")}))
    return 1 if loaded.console_errors or requests else 0


if __name__ == "__main__":
    raise SystemExit(main())
