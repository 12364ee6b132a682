# canary: hidden-test-thread-pool
"""Hidden tests of thread-pool: a fixed-size pool, a bounded queue, futures, graceful shutdown.

Each scenario runs inside the learner's process (helper code sent with
learner.exec), with its own threads and every wait bounded, and returns a
plain report that the assertions here judge. The helper code holds no expected
value.
"""

from __future__ import annotations

HELPERS = r'''
import os, sys, threading, time

from prep_judge.threads import Runner, parked, wait_parked, wait_until

threadpool = sys.modules["threadpool"]

# Small thread stacks: under --sandbox local the memory limit is an address-space
# limit (RLIMIT_AS), and every thread reserves its whole stack there.
threading.stack_size(512 * 1024)

OURS = Runner.threads  # the helper's own threads, never counted as the pool's


def threads_now():
    return {t for t in threading.enumerate() if t not in OURS}


def os_threads():
    return len(os.listdir("/proc/self/task"))


def call(fn):
    """fn()'s outcome as plain data."""
    try:
        return {"value": fn()}
    except BaseException as exc:
        return {"raised": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__],
                "message": str(exc)[:200]}


def make_pool(workers, queue_size):
    before = threads_now()
    os_before = os_threads()
    pool = threadpool.Pool(workers, queue_size)
    mine = threads_now() - before
    return pool, mine, os_threads() - os_before


class Gate:
    """Tasks that block until the test opens the gate, and count how many run at once."""

    def __init__(self):
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0
        self.started = []
        self.idents = set()

    def task(self, tag):
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
            self.started.append(tag)
            self.idents.add(threading.get_ident())
        try:
            self.open.wait(4)
            return tag
        finally:
            with self.lock:
                self.running -= 1


def shutdown_bounded(pool, seconds, **kwargs):
    """shutdown(**kwargs) in a helper thread; (returned in time, error, seconds)."""
    t0 = time.monotonic()
    r = Runner(lambda: pool.shutdown(**kwargs))
    r.done.wait(seconds)
    return r.done.is_set(), r.error, round(time.monotonic() - t0, 3)


def alive(threads):
    return sum(1 for t in threads if t.is_alive())


# ------------------------------------------------------------ scenarios

def results_in_order():
    pool, _mine, _n = make_pool(1, 10)
    seen = []

    def task(i, j):
        seen.append(i)
        return i * 10 + j

    futures = [pool.submit(task, i, 1) for i in range(6)]
    report = {"results": [call(lambda f=f: f.result(3)) for f in futures], "order": list(seen),
              "done": [f.done() for f in futures], "cancelled": [f.cancelled() for f in futures]}
    report["shutdown"] = shutdown_bounded(pool, 3)
    return report


def thread_count(workers):
    pool, mine, os_new = make_pool(workers, 20)
    report = {"threads_started": len(mine), "os_threads_started": os_new}
    barrier = threading.Barrier(workers, timeout=2)
    together = [pool.submit(barrier.wait) for _ in range(workers)]
    report["together"] = [call(lambda f=f: f.result(4)) for f in together]
    gate = Gate()
    before = os_threads()
    futures = [pool.submit(gate.task, i) for i in range(workers + 5)]
    wait_until(lambda: gate.running >= workers, 2)
    report["extra_os_threads_while_busy"] = os_threads() - before
    report["running_while_busy"] = gate.running
    gate.open.set()
    report["results"] = [call(lambda f=f: f.result(4)) for f in futures]
    report["max_running"] = gate.max_running
    report["pool_idents"] = len(gate.idents | {t.ident for t in mine})
    report["task_idents"] = len(gate.idents)
    report["idents_outside_pool"] = len(gate.idents - {t.ident for t in mine}) if mine else None
    report["shutdown"] = shutdown_bounded(pool, 3)
    return report


def bounded_queue(workers, size):
    pool, _mine, _n = make_pool(workers, size)
    gate = Gate()
    running = [pool.submit(gate.task, f"run{i}") for i in range(workers)]
    report = {"workers_busy": wait_until(lambda: gate.running == workers, 2)}
    queued = []
    fill = Runner(lambda: [queued.append(pool.submit(gate.task, f"q{i}")) for i in range(size)])
    fill.done.wait(2)
    report["fill_returned"] = fill.done.is_set()
    report["fill_error"] = fill.error
    extra = Runner(lambda: pool.submit(gate.task, "extra"))
    report["extra_parked"] = wait_parked(extra, 1.0)
    report["extra_returned_while_full"] = extra.done.is_set()
    report["nonblocking"] = call(lambda: pool.submit(gate.task, "nb", block=False) and "a Future")
    gate.open.set()
    extra.done.wait(3)
    report["extra_returned_after"] = extra.done.is_set()
    report["extra_error"] = extra.error
    everything = running + queued + ([extra.value] if extra.value is not None else [])
    report["results"] = [call(lambda f=f: f.result(4)) for f in everything]
    report["shutdown"] = shutdown_bounded(pool, 3)
    return report


class Boom(ValueError):
    pass


def exceptions(workers):
    pool, _mine, _n = make_pool(workers, 10)

    def fail(n):
        raise Boom(f"task {n} failed")

    bad = pool.submit(fail, 7)
    report = {"result": call(lambda: bad.result(3)), "done": bad.done()}
    report["exception"] = call(lambda: type(bad.exception(3)).__name__)
    report["exception_message"] = call(lambda: str(bad.exception(3)))
    more = [pool.submit(fail, i) for i in range(workers * 2)]
    for f in more:
        call(lambda f=f: f.result(3))
    barrier = threading.Barrier(workers, timeout=2)
    after = [pool.submit(barrier.wait) for _ in range(workers)]
    report["after"] = [call(lambda f=f: f.result(4)) for f in after]
    good = pool.submit(lambda: 42)
    report["good_exception"] = call(lambda: good.exception(3))
    report["shutdown"] = shutdown_bounded(pool, 3)
    return report


def base_exception():
    pool, mine, _n = make_pool(1, 4)

    def leave():
        raise SystemExit(3)

    bad = pool.submit(leave)
    report = {"result": call(lambda: bad.result(2))}
    report["exception"] = call(lambda: type(bad.exception(0.5)).__name__)
    after = pool.submit(lambda: 42)
    report["after"] = call(lambda: after.result(2))
    report["workers_alive"] = alive(mine)
    report["pool_threads"] = len(mine)
    report["shutdown"] = shutdown_bounded(pool, 3)
    return report


def result_timeout():
    pool, _mine, _n = make_pool(1, 4)
    gate = Gate()
    future = pool.submit(gate.task, "slow")
    t0 = time.monotonic()
    report = {"early": call(lambda: future.result(0.2)), "early_seconds": round(time.monotonic() - t0, 3),
              "done_while_running": future.done()}
    gate.open.set()
    report["late"] = call(lambda: future.result(3))
    report["done_after"] = future.done()
    report["shutdown"] = shutdown_bounded(pool, 3)
    return report


def drains(workers, queued):
    pool, mine, _n = make_pool(workers, queued + 2)
    gate = Gate()
    futures = [pool.submit(gate.task, i) for i in range(workers + queued)]
    wait_until(lambda: gate.running == workers, 2)
    stopper = Runner(lambda: pool.shutdown(wait=True))
    report = {"returned_before_work_done": stopper.done.is_set() or wait_until(stopper.done.is_set, 0.2)}
    report["submit_during_shutdown"] = call(lambda: pool.submit(gate.task, "late") and "a Future")
    gate.open.set()
    stopper.done.wait(4)
    report["shutdown_returned"] = stopper.done.is_set()
    report["shutdown_error"] = stopper.error
    report["all_done_when_returned"] = all(f.done() for f in futures) if stopper.done.is_set() else None
    report["results"] = [call(lambda f=f: f.result(1)) for f in futures]
    report["started"] = sorted(gate.started, key=str)
    report["threads_alive"] = alive(mine)
    report["pool_threads"] = len(mine)
    report["submit_after"] = call(lambda: pool.submit(gate.task, "after") and "a Future")
    return report


def idle_shutdown(workers):
    pool, mine, _n = make_pool(workers, 4)
    warm = [pool.submit(lambda i=i: i) for i in range(workers)]
    report = {"warm": [call(lambda f=f: f.result(3)) for f in warm]}
    # every worker is idle now, waiting for work
    report["idle_parked"] = wait_until(lambda: all(parked(t) or not t.is_alive() for t in mine), 3.0)
    report["shutdown"] = shutdown_bounded(pool, 2.5, wait=True)
    report["threads_alive"] = alive(mine)
    report["pool_threads"] = len(mine)
    report["second_shutdown"] = shutdown_bounded(pool, 2, wait=True)
    return report


def cancel_pending():
    pool, mine, _n = make_pool(1, 5)
    gate = Gate()
    first = pool.submit(gate.task, "first")
    wait_until(lambda: gate.running == 1, 2)
    queued = [pool.submit(gate.task, f"queued{i}") for i in range(3)]
    report = {"shutdown": shutdown_bounded(pool, 2, wait=False, cancel_pending=True)}
    report["cancelled"] = [f.cancelled() for f in queued]
    report["done"] = [f.done() for f in queued]
    report["queued_results"] = [call(lambda f=f: f.result(1)) for f in queued]
    report["first_cancelled"] = first.cancelled()
    gate.open.set()
    report["first_result"] = call(lambda: first.result(3))
    report["started"] = list(gate.started)
    for t in mine:
        t.join(2)
    report["threads_alive"] = alive(mine)
    return report


def shutdown_again():
    pool, mine, _n = make_pool(1, 5)
    gate = Gate()
    first = pool.submit(gate.task, "first")
    wait_until(lambda: gate.running == 1, 2)
    queued = [pool.submit(gate.task, f"queued{i}") for i in range(3)]
    report = {"first_shutdown": shutdown_bounded(pool, 2, wait=False)}
    # a later call with cancel_pending=True, while the first task still runs and 3 wait in the queue
    report["second_shutdown"] = shutdown_bounded(pool, 2, wait=False, cancel_pending=True)
    report["cancelled"] = [f.cancelled() for f in queued]
    # a later call with wait=True, while the first task still runs
    stopper = Runner(lambda: pool.shutdown(wait=True))
    report["third_returned_while_task_runs"] = wait_until(stopper.done.is_set, 0.3)
    gate.open.set()
    stopper.done.wait(3)
    report["third_returned"] = stopper.done.is_set()
    report["third_error"] = stopper.error
    report["threads_alive_when_returned"] = alive(mine)
    report["pool_threads"] = len(mine)
    report["first_result"] = call(lambda: first.result(2))
    report["started"] = list(gate.started)
    return report


def shutdown_from_task():
    pool, mine, _n = make_pool(2, 4)

    def stop():
        pool.shutdown(wait=True)
        return "stopped"

    future = pool.submit(stop)
    report = {"result": call(lambda: future.result(3))}
    for t in mine:
        t.join(2)
    report["threads_alive"] = alive(mine)
    report["pool_threads"] = len(mine)
    report["submit_after"] = call(lambda: pool.submit(lambda: 1) and "a Future")
    return report


def blocked_producer_at_shutdown():
    pool, mine, _n = make_pool(1, 1)
    gate = Gate()
    first = pool.submit(gate.task, "first")
    wait_until(lambda: gate.running == 1, 2)
    second = pool.submit(gate.task, "second")
    blocked = Runner(lambda: pool.submit(gate.task, "third"))
    report = {"producer_parked": wait_parked(blocked, 1.0), "producer_returned_while_full": blocked.done.is_set()}
    report["shutdown"] = shutdown_bounded(pool, 2, wait=False)
    blocked.done.wait(2)
    report["producer_woken"] = blocked.done.is_set()
    report["producer_error"] = blocked.error
    report["producer_value"] = "a Future" if blocked.value is not None else None
    gate.open.set()
    report["results"] = [call(lambda: first.result(3)), call(lambda: second.result(3))]
    for t in mine:
        t.join(2)
    report["threads_alive"] = alive(mine)
    report["started"] = list(gate.started)
    return report


def cpu_while_idle(workers, seconds):
    pool, _mine, _n = make_pool(workers, 8)
    gate = Gate()
    warm = [pool.submit(lambda i=i: i) for i in range(workers)]
    for f in warm:
        call(lambda f=f: f.result(3))
    slow = pool.submit(gate.task, "slow")
    wait_until(lambda: gate.running == 1, 2)
    # one worker is blocked in a task, the others are idle, and this thread waits on a future
    t0 = os.times()
    w0 = time.monotonic()
    waited = call(lambda: slow.result(seconds))
    used = (os.times().user - t0.user) + (os.times().system - t0.system)
    report = {"cpu": round(used, 3), "wall": round(time.monotonic() - w0, 3), "waited": waited}
    gate.open.set()
    report["late"] = call(lambda: slow.result(3))
    report["shutdown"] = shutdown_bounded(pool, 3)
    return report


def bad_sizes():
    return {"workers0": call(lambda: threadpool.Pool(0, 4) and "a Pool"),
            "queue0": call(lambda: threadpool.Pool(2, 0) and "a Pool")}


FORBIDDEN = []
try:
    import queue as _queue
    FORBIDDEN += [_queue.Queue, _queue.SimpleQueue]
except ImportError:
    pass
try:
    import concurrent.futures as _cf
    FORBIDDEN += [_cf.Executor, _cf.Future]
except ImportError:
    pass
try:
    import multiprocessing.pool as _mp
    FORBIDDEN += [_mp.Pool]
except ImportError:
    pass


def ready_made_parts():
    pool, _mine, _n = make_pool(2, 3)
    future = pool.submit(lambda: 1)
    call(lambda: future.result(3))
    found = set()
    seen = set()

    def walk(obj, depth):
        if id(obj) in seen or depth > 3:
            return
        seen.add(id(obj))
        if isinstance(obj, tuple(FORBIDDEN)):
            found.add(type(obj).__module__ + "." + type(obj).__name__)
            return
        if isinstance(obj, (list, tuple, set, frozenset)):
            for item in list(obj)[:50]:
                walk(item, depth + 1)
        elif isinstance(obj, dict):
            for item in list(obj.values())[:50]:
                walk(item, depth + 1)
        elif hasattr(obj, "__dict__") and not isinstance(obj, (threading.Thread, type)):
            for item in list(vars(obj).values()):
                walk(item, depth + 1)

    walk(pool, 0)
    walk(future, 0)
    report = {"found": sorted(found), "future_type": type(future).__name__}
    report["shutdown"] = shutdown_bounded(pool, 3)
    return report
'''


