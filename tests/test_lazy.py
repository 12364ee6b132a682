"""prep.cli.app.lazy(): a module loaded at its first attribute use, once, whichever threads ask at once."""

from __future__ import annotations

import sys
import threading

import pytest

from prep.cli.app import lazy

SLOW_MODULE = """\
import time

import lazy_probe_counter

lazy_probe_counter.loads.append(1)
FIRST = 1
time.sleep(0.3)  # a module that takes its time: every other thread asks while it loads
LAST = 2


def total():
    return FIRST + LAST
"""


@pytest.fixture
def slow_module(tmp_path, monkeypatch):
    (tmp_path / "lazy_probe_slow.py").write_text(SLOW_MODULE)
    (tmp_path / "lazy_probe_counter.py").write_text("loads = []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in ("lazy_probe_slow", "lazy_probe_counter"):
        sys.modules.pop(name, None)


def test_a_lazy_module_is_loaded_at_its_first_attribute_use(slow_module):
    module = lazy("lazy_probe_slow")
    assert "lazy_probe_counter" not in sys.modules  # nothing ran yet
    assert module.total() == 3
    assert sys.modules["lazy_probe_counter"].loads == [1]
    assert lazy("lazy_probe_slow") is module


def test_many_threads_use_a_lazy_module_at_once_and_all_see_it_whole(slow_module):
    module = lazy("lazy_probe_slow")
    threads_n = 16
    start = threading.Barrier(threads_n)
    seen, failures = [], []

    def use() -> None:
        start.wait()
        try:
            seen.append(module.LAST + module.total())
        except Exception as exc:  # noqa: BLE001 - what a half-loaded module gives
            failures.append(repr(exc))

    threads = [threading.Thread(target=use) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert seen == [5] * threads_n
    assert sys.modules["lazy_probe_counter"].loads == [1]  # executed once


def test_a_missing_module_is_refused_at_once():
    with pytest.raises(ModuleNotFoundError):
        lazy("lazy_probe_no_such_module")
