"""What produced a result, recorded the same way by every artifact (runs, topic runs, codes,
reports, exports): content digests, package versions and the code's version."""

from __future__ import annotations

import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from flows import __version__

ROOT = Path(__file__).resolve().parent.parent
# Packages whose versions can change a result: the store, statistics, models, the pipeline.
PACKAGES = ("ethnoflow", "duckdb", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "statsmodels",
            "krippendorff", "sentence-transformers", "torch", "bertopic", "umap-learn", "hdbscan", "model2vec",
            "onnxruntime", "tokenizers", "networkx", "pydantic", "prefect")


def canonical(value: Any) -> str:
    """A JSON-able value as canonical JSON: sorted keys, no insignificant spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def digest(value: Any) -> str:
    """sha256 (hex) of :func:`canonical`: the one content hash of settings, keys and inputs."""
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


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