def helpers(learner):
    return learner.exec(HELPERS)


def said(outcome):
    """One outcome of the helper's `call()` in words."""
    if "raised" in outcome:
        return f"raised {outcome['raised']}: {outcome['message']}"
    return f"returned {outcome['value']!r}"


def check_shutdown(report, what="shutdown()"):
    returned, error, seconds = report["shutdown"]
    assert returned, (
        f"{what} did not return within the time allowed: a worker is still waiting for work nobody will "
        "send. Wake every idle worker (notify_all) when the pool shuts down"
    )
    assert error is None, f"{what} raised {error}"


# ================================================================ tests


def test_results_in_submission_order_with_one_worker(learner):
    report = helpers(learner).call("results_in_order")
    results = report["results"]
    assert all("value" in r for r in results), (
        f"every future's result() must return the task's value; one {said(next(r for r in results if 'value' not in r))}"
    )
    assert [r["value"] for r in results] == [i * 10 + 1 for i in range(6)], (
        f"task(i, 1) returns i * 10 + 1: submit(fn, *args) must call fn(*args); the results were "
        f"{[r['value'] for r in results]}"
    )
    assert report["order"] == list(range(6)), (
        f"with one worker the tasks must run in the order they were submitted (a FIFO queue); they ran as {report['order']}"
    )
    assert all(report["done"]) and not any(report["cancelled"]), (
        f"after result() returned, done() must be True and cancelled() False: done {report['done']}, "
        f"cancelled {report['cancelled']}"
    )
    check_shutdown(report)


