"""The fast "already at head" check in app.db.migrate reads revisions from file names: hold the scripts to it."""

import re

from app.db.migrate import VERSIONS_DIR, head_revision, script_head


def test_every_script_is_named_after_its_revision_and_the_newest_name_is_the_head() -> None:
    for path in sorted(VERSIONS_DIR.glob("[0-9]*.py")):
        found = re.search(r'^revision: str = "([^"]+)"', path.read_text(encoding="utf-8"), re.M)
        assert found is not None and found.group(1) == path.stem, f"{path.name}: revision must be {path.stem!r}"
    assert head_revision() == script_head()
