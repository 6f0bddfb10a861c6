"""The AT Protocol calls a Bluesky collection makes, through the official Python SDK (`atproto`).

The SDK's client does the sessions (an app-password login, its session string reused and
refreshed) and validates each call's parameters against the lexicon; the pages come back as
the JSON the server sent, which is what the store keeps. The session string is a secret: it is
saved beside the study secret (``data/.ethnoflow_bluesky_session``, 0600), never in the store.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flows.collect.limits import MAX_RETRIES, Waiter
from flows.collect.settings import BLUESKY_LOGIN, BLUESKY_PUBLIC, ENV_BLUESKY_API, PLC_DIRECTORY, BlueskyCollect
from flows.errors import UserError

SESSION_FILE = ".ethnoflow_bluesky_session"


class CallError(Exception):
    """A call the server refused: its HTTP status, the XRPC error name and message."""

    def __init__(self, nsid: str, status: int, error: str | None, message: str | None):
        super().__init__(f"{nsid}: {status} {error or ''} {message or ''}".strip())
        self.nsid, self.status, self.error, self.message = nsid, status, error, message


class LoginError(UserError):
    """Search needs a login that is missing or was refused."""


def _params_model(nsid: str):
    """The SDK's parameter model of a query: app.bsky.feed.getAuthorFeed -> AppBskyFeedGetAuthorFeed.Params."""
    from atproto_client import models

    name = "".join(part[:1].upper() + part[1:] for part in nsid.split("."))
    return getattr(models, name).Params


class BlueskyAPI:
    """Raw pages from the AppView (public reads), the entryway (search, logged in) and repositories.

    Args:
        settings: the study's ``collect: bluesky:`` section.
        secrets_dir: the study's ``data/`` folder, where the session string is kept.
        waiter: rate-limit waits (injectable clock and sleeper).
        transport: an httpx transport for every call (tests pass ``httpx.MockTransport``).
        env: where the login's handle and app password are read from.
    """

    def __init__(self, settings: BlueskyCollect, *, secrets_dir: Path, waiter: Waiter | None = None,
                 transport=None, env: Mapping[str, str] | None = None):
        self.settings, self.secrets_dir = settings, Path(secrets_dir)
        self.env = os.environ if env is None else env
        self.waiter = waiter or Waiter()
        self.transport = transport
        self.base = (settings.api_base or self.env.get(ENV_BLUESKY_API) or "").rstrip("/") or None
        self._clients: dict[str, object] = {}
        self._auth = None
        self._hosts: dict[str, str] = {}
        self.calls = 0

    def _new_client(self, base: str):
        from atproto import Client
        from atproto_client.request import Request

        kwargs = {"timeout": 60.0} | ({"transport": self.transport} if self.transport is not None else {})
        return Client(base_url=base, request=Request(**kwargs))

    def _client(self, base: str):
        if base not in self._clients:
            self._clients[base] = self._new_client(base)
        return self._clients[base]

    def query(self, nsid: str, *, auth: bool = False, host: str | None = None, **params) -> tuple[dict, dict]:
        """One XRPC query: (the page as JSON, the response headers). 429s wait and retry."""
        from atproto_client import exceptions

        client = self._login() if auth else self._client(host or self.base or BLUESKY_PUBLIC)
        model = _params_model(nsid)(**{k: v for k, v in params.items() if v is not None})
        for attempt in range(MAX_RETRIES):
            self.waiter.before_call(nsid)
            self.calls += 1
            try:
                response = client.invoke_query(nsid, params=model)
            except exceptions.RateLimitExceededError as exc:
                self.waiter.rate_limited(exc.response.headers if exc.response else {}, nsid)
                continue
            except exceptions.RequestErrorBase as exc:
                status = getattr(exc.response, "status_code", None)
                if attempt + 1 < MAX_RETRIES and (status is None or status >= 500):  # transient: try again
                    self.waiter.backoff(attempt, nsid)
                    continue
                raise _call_error(nsid, exc) from None
            self.waiter.after_response(response.headers)
            content = response.content
            return (content if isinstance(content, dict) else {}), dict(response.headers)
        raise CallError(nsid, 429, "RateLimitExceeded", f"still refused after {MAX_RETRIES} waits")

    def repo_host(self, did: str) -> str | None:
        """Where an account's repository lives (listRecords is served there): the base URL when
        one is set, else the PDS its DID document names."""
        if self.base:
            return self.base
        if did not in self._hosts:
            self._hosts[did] = _pds_of(did, self.transport) or BLUESKY_LOGIN
        return self._hosts[did]

    # --- the app-password session, for searchPosts -------------------------------------------
    def _session_path(self) -> Path:
        return self.secrets_dir / SESSION_FILE

    def _login(self):
        if self._auth is not None:
            return self._auth
        from atproto_client import exceptions
        from atproto_client.client.session import SessionEvent

        client = self._new_client(self.base or BLUESKY_LOGIN)
        client.on_session_change(lambda event, session: self._save_session(client)
                                 if event in (SessionEvent.CREATE, SessionEvent.REFRESH) else None)
        saved = self._read_session()
        if saved:
            try:
                client.login(session_string=saved, fetch_bsky_profile=False)
                self._auth = client
                return client
            except (exceptions.AtProtocolError, ValueError):
                pass  # expired or revoked: log in again with the app password
        handle, password = self.env.get(self.settings.handle_env), self.env.get(self.settings.app_password_env)
        if not handle or not password:
            raise LoginError(f"Bluesky search needs a login: set ${self.settings.handle_env} to the account's "
                             f"handle and ${self.settings.app_password_env} to an app password (Settings > "
                             "Privacy and security > App passwords); or remove collect: bluesky: queries")
        try:
            client.login(handle, password, fetch_bsky_profile=False)
        except exceptions.RequestErrorBase as exc:
            error = _call_error("com.atproto.server.createSession", exc)
            raise LoginError(f"Bluesky refused the login of ${self.settings.handle_env} ({error.status} "
                             f"{error.error or ''}): check the handle and the app password in "
                             f"${self.settings.app_password_env}") from None
        self._auth = client
        return client

    def _read_session(self) -> str | None:
        path = self._session_path()
        try:
            return path.read_text(encoding="ascii").strip() or None
        except (OSError, UnicodeDecodeError):
            return None

    def _save_session(self, client) -> None:
        """The session string, written 0600 beside the study secret (replaced atomically)."""
        path = self._session_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(client.export_session_string() + "\n")
        os.replace(tmp, path)


def _call_error(nsid: str, exc) -> CallError:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    error = getattr(content, "error", None) or (content.get("error") if isinstance(content, dict) else None)
    message = getattr(content, "message", None) or (content.get("message") if isinstance(content, dict) else None)
    return CallError(nsid, getattr(response, "status_code", 0) or 0, error, message)


def _pds_of(did: str, transport=None) -> str | None:
    """The PDS endpoint in a DID document (did:plc from the PLC directory, did:web from its domain)."""
    import httpx

    if did.startswith("did:plc:"):
        url = f"{PLC_DIRECTORY}/{did}"
    elif did.startswith("did:web:"):
        url = f"https://{did[8:]}/.well-known/did.json"
    else:
        return None
    try:
        with httpx.Client(timeout=30.0, transport=transport) as http:
            doc = http.get(url).json()
    except (httpx.HTTPError, ValueError):
        return None
    for service in doc.get("service") or []:
        if service.get("id", "").endswith("#atproto_pds") and service.get("serviceEndpoint"):
            return str(service["serviceEndpoint"]).rstrip("/")
    return None
