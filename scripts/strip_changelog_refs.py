"""Drop the internal ``(#N)`` tracker references from CHANGELOG.md's entries.

The project's issue numbers name threads of an internal tracker that nobody outside can open,
so a released changelog carries none (see CONTRIBUTING.md, "The changelog"). Entries may end
with ``(#N)`` while they sit under ``[Unreleased]``; run this when a release is cut:
``python scripts/strip_changelog_refs.py`` rewrites the file, ``--check`` fails if it would.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parent.parent / "CHANGELOG.md"
#: `` (#12)``, `` (#3, #6)`` before an entry's final full stop (or at the end of its line).
REF = re.compile(r"\s*\(#\d+(?:,\s*#\d+)*\)(?=\.?$)", re.MULTILINE)


def strip(text: str) -> str:
    """The changelog without tracker references; an entry's lone ``(#N).`` line is folded up."""
    text = REF.sub("", text)
    # A reference that stood alone on an entry's last line leaves "  ." behind: join it up.
    return re.sub(r"\n[ \t]+\.$", ".", text, flags=re.MULTILINE)


def main(argv: list[str]) -> int:
    old = CHANGELOG.read_text(encoding="utf-8")
    new = strip(old)
    if "--check" in argv:
        if new != old:
            print("CHANGELOG.md still has (#N) references; run scripts/strip_changelog_refs.py")
            return 1
        return 0
    CHANGELOG.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
