"""Import a codebook CSV into a fresh Taguette project the way Taguette 1.5.2's web view does.

Run with the Taguette environment's python (``make interop``):
    taguette_import.py CODEBOOK.csv DATABASE.sqlite3  ->  JSON on stdout

``taguette.import_codebook.list_tags`` reads the upload (what ``ImportCodebook.post`` calls);
repeated paths are disabled as the view disables them; each tag passes ``validate.tag_path``
and ``validate.description``; then it is inserted as a ``Tag`` with its ``Command.tag_add`` into
a real Taguette database and read back. Prints the tags as stored, or the error Taguette shows.
"""

import json
import sys

from taguette import database, import_codebook, validate


def main(csv_path: str, db_path: str) -> dict:
    with open(csv_path, "rb") as handle:
        try:
            tags = import_codebook.list_tags(handle)
        except import_codebook.InvalidCodebook as exc:
            return {"error": exc.message, "row": exc.row}
    seen, enabled = set(), []
    for tag in tags:
        if tag["path"] not in seen:
            validate.tag_path(tag["path"])
            validate.description(tag["description"])
            enabled.append(tag)
        seen.add(tag["path"])
    db = database.connect("sqlite:///" + db_path)()
    user = database.User(login="ethnoflow")
    project = database.Project(name="ethnoflow codebook", description="")
    db.add_all([user, project, database.ProjectMember(project=project, user=user,
                                                       privileges=database.Privileges.ADMIN)])
    db.flush()
    for tag in enabled:
        row = database.Tag(project_id=project.id, path=tag["path"], description=tag["description"])
        db.add(row)
        db.flush()
        db.add(database.Command.tag_add(user.login, row))
    db.commit()
    stored = [{"path": t.path, "description": t.description} for t in project.tags]
    return {"read": len(tags), "duplicates": len(tags) - len(enabled), "tags": stored}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2]), ensure_ascii=False))