def test_exactly_workers_threads_run_the_tasks(learner):
    workers = 3
    report = helpers(learner).call("thread_count", workers)
    assert report["threads_started"] == workers, (
        f"Pool({workers}, 20) must start exactly {workers} worker threads in its constructor; "
        f"{report['threads_started']} new threads were running after it returned"
    )
    together = report["together"]
    assert all("value" in r for r in together), (
        f"{workers} tasks that wait for each other (a barrier) must all run at the same time on a pool of "
        f"{workers} workers; one {said(next(r for r in together if 'value' not in r))}"
    )
    assert report["extra_os_threads_while_busy"] <= 0, (
        f"submitting {workers + 5} tasks to a busy pool started {report['extra_os_threads_while_busy']} more "
        "threads: the pool must run tasks on its fixed workers, never a thread per task"
    )
    assert report["max_running"] == workers, (
        f"at most {workers} tasks may run at once on Pool({workers}, ...), and with {workers + 5} blocked tasks "
        f"exactly {workers} must; {report['max_running']} ran at once"
    )
    assert report["idents_outside_pool"] in (0, None), (
        f"{report['idents_outside_pool']} task(s) ran on a thread that is not one of the pool's workers"
    )
    assert all("value" in r for r in report["results"]), "every task must finish once its gate opens"
    check_shutdown(report)


