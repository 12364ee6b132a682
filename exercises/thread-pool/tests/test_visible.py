"""Visible tests of thread-pool: `prep test thread-pool DIR` runs them on your threadpool.py.

The hidden tests check much more (exactly `workers` threads, the queue bound,
timeouts, shutdown that drains or cancels, no thread left, no busy waiting);
see README.md for the whole contract.
"""

import pytest

from threadpool import Pool


def test_results_come_back():
    pool = Pool(2, 4)
    futures = [pool.submit(pow, 2, n) for n in range(5)]
    assert [f.result(timeout=5) for f in futures] == [1, 2, 4, 8, 16]
    pool.shutdown(wait=True)


def test_exception_is_raised_by_result():
    with Pool(1, 1) as pool:
        future = pool.submit(int, "not a number")
        with pytest.raises(ValueError):
            future.result(timeout=5)


def test_submit_after_shutdown_raises():
    pool = Pool(1, 1)
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError):
        pool.submit(print, "too late")
