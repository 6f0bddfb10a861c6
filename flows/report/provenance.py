"""What made a report: software versions, code version and the inputs' content hashes.

Nothing here reads the clock: two reports built from the same store with the same software
carry the same provenance, so `ethnoflow report --verify` can compare them byte for byte.
"""

from __future__ import annotations

import platform
from typing import Any

from flows.provenance import PACKAGES, digest, package_versions
from flows.report.reads import rows, scalar

REPORT_FORMAT = "ethnoflow-report/1"


def software() -> dict[str, str]:
    """Python and the installed version of each package in :data:`PACKAGES`."""
    return {"python": platform.python_version(), **package_versions(*PACKAGES)}


def inputs(con, redact=None) -> dict[str, Any]:
    """Content hashes of everything the report was built from (sources, codebooks, runs, selection).

    ``redact`` is applied to file names (a file can be named after an account).
    """
    sources = rows(con, "SELECT sha256, name, format, parser_version, records_read FROM report_sources "
                        "ORDER BY sha256")
    for source in sources:
        source["name"] = redact(source["name"]) if redact else source["name"]
    codebooks = rows(con, "SELECT codebook_id, version, content_hash FROM report_codebooks ORDER BY codebook_id")
    runs = rows(con, "SELECT run_id, input_hash, model_id, backend FROM report_topic_runs ORDER BY run_id")
    criteria = scalar(con, "SELECT min(criteria_sha256) FROM report_candidates")
    return {
        "sources": {"count": len(sources), "sha256_of_list": digest([s["sha256"] for s in sources]),
                    "files": sources[:1000]},
        "codebooks": codebooks,
        "topic_runs": runs,
        "superuser_criteria_sha256": criteria,
        "batches": rows(con, "SELECT batch_id, coder, codebook_id, method FROM report_batches "
                             "ORDER BY codebook_id, coder, batch_id"),
    }