def test_bounded_queue_blocks_the_producer(learner):
    report = helpers(learner).call("bounded_queue", 2, 3)
    assert report["workers_busy"], "2 tasks submitted to Pool(2, 3) did not both start within 2 s"
    assert report["fill_returned"] and report["fill_error"] is None, (
        "submitting 3 tasks into the empty queue of Pool(2, 3) (both workers busy) must not block"
        + (f"; it raised {report['fill_error']}" if report["fill_error"] else "")
    )
    assert not report["extra_returned_while_full"], (
        "with both workers busy and 3 tasks queued, Pool(2, 3).submit() returned at once: the queue must be "
        "bounded, and submit() must block until there is room"
    )
    nb = report["nonblocking"]
    assert "QueueFull" in nb.get("mro", []), (
        f"submit(fn, block=False) on a full queue must raise QueueFull; it {said(nb)}"
    )
    assert report["extra_returned_after"] and report["extra_error"] is None, (
        "once the workers took tasks from the queue, the blocked submit() must return a Future"
        + (f"; it raised {report['extra_error']}" if report["extra_error"] else " (it was still blocked after 3 s)")
    )
    assert all("value" in r for r in report["results"]), (
        f"every accepted task must run; one future {said(next(r for r in report['results'] if 'value' not in r))}"
    )
    check_shutdown(report)


