"""The coding app's web server: Starlette routes over :mod:`flows.coding.app.work`.

Pages are rendered on the server (Jinja2, every value escaped); ``static/app.js`` adds the
keyboard shortcuts and is the only script (the Content-Security-Policy allows no other). A
person signs in by opening their link, ``/login#<token>``: the token travels in the fragment,
which browsers never send in a request line, so it reaches no access log; the page posts it
once and the server answers with an HttpOnly, SameSite=Strict cookie. Every request is then
identified from that cookie (:class:`flows.coding.app.access.Access`), every write needs the
session's CSRF token, and the identity, never a request parameter, says whose codes are read or
written. The store is opened per request (read-only for pages, under the study's write lock for
saves), so other ethnoflow commands can use the study between requests.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.coding.app.access import Access
from flows.coding.app.work import Round

HERE = Path(__file__).resolve().parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
log = logging.getLogger("ethnoflow.code_app")


class Store:
    """The study's database, opened for one request at a time (reads read-only, writes under the
    study's lock: the store's one writer)."""

    def __init__(self, path: Path | str, *, wait: float = 15.0) -> None:
        self.path, self.wait = Path(path), wait
        self._lock = threading.Lock()

    @contextmanager
    def reading(self) -> Iterator[Any]:
        from flows.store.db import connect

        with self._lock:
            con = connect(self.path, read_only=True, wait=self.wait)
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def writing(self) -> Iterator[Any]:
        from flows.store.db import connect
        from flows.store.lock import study_lock

        with self._lock, study_lock(self.path, wait=self.wait):
            con = connect(self.path, wait=self.wait)
            try:
                yield con
            finally:
                con.close()


@dataclass
class Settings:
    """What one app run serves."""

    round: Round
    store: Store
    access: Access
    n_boot: int = 1000
    seed: int = 0
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")


def create_app(settings: Settings):
    """The Starlette application for one round."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from flows.coding.app import routes

    handlers = routes.Handlers(settings)
    app = Starlette(routes=[
        Route("/", handlers.home), Route("/login", handlers.login_page, methods=["GET"]),
        Route("/login", handlers.login, methods=["POST"]), Route("/logout", handlers.logout, methods=["POST"]),
        Route("/code", handlers.code_page, methods=["GET"]), Route("/code", handlers.code_save, methods=["POST"]),
        Route("/review", handlers.review_page, methods=["GET"]),
        Route("/review", handlers.review_save, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ], middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts)),
                   Middleware(_Headers)], exception_handlers={404: handlers.not_found, 405: handlers.not_found})
    return app


class _Headers:
    """Security headers on every response (a pure ASGI middleware)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k.lower().encode(), v.encode()) for k, v in HEADERS.items() if k.lower().encode() not in names]
            await send(message)

        await self.app(scope, receive, sending)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening socket (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    return sock


def server(app, sock: socket.socket):
    """A uvicorn server for ``app`` on ``sock``, with no access log (no URL is ever logged)."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, log_config=None, lifespan="off",
                            server_header=False, date_header=False)
    return uvicorn.Server(config)


@contextmanager
def running(app, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` in a thread of this process; yields its base URL (for tests and screenshots)."""
    sock = listening_socket(host, port)
    srv = server(app, sock)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not srv.started and thread.is_alive():
            threading.Event().wait(0.02)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()
