"""The playbooks directory on disk -> `{filename: text}` -> a validated `PlaybookSet`.

The only file IO of playbook loading lives here, so the schema stays pure and testable from strings and the
database sync (`playbooks.py`) never sees a half-read directory: unreadable files, a missing directory and
a missing registry are problems reported together with the YAML ones, and nothing is loaded.
"""

from __future__ import annotations

from pathlib import Path

from desk.domain.playbook import PlaybookSet
from desk.domain.playbook_schema import parse_documents
from desk.errors import PlaybookInvalid, Problem

SUFFIXES = (".yaml", ".yml")


def read_directory(path: Path) -> dict[str, str]:
    """Every `*.yaml` and `*.yml` file, sorted by name. Hidden files (editor locks, `.#standard.yaml`)
    are skipped: they are not the operator's playbooks."""
    if not path.is_dir():
        reason = "is not a directory" if path.exists() else "no such directory"
        raise PlaybookInvalid([Problem(str(path), "", reason)])
    documents: dict[str, str] = {}
    problems: list[Problem] = []
    for file in sorted(path.iterdir()):
        if file.suffix not in SUFFIXES or file.name.startswith(".") or not file.is_file():
            continue
        try:
            documents[file.name] = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            reason = f"is not UTF-8 text ({error.reason} at byte {error.start})"
            problems.append(Problem(file.name, "", reason))
        except OSError as error:
            problems.append(Problem(file.name, "", f"cannot be read: {error.strerror or error}"))
    if problems:
        raise PlaybookInvalid(problems)
    return documents


def load_directory(path: Path) -> PlaybookSet:
    """The whole directory validated; raises PlaybookInvalid with every problem of every file."""
    return parse_documents(read_directory(Path(path)), source=str(path))