def test_task_exception_reaches_the_caller(learner):
    workers = 2
    report = helpers(learner).call("exceptions", workers)
    result = report["result"]
    assert "Boom" in result.get("mro", []), (
        f"a task that raised Boom('task 7 failed') (a ValueError subclass): future.result() must raise that "
        f"same exception; it {said(result)}"
    )
    assert result.get("message") == "task 7 failed", f"the exception must keep its message: got {result.get('message')!r}"
    assert report["exception"] == {"value": "Boom"}, (
        f"future.exception() must return the task's exception; it {said(report['exception'])}"
    )
    assert all("value" in r for r in report["after"]), (
        f"after {workers * 2 + 1} tasks raised, the pool must still have {workers} workers running tasks "
        "(catch everything a task raises and keep serving)"
    )
    assert report["good_exception"] == {"value": None}, (
        f"future.exception() of a task that succeeded must return None; it {said(report['good_exception'])}"
    )
    check_shutdown(report)


def test_task_base_exception_reaches_the_caller(learner):
    report = helpers(learner).call("base_exception")
    result = report["result"]
    assert result.get("raised") == "SystemExit", (
        f"a task that raised SystemExit(3) (a BaseException, not an Exception): future.result() must raise that "
        f"SystemExit; it {said(result)}"
        + (". The worker must catch BaseException, or the exception ends the worker thread and the future never "
           "completes" if result.get("raised") == "TimeoutError" else "")
    )
    assert report["exception"] == {"value": "SystemExit"}, (
        f"future.exception() of that task must return the SystemExit; it {said(report['exception'])}"
    )
    assert report["after"] == {"value": 42}, (
        f"after a task raised SystemExit, the only worker of Pool(1, 4) must still run the next task (returning "
        f"42); its result() {said(report['after'])}"
    )
    assert report["workers_alive"] == report["pool_threads"], (
        f"{report['pool_threads'] - report['workers_alive']} worker thread(s) died because a task raised SystemExit"
    )
    check_shutdown(report)


def test_result_timeout_while_task_runs(learner):
    report = helpers(learner).call("result_timeout")
    early = report["early"]
    assert early.get("raised") == "TimeoutError" or "TimeoutError" in early.get("mro", []), (
        f"future.result(timeout=0.2) on a task still running must raise TimeoutError; it {said(early)}"
    )
    assert report["early_seconds"] < 1.5, (
        f"result(timeout=0.2) took {report['early_seconds']} s to give up"
    )
    assert report["done_while_running"] is False, "done() must be False while the task runs"
    assert report["late"] == {"value": "slow"}, (
        f"once the task finished, result() must return its value 'slow'; it {said(report['late'])}"
    )
    assert report["done_after"] is True, "done() must be True once the task finished"
    check_shutdown(report)


