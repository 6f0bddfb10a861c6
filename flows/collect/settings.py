"""study.yaml's `collect:` section: what to fetch from Bluesky and the X API, and where from.

Secrets are never written here: the study names the environment variables that hold them
(``app_password_env``, ``bearer_token_env``), read only when a collection runs.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_BLUESKY_API = "ETHNOFLOW_BLUESKY_API"
ENV_X_API = "ETHNOFLOW_X_API"
BLUESKY_PUBLIC = "https://public.api.bsky.app"  # the AppView: timelines, threads, posts (no login)
BLUESKY_LOGIN = "https://bsky.social"  # the entryway: app-password sessions, searchPosts
PLC_DIRECTORY = "https://plc.directory"  # where a did:plc's document names its repository host
X_API = "https://api.x.com"


class BlueskyCollect(BaseModel):
    """Bluesky: accounts (handles or DIDs) and searchPosts queries."""

    model_config = ConfigDict(extra="forbid")
    accounts: list[str] = Field(default_factory=list, description="handles (resolved to DIDs, which are "
                                "stored) or DIDs whose posts are collected")
    queries: list[str] = Field(default_factory=list, description="searchPosts queries: a hashtag (#MedSky) "
                               "or keywords; search needs a login (handle_env, app_password_env)")
    handle_env: str = Field("BLUESKY_HANDLE", description="environment variable holding the login handle")
    app_password_env: str = Field("BLUESKY_APP_PASSWORD", description="environment variable holding an app "
                                  "password (Settings > Privacy and security > App passwords); never stored")
    api_base: str | None = Field(None, description="one base URL for every call (a proxy or a replay server); "
                                 f"default: ${ENV_BLUESKY_API}, else the public AppView and each account's host")
    threads: bool = Field(True, description="fetch the thread (getPostThread) above replies the study's "
                          "posts make to posts the store lacks")
    recheck_days: float = Field(7, ge=0, description="walk each account's whole repository (listRecords) this "
                                "often, to find deleted posts and posts the author feed skipped; 0: every run")
    page_size: int = Field(100, ge=1, le=100, description="items per page")

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        return [a.strip().lstrip("@") for a in value if a.strip()]


class XCollect(BaseModel):
    """The X API v2: accounts (usernames) and search queries."""

    model_config = ConfigDict(extra="forbid")
    accounts: list[str] = Field(default_factory=list, description="usernames whose timelines are collected")
    queries: list[str] = Field(default_factory=list, description="search queries (X's query syntax)")
    search: str = Field("recent", pattern="^(recent|all)$", description="recent (last 7 days) or all "
                        "(full archive; needs an access level that has it)")
    bearer_token_env: str = Field("X_BEARER_TOKEN", description="environment variable holding the bearer "
                                  "token; never stored")
    api_base: str | None = Field(None, description=f"base URL (default: ${ENV_X_API}, else {X_API})")
    compliance: list[str] = Field(default_factory=list, description="compliance job results (JSONL files X "
                                  "returns for a batch compliance job) to honour: deleted posts leave the corpus")
    page_size: int = Field(100, ge=10, le=100, description="posts per page (10-100)")

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        return [a.strip().lstrip("@") for a in value if a.strip()]


class CollectSettings(BaseModel):
    """What each run collects before it ingests (``ethnoflow collect`` runs it alone)."""

    model_config = ConfigDict(extra="forbid")
    bluesky: BlueskyCollect | None = None
    x: XCollect | None = None
    since: date | None = Field(None, description="the study window's start (default: inclusion.since)")
    until: date | None = Field(None, description="the study window's end (default: inclusion.until)")
    folder: str = Field("data/collected", description="where the fetched pages are kept, as collected")
