"""Hidden tests of reliable-udp: send()/receive() through a lossy, duplicating, reordering link.

Canary (the red-team tests check this text never reaches the learner): PREP-CANARY-91c4a7d2-reliable-udp
"""

import pytest

from prep_judge import report_performance

from _link import Link, describe, payload, stop_and_wait_goodput, transfer


@pytest.fixture
def make_link():
    links = []

    def make(**kwargs):
        link = Link(**kwargs)
        links.append(link)
        return link

    yield make
    for link in links:
        link.close()


def test_perfect_link(learner, make_link):
    data = payload(50_000, 1)
    got, _ = transfer(learner, make_link(seed=1), data)
    assert got == data, f"on a perfect link: {describe(got, data)}"


def test_lossy_link(learner, make_link):
    data = payload(200_000, 2)
    got, _ = transfer(learner, make_link(seed=2, loss=0.10), data)
    assert got == data, f"with 10% of datagrams lost each way: {describe(got, data)}"


def test_duplicating_link(learner, make_link):
    data = payload(120_000, 3)
    link = make_link(seed=3, dup=0.25)
    got, _ = transfer(learner, link, data)
    assert link.duplicated > 0, "internal check: the link duplicated nothing"
    assert got == data, f"with 25% of datagrams delivered twice: {describe(got, data)}"


def test_reordering_link(learner, make_link):
    data = payload(120_000, 4)
    link = make_link(seed=4, delay=(0.0, 0.02))
    got, _ = transfer(learner, link, data)
    assert got == data, f"with datagrams overtaking each other: {describe(got, data)}"


def test_everything_at_once(learner, make_link):
    data = payload(300_000, 5)
    got, _ = transfer(learner, make_link(seed=5, loss=0.08, dup=0.1, delay=(0.0, 0.015)), data)
    assert got == data, f"with loss, duplicates and reordering together: {describe(got, data)}"


def test_empty_message_on_a_lossy_link(learner, make_link):
    got, _ = transfer(learner, make_link(seed=6, loss=0.3), b"")
    assert got == b"", f"an empty message must arrive as b'', got {len(got)} bytes"


def test_last_ack_lost(learner, make_link):
    data = payload(30_000, 7)
    link = make_link(seed=7, ack_blackout_after=len(data), blackout_seconds=0.1)
    got, _ = transfer(learner, link, data, timeout=6.0)
    assert got == data, f"when the last acknowledgements are lost: {describe(got, data)}"


def test_keeps_a_window_of_datagrams_in_flight(learner, make_link):
    data = payload(100_000, 8)
    link = make_link(seed=8, delay=(0.02, 0.02))
    got, _ = transfer(learner, link, data)
    assert got == data, f"with a 20 ms delay each way: {describe(got, data)}"
    in_flight = len(link.distinct_before_first_ack)
    assert in_flight >= 4, (
        f"only {in_flight} different datagram(s) were sent before the first acknowledgement came back: "
        "a sliding window keeps several datagrams in flight instead of waiting for each ACK"
    )


def test_datagrams_fit_the_link(learner, make_link):
    data = payload(60_000, 9)
    link = make_link(seed=9)
    got, _ = transfer(learner, link, data)
    assert link.oversize == 0, f"{link.oversize} datagram(s) were larger than 1200 bytes: the link drops those"
    assert got == data, f"{describe(got, data)}"


def test_goodput_under_loss(learner, make_link):
    data = payload(120_000, 10)
    got, took = transfer(learner, make_link(seed=10, loss=0.10, delay=(0.005, 0.005)), data)
    assert got == data, f"with 10% loss and 5 ms delay: {describe(got, data)}"
    baseline = stop_and_wait_goodput(make_link(seed=10, loss=0.10, delay=(0.005, 0.005)), data)
    report_performance(len(data) / took, baseline=baseline)