def test_shutdown_finishes_queued_work_and_joins_workers(learner):
    report = helpers(learner).call("drains", 2, 6)
    assert not report["returned_before_work_done"], (
        "shutdown(wait=True) returned while tasks were still running or queued: it must wait for them"
    )
    late = report["submit_during_shutdown"]
    assert "RuntimeError" in late.get("mro", []), (
        f"submit() after shutdown() was called must raise RuntimeError; it {said(late)}"
    )
    assert report["shutdown_returned"], (
        "shutdown(wait=True) did not return within 4 s after the tasks could finish: every worker must "
        "wake up, see the pool is closed once the queue is empty, and exit"
    )
    assert report["shutdown_error"] is None, f"shutdown(wait=True) raised {report['shutdown_error']}"
    assert report["all_done_when_returned"], (
        "shutdown(wait=True) returned before every queued task had finished: a graceful shutdown drains the queue"
    )
    assert len(report["started"]) == 8 and all("value" in r for r in report["results"]), (
        f"all 8 accepted tasks (2 running, 6 queued) must run to the end; {len(report['started'])} started"
    )
    assert report["threads_alive"] == 0, (
        f"{report['threads_alive']} of the pool's {report['pool_threads']} worker threads were still alive "
        "after shutdown(wait=True) returned: join every worker"
    )
    assert "RuntimeError" in report["submit_after"].get("mro", []), (
        f"submit() after shutdown must raise RuntimeError; it {said(report['submit_after'])}"
    )


def test_shutdown_wakes_idle_workers(learner):
    report = helpers(learner).call("idle_shutdown", 4)
    assert all("value" in r for r in report["warm"]), "4 quick tasks on Pool(4, 4) did not all finish"
    returned, error, seconds = report["shutdown"]
    assert returned, (
        "shutdown(wait=True) on a pool whose 4 workers were idle (sleeping until work arrives) did not return "
        "within 2.5 s: the workers were never woken. Set the closed flag and notify_all() the condition they "
        "wait on (one notify() or one sentinel wakes only one worker)"
    )
    assert error is None, f"shutdown(wait=True) raised {error}"
    assert report["threads_alive"] == 0, (
        f"{report['threads_alive']} of {report['pool_threads']} worker threads were still alive after "
        "shutdown(wait=True) returned"
    )
    returned, error, _s = report["second_shutdown"]
    assert returned and error is None, (
        "a second shutdown(wait=True) once the workers have exited must return at once"
        + (f"; it raised {error}" if error else "; it blocked for 2 s")
    )


def test_cancel_pending_cancels_queued_tasks(learner):
    report = helpers(learner).call("cancel_pending")
    returned, error, seconds = report["shutdown"]
    assert returned and error is None, (
        "shutdown(wait=False, cancel_pending=True) must return at once"
        + (f"; it raised {error}" if error else f"; it was still running after {seconds} s")
    )
    assert report["cancelled"] == [True, True, True], (
        f"the 3 tasks still in the queue must be cancelled: cancelled() gave {report['cancelled']}"
    )
    assert report["done"] == [True, True, True], f"a cancelled future is done(): got {report['done']}"
    for r in report["queued_results"]:
        assert "CancelledError" in r.get("mro", []), f"result() of a cancelled task must raise CancelledError; it {said(r)}"
    assert report["first_cancelled"] is False and report["first_result"] == {"value": "first"}, (
        f"the task already running must not be cancelled and must finish: cancelled() {report['first_cancelled']}, "
        f"result() {said(report['first_result'])}"
    )
    assert report["started"] == ["first"], (
        f"cancelled tasks must never run; these started: {report['started']}"
    )
    assert report["threads_alive"] == 0, f"{report['threads_alive']} worker(s) still alive 2 s after the running task ended"


