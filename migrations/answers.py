"""Carry a project's recorded answers across a renamed or removed question, for `copier update`.

`copier.yml` runs it in its `_migrations`, before the update, in the project's directory:

    _migrations:
      - version: v0.3.0
        when: "{{ _stage == 'before' }}"
        command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/answers.py", "rename", "old", "new"]

`rename OLD NEW` gives the answer recorded under OLD to NEW (so the update does not replace the
user's answer with NEW's default); `remove NAME` drops an answer whose question is gone. Only the
project's `.copier-answers.yml` changes; an answer that is not there is left alone, so running a
migration twice changes nothing. Standard library only: it runs on the Python that runs Copier.
"""

from __future__ import annotations

import sys
from pathlib import Path

ANSWERS = Path(".copier-answers.yml")
USAGE = "usage: answers.py rename OLD NEW | answers.py remove NAME"


def entries(lines: list[str]) -> list[tuple[str, int, int]]:
    """Top-level keys of the answers file with their line spans (a list value spans several lines)."""
    found: list[tuple[str, int, int]] = []
    for number, line in enumerate(lines):
        if line and not line[0].isspace() and not line.startswith(("#", "-")) and ":" in line:
            if found:
                key, start, _ = found[-1]
                found[-1] = (key, start, number)
            found.append((line.split(":", 1)[0].strip(), number, len(lines)))
    return found


def migrate(text: str, action: str, names: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    spans = {key: (start, end) for key, start, end in entries(lines)}
    if action == "rename" and len(names) == 2:
        old, new = names
        if old in spans and new not in spans:
            start, _ = spans[old]
            lines[start] = new + lines[start][len(old) :]
    elif action == "remove" and len(names) == 1:
        if names[0] in spans:
            start, end = spans[names[0]]
            del lines[start:end]
    else:
        raise SystemExit(USAGE)
    return "".join(lines)


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(USAGE)
    if not ANSWERS.exists():
        raise SystemExit(f"answers.py: no {ANSWERS} in {Path.cwd()}; run copier update from the project's root")
    ANSWERS.write_text(migrate(ANSWERS.read_text(), argv[0], argv[1:]))


if __name__ == "__main__":
    main(sys.argv[1:])
