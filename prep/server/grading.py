"""grade_submission(id): the one function that grades a stored submission, whoever calls it.

The embedded queue's threads call it; a Celery task will (docs/server.md, "Next"). It is
idempotent: the result is stored by an UPDATE that only changes a submission not yet done,
so a second call for the same id (a re-delivered task, a restart) records nothing twice.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from .. import content, exercises, grading, sandbox
from . import db

log = logging.getLogger("prep.server")


def internal_error(slug: str, message: str, backend: str, duration_ms: int = 0) -> dict[str, Any]:
    """The result document of a grading the server could not run: not counted as an attempt."""
    return {
        "version": grading.RESULT_VERSION, "exercise": slug, "verdict": "internal-error", "score": 0.0,
        "message": message, "duration_ms": duration_ms, "backend": backend, "counts_as_attempt": False,
        "performance": None, "build": None, "tests": [],
    }


def grade_submission(engine, submission_id: int, backend, catalog: exercises.Catalog | None = None) -> bool:
    """Grade submission `submission_id` with `backend` and store its result; False when it was done already."""
    row = db.submission_row(engine, submission_id)
    if row["state"] == "done":
        return False
    db.mark_running(engine, submission_id)
    started = time.monotonic()
    name = getattr(backend, "name", "?")
    try:
        catalog = catalog or exercises.load_catalog(content.exercises_dir())
        exercise = catalog.get(row["exercise"])
        files = {n: text.encode("utf-8") for n, text in json.loads(row["files"]).items()}
        submission = grading.collect_files(exercise, files)
        result = grading.grade(exercise, submission, backend)
    except Exception as exc:  # the sandbox or the engine failed: say so, count nothing
        log.exception("grading submission %s failed", submission_id)
        message = f"the server could not grade this submission: {str(exc)[:300] or type(exc).__name__}"
        result = internal_error(row["exercise"], message, name, int((time.monotonic() - started) * 1000))
    recorded = db.finish(engine, submission_id, result)
    log.info("submission %s of %s: %s%s", submission_id, row["exercise"], result["verdict"],
             "" if recorded else " (already recorded: not stored again)")
    return recorded
