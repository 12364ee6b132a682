"""Visible tests of page-replacement: `prep test page-replacement DIR` runs them on your replacement.py.

The hidden tests check much more: every algorithm's trace on textbook and random
strings, OPT's tie rule, Clock's use bits, the stack property, the edge cases.
"""

from replacement import faults, trace

BELADY = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]


def test_fifo_shows_beladys_anomaly():
    assert faults("fifo", BELADY, 3) == 9
    assert faults("fifo", BELADY, 4) == 10


def test_fifo_trace_shape():
    assert trace("fifo", [1, 2, 1, 3, 4], 3) == [
        [1, None, None],
        [1, 2, None],
        [1, 2, None],
        [1, 2, 3],
        [4, 2, 3],
    ]


def test_lru_is_not_fifo():
    assert trace("lru", [1, 2, 3, 1, 4], 3)[-1] == [1, 4, 3]