def test_shutdown_called_again_applies_its_own_arguments(learner):
    report = helpers(learner).call("shutdown_again")
    for key, what in (("first_shutdown", "shutdown(wait=False)"),
                      ("second_shutdown", "a second shutdown(wait=False, cancel_pending=True)")):
        returned, error, seconds = report[key]
        assert returned and error is None, (
            f"{what} must return at once" + (f"; it raised {error}" if error else f"; it was still running after {seconds} s")
        )
    assert report["cancelled"] == [True, True, True], (
        f"shutdown(wait=False) then shutdown(cancel_pending=True): the second call must still cancel the 3 tasks "
        f"left in the queue (every call applies its own arguments); cancelled() gave {report['cancelled']}"
    )
    assert not report["third_returned_while_task_runs"], (
        "after shutdown(wait=False), a later shutdown(wait=True) returned while a task was still running: it must "
        "still wait for every worker to exit"
    )
    assert report["third_returned"] and report["third_error"] is None, (
        "the later shutdown(wait=True) did not return within 3 s after the running task could finish"
        + (f"; it raised {report['third_error']}" if report["third_error"] else "")
    )
    assert report["threads_alive_when_returned"] == 0, (
        f"{report['threads_alive_when_returned']} of the pool's {report['pool_threads']} worker threads were still "
        "alive when the later shutdown(wait=True) returned: join them"
    )
    assert report["first_result"] == {"value": "first"} and report["started"] == ["first"], (
        f"the running task must finish and no cancelled task may run: result() {said(report['first_result'])}, "
        f"started {report['started']}"
    )


def test_shutdown_from_inside_a_task(learner):
    report = helpers(learner).call("shutdown_from_task")
    assert report["result"] == {"value": "stopped"}, (
        f"a task that calls pool.shutdown(wait=True) and then returns 'stopped': its result() {said(report['result'])}. "
        "Called from a worker, shutdown(wait=True) must join every other worker but not its own thread "
        "(joining the current thread raises RuntimeError, and waiting for it never ends)"
    )
    assert report["threads_alive"] == 0, (
        f"{report['threads_alive']} of the pool's {report['pool_threads']} worker threads were still alive 2 s after "
        "a task shut the pool down: the calling worker must exit once its task returns"
    )
    assert "RuntimeError" in report["submit_after"].get("mro", []), (
        f"submit() after a task shut the pool down must raise RuntimeError; it {said(report['submit_after'])}"
    )


def test_producer_blocked_on_full_queue_is_released_by_shutdown(learner):
    report = helpers(learner).call("blocked_producer_at_shutdown")
    assert not report["producer_returned_while_full"], (
        "submit() on a full Pool(1, 1) returned at once: the queue must be bounded"
    )
    returned, error, _s = report["shutdown"]
    assert returned and error is None, "shutdown(wait=False) must return at once" + (f"; it raised {error}" if error else "")
    assert report["producer_woken"], (
        "a submit() blocked on the full queue was still blocked 2 s after shutdown(): shutdown must wake the "
        "producers too, and their submit() raise RuntimeError"
    )
    assert report["producer_error"] is not None and report["producer_error"].startswith("RuntimeError"), (
        f"a submit() woken by shutdown() must raise RuntimeError (its task was not accepted); it "
        + (f"raised {report['producer_error']}" if report["producer_error"] else "returned a Future")
    )
    assert report["results"] == [{"value": "first"}, {"value": "second"}], (
        f"the running and the queued task were accepted before shutdown and must both finish: "
        f"{[said(r) for r in report['results']]}"
    )
    assert report["started"] == ["first", "second"], f"only the accepted tasks may run, in order: {report['started']}"
    assert report["threads_alive"] == 0, "the worker must exit once the accepted tasks are done"


def test_no_busy_waiting(learner):
    report = helpers(learner).call("cpu_while_idle", 4, 1.0)
    assert "TimeoutError" in report["waited"].get("mro", []), (
        f"result(timeout=1.0) on a blocked task must raise TimeoutError; it {said(report['waited'])}"
    )
    assert report["cpu"] <= 0.1, (
        f"with 3 idle workers, 1 busy worker and one caller in result(timeout=1.0), the process used "
        f"{report['cpu']} s of CPU in {report['wall']} s: something spins. Idle workers and waiting callers "
        "must sleep in Condition.wait() until notified"
    )
    assert report["late"] == {"value": "slow"}, f"the task must then finish: result() {said(report['late'])}"
    check_shutdown(report)


def test_rejects_bad_sizes(learner):
    report = helpers(learner).call("bad_sizes")
    for key, text in (("workers0", "Pool(0, 4)"), ("queue0", "Pool(2, 0)")):
        assert "ValueError" in report[key].get("mro", []), f"{text} must raise ValueError; it {said(report[key])}"


def test_builds_its_own_queue_and_future(learner):
    report = helpers(learner).call("ready_made_parts")
    assert not report["found"], (
        f"the pool is built on ready-made parts ({', '.join(report['found'])}): write the bounded queue and the "
        "Future yourself on threading.Condition (queue, concurrent.futures and multiprocessing are not allowed)"
    )
    check_shutdown(report)
