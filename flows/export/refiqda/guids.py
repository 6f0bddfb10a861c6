"""Stable GUIDs: uuid5 of a key that names the thing, never random, never a clock.

Keys (the same store and options give the same GUIDs in every export):

- ``user:<coder>``, ``code:<codebook id>:<code id>``, ``variable:<name>``;
- ``case:<platform>:<account>``, ``source:account:<platform>:<account>``,
  ``source:post:<platform>:<post id>``;
- ``selection:<unit>:<platform>:<post id>:<coder>`` (one selection per post and coder),
  ``coding:<unit>:<platform>:<post id>:<coder>:<code id>``.

``<account>`` is the account id, or its pseudonym in a pseudonymised export (a uuid5 of a public
id could be recomputed by anyone holding the id; a pseudonym needs the study secret).
A code's GUID depends on the codebook's id, not its content hash, so recoding with an edited
codebook keeps the codes a QDA program already knows.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/ethnoflow/ethnoflow/refi-qda")


def guid(*parts: str) -> str:
    """The GUID of the thing named by ``parts`` (joined with ':')."""
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def code_guid(codebook_id: str, code_id: str) -> str:
    return guid("code", codebook_id, code_id)


def user_guid(coder: str) -> str:
    return guid("user", coder)
