"""How a run is shown: one line per check, a summary, the JSON list, and the exit status.

Exit 0 when no check failed. Skips do not fail a run: each says why, and each has a cause the
probe cannot change (no ``--token``, a token holding every scope the read-only tools need, a
server that lists no read-only tool) or follows a failed check, which fails the run already.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from .results import Result, Status

LABELS = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.SKIP: "SKIP"}


def line(result: Result) -> str:
    if result.status is Status.FAIL:
        return f"FAIL {result.id}: saw {result.detail}; wants {result.expected}"
    return f"{LABELS[result.status]} {result.id}: {result.detail}"


def summary(results: Sequence[Result]) -> str:
    counts = Counter(result.status for result in results)
    return f"{counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped"


def as_json(results: Sequence[Result]) -> str:
    return json.dumps([result.as_dict() for result in results], indent=2)


def exit_code(results: Sequence[Result]) -> int:
    return 1 if any(result.status is Status.FAIL for result in results) else 0
