"""The API of hidden tests (see docs/grading.md, "Writing hidden tests").

    def test_exit_status(learner):
        result = learner.call("run", ["sh", "-c", "exit 3"])
        assert result.returncode == 3, f"`sh -c 'exit 3'` must give returncode 3, got {result.returncode}"

Only the names below are the API; everything else in this package may change.
"""

from .client import (
    PIPE,
    Completed,
    HarnessError,
    Learner,
    LearnerBuildError,
    LearnerDied,
    LearnerError,
    LearnerImportError,
    LearnerTimeout,
    Pending,
    ProcessInfo,
    Program,
    Remote,
    ThreadInfo,
)


def report_performance(value: float, baseline: float | None = None) -> None:
    """Report the submission's performance figure, and the baseline measured in the same run.

    The figure's name and direction come from `performance:` in exercise.yaml; the last report wins."""
    from .plugin import report_performance as report

    report(value, baseline)


__all__ = [
    "PIPE",
    "Completed",
    "HarnessError",
    "Learner",
    "LearnerBuildError",
    "LearnerDied",
    "LearnerError",
    "LearnerImportError",
    "LearnerTimeout",
    "Pending",
    "ProcessInfo",
    "Program",
    "Remote",
    "ThreadInfo",
    "report_performance",
]
