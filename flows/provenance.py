"""What produced a result: package versions and the code's version (shared by runs, topic
runs and reports, so every artifact records them the same way)."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

from flows import __version__

ROOT = Path(__file__).resolve().parent.parent


def package_versions(*names: str) -> dict[str, str]:
    """Installed versions of ``names`` (read from metadata, without importing them)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def _git(*args: str) -> subprocess.CompletedProcess | None:
    if not (ROOT / ".git").exists():
        return None
    try:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10,
                              env={"GIT_OPTIONAL_LOCKS": "0", "PATH": "/usr/bin:/bin:/usr/local/bin"})
    except (OSError, subprocess.SubprocessError):
        return None


def git_commit() -> str | None:
    """The commit of the checkout ethnoflow runs from, when it is one (else None)."""
    done = _git("rev-parse", "HEAD")
    commit = done.stdout.strip() if done else ""
    return commit if done and done.returncode == 0 and len(commit) == 40 else None


def code_version() -> str:
    """The git commit (with '+dirty' for uncommitted changes to tracked files), else the version."""
    commit = git_commit()
    if commit is None:
        return f"ethnoflow {__version__}"
    status = _git("status", "--porcelain", "--untracked-files=no")
    return commit + ("+dirty" if status and status.stdout.strip() else "")
