"""Hidden tests of reliable-udp with Hypothesis: transfers through links whose every impairment is drawn.

Hypothesis draws the message's size and, for the first datagrams each way, each one's fate: lost,
delivered, or delivered twice, after a delay of 0 to 20 ms (so datagrams overtake each other); past the
drawn fates the link is perfect, so every case can finish. The model is the statement: the judge's bytes
arrive whole, in order, exactly once (the judge's receiver reassembles only what crossed the link, the
judge's sender checks every ACK). A failing case is shrunk to the smallest one.
"""
# canary: hidden-test-reliable-udp

import time

import pytest

from _link import Link
from test_reliable_udp import check_sent, describe, learner_receives, learner_sends, message

SIZES = (0, 1, 1194, 1195, 1196, 2390, 2391)
SLOW = 2.0  # seconds: a failing case that took this long (a call that had to time out) is not worth shrinking


def cases():
    from hypothesis import strategies as st

    size = st.one_of(st.sampled_from(SIZES), st.integers(0, 12_000))
    # runs of one fate, so that a case holds tens of datagrams: (copies 0 to 2, delay in ms, how many datagrams)
    runs = st.lists(st.tuples(st.sampled_from([0, 1, 1, 2]), st.integers(0, 20), st.integers(1, 8)), max_size=10)
    return st.tuples(size, runs, runs)


def expand(runs):
    return [(copies, delay) for copies, delay, count in runs for _ in range(count)]


def show_case(direction):
    def show(case):
        size, forward, backward = case
        words = {0: "lost", 1: "delivered", 2: "delivered twice"}
        lines = [f"{direction}() of {size} random bytes; the other end is the judge's"]
        for name, runs in (("forward (DATA, FIN)", forward), ("backward (ACKs)", backward)):
            groups = []  # the datagrams' fates, equal neighbours counted together
            for copies, delay in expand(runs):
                fate = (copies, delay if copies else 0)
                if groups and groups[-1][0] == fate:
                    groups[-1][1] += 1
                else:
                    groups.append([fate, 1])
            said = ", ".join(f"{n} {words[c]}" + (f" after {d} ms" if c else "") for (c, d), n in groups)
            lines.append(f"{name}, datagram by datagram: " + (said + ", then all delivered" if said else "all delivered"))
        return lines
    return show


def run_case(learner, direction, case):
    from prep_judge.model import FailNow

    size, forward, backward = case
    data = message(size)
    link = Link(seed=0, fates=(expand(forward), expand(backward)))
    started = time.monotonic()
    try:
        if direction == "send":
            receiver, _, _ = learner_sends(learner, link, data, timeout=3.0)
            check_sent(receiver, data, f"a message of {size} bytes")
        else:
            got = learner_receives(learner, link, data, seed=size, timeout=3.0)
            assert got == data, f"a message of {size} bytes: {describe(got, data)}"
    except AssertionError as exc:
        if time.monotonic() - started > SLOW:
            raise FailNow(str(exc)) from None
        raise
    finally:
        link.close()


@pytest.mark.cards("reliable-udp-needed-mechanisms", "arq-lost-ack-duplicate")
@pytest.mark.parametrize("direction", ["send", "receive"])
def test_hypothesis_links_deliver_exactly_once_in_order(learner, direction):
    from prep_judge.model import check

    check(learner, cases(), lambda case: run_case(learner, direction, case), show_case(direction),
          seed=0x0D9 if direction == "send" else 0x0DA, max_examples=25, shrink_runs=60)
