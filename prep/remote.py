"""The learner's side of the grading server: send a submission, wait for its result (docs/server.md).

Plain urllib: the base install needs nothing of the server's extra. The result is the
same document, version 1, as a local grading's; the caller records it with
prep.grading.record exactly as after a local grading.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from .errors import EnvironmentProblem, InputError, NotFoundError, PrepError

API = "/api/v1"
WAIT_SECONDS = 30  # each long poll
REQUEST_SLACK = 15  # beyond the long poll's own wait


class ServerRefused(PrepError):
    """The server said no (busy, full, not allowed): its one-line reason."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def _request(url: str, token: str, method: str = "GET", body: dict | None = None, timeout: float = 30) -> Any:
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Accept": "application/json",
        **({"Content-Type": "application/json"} if data is not None else {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read().decode("utf-8")).get("detail")
        except (ValueError, AttributeError):
            detail = None
        detail = detail if isinstance(detail, str) else f"HTTP {exc.code} {exc.reason}"
        retry = exc.headers.get("Retry-After") if exc.headers else None
        if exc.code == 401:
            raise InputError(f"the server refused the token: {detail} (the `token` of [server] in your settings file)") from None
        if exc.code == 404:
            raise NotFoundError(f"the server: {detail}") from None
        if exc.code in (400, 413, 422):
            raise InputError(detail) from None
        if exc.code in (429, 503):
            raise ServerRefused(f"the server: {detail}" + (f" (try again in {retry} s)" if retry else ""),
                                exc.code) from None
        raise ServerRefused(f"the server: {detail}", exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EnvironmentProblem(f"cannot reach the grading server at {url}: {reason}") from None


def submit(server: str, token: str, slug: str, files: dict[str, str], code_hash: str,
           progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Send the files, wait (long polls) until graded; the submission with its `result`.

    When the server says one is in flight (429) and it is these very files for this exercise
    (the same code hash: a `prep submit` interrupted while it waited), it waits for that one
    instead, and the row says `picked_up`."""
    base = server.rstrip("/") + API
    try:
        row = _request(f"{base}/submissions", token, "POST", {"exercise": slug, "files": files})
    except ServerRefused as refused:
        if refused.status != 429:
            raise
        mine = _request(f"{base}/submissions", token)
        same = [r for r in mine if r.get("state") != "done" and r.get("exercise") == slug
                and r.get("code_hash") == code_hash]
        if not same:
            raise
        row = {**same[0], "picked_up": True}
    while True:
        if progress is not None:
            progress(row)
        if row.get("state") == "done":
            return row
        row = _request(f"{base}/submissions/{row['id']}?wait={WAIT_SECONDS}&seen={row['state']}", token,
                       timeout=WAIT_SECONDS + REQUEST_SLACK)
