"""Distributed mode: Celery with Redis as the task queue, `prep server worker` on each grading machine.

The submissions table stays the one source of truth; a Celery message only says "grade
submission N". A task takes its row (db.take: queued, or left running by this same worker),
calls grade_submission, which stores the result once whatever the re-deliveries. Nothing
depends on the broker keeping a message: every worker sweeps the table, puts back to queued
what ran on a worker that stopped saying it is alive (killed, its machine gone), and sends
again the queued submissions whose message is older than `resend_after` (a broker restarted
empty). Duplicate messages are harmless: db.take refuses a row another worker holds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from . import db
from .grading import grade_submission

log = logging.getLogger("prep.server")
TASK = "prep.server.grade"
QUEUE_NAME = "prep-grading"
HEARTBEAT_SECONDS = 2.0
WORKER_DEAD_SECONDS = 10.0  # five missed heartbeats: that worker is gone
# Redis gives an unacknowledged message to another worker after this long: longer than any grading
# (the sweep finds a killed worker's submission within seconds; this is the broker's own safety net).
VISIBILITY_TIMEOUT = 3600
SWEEP_SECONDS = 5.0
RESEND_AFTER = 120.0
TEST_PAUSE_ENV = "PREP_TEST_PAUSE"


def pause_for_tests(point: str, submission_id: int, worker: str) -> None:
    """Tests only, off unless PREP_TEST_PAUSE names a folder: when it holds a folder `POINT-ID`, this delivery
    of the task leaves there a file named after the worker and waits until the test deletes it."""
    folder = os.environ.get(TEST_PAUSE_ENV)
    if not folder:
        return
    mark = Path(folder, f"{point}-{submission_id}", f"{worker}.{uuid.uuid4().hex}")
    try:
        mark.touch(exist_ok=False)
    except OSError:  # no such folder: no pause asked here
        return
    while mark.exists():
        time.sleep(0.1)


def celery_app(broker: str):
    """The Celery application of the server (which sends) and of the workers (which grade)."""
    from celery import Celery

    app = Celery("prep", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # a message is acknowledged when its grading ended, not when it was received
        task_reject_on_worker_lost=True,  # a worker that dies mid-task gives the message back
        worker_prefetch_multiplier=1,  # a worker holds no message it is not grading
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        task_default_queue=QUEUE_NAME,
        task_ignore_result=True,  # the result is in the database
        task_serializer="json", accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits out a broker that is away, however long
        broker_connection_timeout=3,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        worker_hijack_root_logger=False,
        worker_enable_remote_control=False,
    )
    return app


class CeleryQueue:
    """The server's side: `enqueue` sends a task; on start it sends what is queued and was never sent."""

    def __init__(self, engine, broker: str) -> None:
        self.engine = engine
        self.app = celery_app(broker)

    def start(self) -> None:
        threading.Thread(target=self._send_queued, name="prep-send-queued", daemon=True).start()

    def stop(self) -> None:
        pass

    def enqueue(self, submission_id: int) -> None:
        """Send the task; a broker that does not answer is logged: the workers' sweep sends it later."""
        try:  # marked after it went: a task not sent leaves the row unmarked, and the next sweep sends it
            self.app.send_task(TASK, args=[submission_id])
            db.mark_sent(self.engine, submission_id)
        except Exception as exc:
            log.warning("submission %s is queued but its task was not sent (%s): a worker's sweep sends it",
                        submission_id, exc)

    def _send_queued(self) -> None:
        try:
            send(self.app, db.to_send(self.engine, RESEND_AFTER))
        except Exception as exc:
            log.warning("could not send the queued submissions at start (%s): the workers' sweep will", exc)


def send(app, ids: list[int]) -> None:
    for submission_id in ids:
        app.send_task(TASK, args=[submission_id])
    if ids:
        log.info("sent again: %s", ", ".join(map(str, ids)))


class Worker:
    """One `prep server worker`: a Celery worker (threads pool) grading on this machine's sandbox."""

    def __init__(self, engine, broker: str, make_backend, concurrency: int = 1, catalog=None,
                 sweep_seconds: float = SWEEP_SECONDS, resend_after: float = RESEND_AFTER) -> None:
        self.engine = engine
        self.broker = broker
        self.make_backend = make_backend
        self.concurrency = concurrency
        self.catalog = catalog
        self.sweep_seconds = sweep_seconds
        self.resend_after = resend_after
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.app = celery_app(broker)
        self._local = threading.local()
        self._holding: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        import sqlalchemy as sa

        # typing=False: Celery checks a retry's arguments against grade's signature read with `self`
        # (a bound method), so every retry of a submission was refused and its message dropped.
        self.app.task(name=TASK, autoretry_for=(sa.exc.OperationalError, sa.exc.InterfaceError),
                      retry_backoff=2, retry_backoff_max=30, max_retries=None, typing=False)(self.grade)

    def grade(self, submission_id: int) -> bool:
        """The task: take the row, grade it, store the result once. False when it is not this worker's to grade."""
        pause_for_tests("delivered", submission_id, self.name)
        with self._lock:
            if submission_id in self._holding:  # a duplicate message while this worker grades it
                return False
            self._holding.add(submission_id)
        try:
            if not db.take(self.engine, submission_id, self.name):
                log.info("submission %s: done, or graded by another worker: nothing to do", submission_id)
                return False
            pause_for_tests("taken", submission_id, self.name)
            backend = getattr(self._local, "backend", None)
            if backend is None:
                backend = self._local.backend = self.make_backend()
            return grade_submission(self.engine, submission_id, backend, self.catalog)
        finally:
            with self._lock:
                self._holding.discard(submission_id)

    def run(self) -> None:
        """Grade until stopped (Ctrl-C, SIGTERM: a warm shutdown that finishes the gradings under way)."""
        db.heartbeat(self.engine, self.name)
        keeper = threading.Thread(target=self._keep, name="prep-heartbeat", daemon=True)
        keeper.start()
        try:
            self.app.worker_main(["worker", "--pool", "threads", "--concurrency", str(self.concurrency),
                                  "--hostname", f"prep-{self.name.replace(':', '-')}@%h", "--queues", QUEUE_NAME,
                                  "--loglevel", os.environ.get("PREP_SERVER_LOG", "info").upper(),
                                  "--without-gossip", "--without-mingle", "--without-heartbeat"])
        finally:
            self._stopping.set()
            try:
                db.forget_worker(self.engine, self.name)
            except Exception:
                pass

    def _keep(self) -> None:
        """Say this worker is alive; sweep the table for lost gradings and lost messages."""
        last_sweep = 0.0
        while not self._stopping.wait(HEARTBEAT_SECONDS):
            try:
                db.heartbeat(self.engine, self.name)
                if time.monotonic() - last_sweep >= self.sweep_seconds:
                    last_sweep = time.monotonic()
                    again = db.requeue_lost(self.engine, WORKER_DEAD_SECONDS)
                    if again:
                        log.info("graded again (their worker stopped): %s", ", ".join(map(str, again)))
                    with self._lock:  # no grading starts while the rows it would hold are looked at
                        given_back = db.requeue_abandoned(self.engine, self.name, set(self._holding))
                    if given_back:
                        log.info("graded again (a retry went elsewhere): %s", ", ".join(map(str, given_back)))
                    send(self.app, db.to_send(self.engine, self.resend_after))
            except Exception as exc:  # the database or the broker is away for a moment
                log.warning("heartbeat or sweep failed: %s", exc)
