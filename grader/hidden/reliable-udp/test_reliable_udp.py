"""Hidden tests of reliable-udp: the learner's send() against the judge's receiver, and the
learner's receive() against the judge's sender, each through a lossy, duplicating, reordering link.

The learner never holds both ends of a transfer: whatever its receive() returns must be the
judge's random bytes, and the judge's receiver reassembles only datagrams that crossed the link.

Canary (the red-team tests check this text never reaches the learner): PREP-CANARY-91c4a7d2-reliable-udp
"""

import os
import random
import time

import pytest

from prep_judge import LearnerTimeout, report_performance

from _link import Link
from _peer import Receiver, Sender, stop_and_wait

STALL = 3.0  # seconds without a datagram from send(), or without a new ACK for the judge's sender: it is stuck


@pytest.fixture
def make_link():
    made = []

    def make(**kwargs):
        link = Link(**kwargs)
        made.append(link)
        return link

    yield make
    for thing in reversed(made):
        thing.close()


def describe(got: bytes | None, want: bytes) -> str:
    if got is None:
        return "the message never arrived whole"
    if len(got) != len(want):
        return f"{len(got)} bytes arrived, {len(want)} were sent"
    first = next((i for i in range(len(want)) if got[i] != want[i]), None)
    return "the same bytes" if first is None else f"same length ({len(want)} bytes), but the bytes differ from offset {first} on"


def learner_sends(learner, link: Link, data: bytes, timeout: float = 8.0, **receiver_options):
    """The learner's send(data) on the link's sending end, the judge's Receiver on the other.

    Returns (receiver, started, returned): monotonic times of the call and of its return."""
    receiver = Receiver(link.b, **receiver_options)
    try:
        started = time.monotonic()
        pending = learner.start("send", link.a, data)
        end = started + timeout
        while True:
            try:
                pending.result(timeout=0.1)
                break
            except LearnerTimeout:
                quiet = time.monotonic() - receiver.last_datagram_at
                if time.monotonic() < end and quiet < STALL:
                    continue
            held = receiver.data()
            raise AssertionError(
                f"send() of {len(data)} bytes did not return "
                + (f"within {timeout:g} s" if time.monotonic() >= end else f"and sent nothing for {STALL:g} s")
                + "; the judge's receiver "
                + ("held the whole message and acknowledged it" if held == data else
                   f"had {len(receiver.segments)} DATA segment(s) and {'the' if receiver.fin is not None else 'no'} FIN")
                + (f"; first format problem: {receiver.violations[0]}" if receiver.violations else "")) from None
        returned = time.monotonic()
    finally:
        receiver.close()
    return receiver, started, returned


def check_sent(receiver: Receiver, data: bytes, what: str) -> None:
    assert not receiver.violations, f"{what}: the judge's receiver got a datagram the statement does not allow: {receiver.violations[0]}"
    got = receiver.data()
    assert got == data, (
        f"{what}: send() returned, but the judge's receiver (which reassembles only what crossed the link) "
        f"did not hold the message: {describe(got, data)}")


def learner_receives(learner, link: Link, data: bytes, seed: int, timeout: float = 8.0, **sender_options) -> bytes:
    """The judge's Sender on the link's sending end, the learner's receive() on the other; what receive() returned."""
    pending = learner.start("receive", link.b)
    sender = Sender(link.a, data, seed, link, **sender_options).start()
    finished = sender.wait(timeout)
    assert not sender.violations, f"the judge's sender got an ACK the statement does not allow: {sender.violations[0]}"
    if not finished:
        unacked = [i for i, a in enumerate(sender.acked) if not a]
        ended = pending.done()
        raise AssertionError(
            f"the judge's sender did not get every segment acknowledged "
            + (f"(no new ACK for {sender.stall:g} s) " if sender.stalled else f"within {timeout:g} s ")
            + f"({len(unacked)} of {sender.total} still unacknowledged, the first {unacked[0]}; segment {sender.total - 1} is the FIN)"
            + (": receive() had already returned. Linger after the last datagram, answering retransmissions "
               "(the last ACK may be lost), like TCP's TIME_WAIT" if ended else
               ": answer every DATA and FIN with an ACK, duplicates included (the first ACK may have been lost)"))
    try:
        got = pending.result(timeout=3)
    except LearnerTimeout:
        raise AssertionError("receive() did not return within 3 s after the judge's sender had everything "
                             "acknowledged and stopped: linger about 0.3 s after the last datagram, then return") from None
    assert isinstance(got, bytes), f"receive() must return bytes, got {type(got).__name__}"
    return got


def message(size: int) -> bytes:
    return os.urandom(size)  # unpredictable: nothing but the link can bring these bytes to receive()


# ---------------------------------------------------------------- send(): the learner sends, the judge receives


def test_send_perfect_link(learner, make_link):
    data = message(50_000)
    receiver, _, _ = learner_sends(learner, make_link(seed=1), data)
    check_sent(receiver, data, "on a perfect link")


def test_send_lossy_link(learner, make_link):
    data = message(200_000)
    receiver, _, _ = learner_sends(learner, make_link(seed=2, loss=0.10), data)
    check_sent(receiver, data, "with 10% of datagrams lost each way")


def test_send_duplicating_reordering_link(learner, make_link):
    data = message(150_000)
    link = make_link(seed=3, loss=0.05, dup=0.2, delay=(0.0, 0.02))
    receiver, _, _ = learner_sends(learner, link, data)
    check_sent(receiver, data, "with 5% loss, 20% duplicates and datagrams overtaking each other")


def test_send_message_sizes_and_format(learner, make_link):
    for size in (0, 1, 1194, 1195, 1196, 2390, 4097):
        data = message(size)
        link = make_link(seed=40 + size % 7)
        receiver, _, _ = learner_sends(learner, link, data, timeout=4.0)
        assert link.oversize == 0, (
            f"sending {size} bytes: {link.oversize} datagram(s) were larger than 1200 bytes "
            f"({link.oversize_sizes[0]} bytes): the link drops those")
        check_sent(receiver, data, f"a message of {size} byte(s)")


def test_send_keeps_a_window_in_flight(learner, make_link):
    data = message(100_000)
    link = make_link(seed=8, delay=(0.02, 0.02))
    receiver, _, _ = learner_sends(learner, link, data)
    check_sent(receiver, data, "with a 20 ms delay each way")
    in_flight = len(link.before_first_ack)
    assert in_flight >= 4, (
        f"only {in_flight} different segment(s) were sent before the first ACK came back: a sliding window keeps "
        "several segments in flight instead of waiting for each ACK")


def test_send_returns_only_once_the_fin_is_acknowledged(learner, make_link):
    data = message(30_000)
    link = make_link(seed=7, blackout_on_fin=0.4)
    receiver, _, returned = learner_sends(learner, link, data)
    check_sent(receiver, data, "when every ACK is lost for 0.4 s after the FIN")
    acked = link.first_ack_covering(receiver.fin)
    assert acked is not None and acked <= returned, (
        "send() returned before any ACK covering its FIN had reached it (every ACK was lost for 0.4 s after the "
        "FIN): send returns only once every segment, the FIN included, is acknowledged; until then, retransmit")


@pytest.mark.cards("reliable-udp-needed-mechanisms")
def test_send_ignores_datagrams_that_are_not_acks(learner, make_link):
    data = message(40_000)
    link = make_link(seed=21)
    receiver, _, _ = learner_sends(learner, link, data, not_acks=True)
    check_sent(receiver, data, "when datagrams that are not ACKs come back too (shorter than 5 bytes, of type 0, 1 or 7, "
               "or ACKs whose length is not 5 plus a multiple of 4, each claiming every segment up to 2**30): "
               "send() must ignore them")


EARLY = 0.015  # seconds: a copy sent sooner after the previous copy of its segment is a retransmission before any RTO
RESEND_GRACE = 0.01  # seconds between an ACK reaching the sender and a copy of what it acknowledged counting as resent


@pytest.mark.cards("reliable-udp-needed-mechanisms")
def test_send_retransmits_only_after_the_timeout(learner, make_link):
    data = message(150_000)
    link = make_link(seed=22, delay=(0.004, 0.004))
    receiver, _, _ = learner_sends(learner, link, data)
    check_sent(receiver, data, "on a link that loses nothing, 4 ms each way")
    copies = link.copies_sent()
    early = {n: min(b - a for a, b in zip(times, times[1:])) for n, times in copies.items()
             if any(b - a < EARLY for a, b in zip(times, times[1:]))}
    count = sum(sum(b - a < EARLY for a, b in zip(times, times[1:])) for times in copies.values())
    first = min(early, key=early.get) if early else None
    assert count < 5, (
        f"on a link that loses nothing and answers within about 10 ms, {count} copies of {len(early)} segment(s) were "
        f"sent less than {EARLY * 1000:g} ms after the previous copy of the same segment (segment {first}: "
        f"{early.get(first, 0) * 1000:.1f} ms after; times from the kernel's stamps): a segment is sent again only once "
        "its retransmission timeout (at least 20 ms) has run out since it was last sent, not at every wake-up")


@pytest.mark.cards("selective-repeat-vs-go-back-n")
def test_send_never_resends_what_an_ack_listed(learner, make_link):
    data = message(100_000)
    link = make_link(seed=23, delay=(0.002, 0.002), hold=(0, 0.6))
    receiver, _, _ = learner_sends(learner, link, data)
    check_sent(receiver, data, "when every copy of DATA 0 is lost for the first 0.6 s")
    late = link.sent_after_acknowledged(RESEND_GRACE)
    again = sorted(n for n, c in late.items() if c >= 3)
    assert not again, (
        f"DATA 0 was lost for 0.6 s while the later segments arrived and each ACK listed one of them (cum 0, listed n); "
        f"segment {again[0]} was still sent {late[again[0]]} more times after an ACK listing it had reached send() "
        f"({len(again)} segment(s) sent 3 times or more after it): a segment listed in an ACK is acknowledged "
        "and never sent again; only the missing one is (selective repeat)")


def test_goodput_under_loss(learner, make_link):
    data = message(120_000)
    impaired = dict(loss=0.10, delay=(0.005, 0.005))
    receiver, started, _ = learner_sends(learner, make_link(seed=10, **impaired), data)
    check_sent(receiver, data, "with 10% loss and 5 ms delay")
    took = receiver.complete_at - started
    # the baseline: the judge's stop-and-wait sender to the same receiver, on the same kind of link
    link = make_link(seed=10, **impaired)
    base_receiver = Receiver(link.b)
    try:
        base_started = time.monotonic()
        finished = stop_and_wait(link.a, data, deadline=5.0)  # past it, the figure goes without its baseline
    finally:
        base_receiver.close()
    baseline = None
    if finished and base_receiver.data() == data:
        baseline = len(data) / (base_receiver.complete_at - base_started)
    report_performance(len(data) / took, baseline=baseline)


# ---------------------------------------------------------------- receive(): the judge sends, the learner receives


def test_receive_perfect_link(learner, make_link):
    data = message(50_000)
    got = learner_receives(learner, make_link(seed=11), data, seed=11)
    assert got == data, f"on a perfect link, with DATA segments of varying sizes: {describe(got, data)}"


def test_receive_lossy_link(learner, make_link):
    data = message(200_000)
    got = learner_receives(learner, make_link(seed=12, loss=0.10), data, seed=12)
    assert got == data, f"with 10% of datagrams lost each way: {describe(got, data)}"


def test_receive_duplicating_link(learner, make_link):
    data = message(120_000)
    link = make_link(seed=13, dup=0.25)
    got = learner_receives(learner, link, data, seed=13)
    assert link.duplicated > 0, "internal check: the link duplicated nothing"
    assert got == data, f"with 25% of datagrams delivered twice: {describe(got, data)}"


def test_receive_reordering_link(learner, make_link):
    data = message(120_000)
    # DATA 0 is held back 50 ms: the later segments overtake it on every run, whatever the machine's load
    got = learner_receives(learner, make_link(seed=14, delay=(0.0, 0.02), hold=(0, 0.05)), data, seed=14)
    assert got == data, f"with datagrams (the FIN too) overtaking each other: {describe(got, data)}"


def test_receive_everything_at_once(learner, make_link):
    data = message(300_000)
    got = learner_receives(learner, make_link(seed=15, loss=0.08, dup=0.1, delay=(0.0, 0.015)), data, seed=15)
    assert got == data, f"with loss, duplicates and reordering together: {describe(got, data)}"


def test_receive_empty_message_on_a_lossy_link(learner, make_link):
    got = learner_receives(learner, make_link(seed=16, loss=0.3), b"", seed=16)
    assert got == b"", f"an empty message (a FIN numbered 0, nothing else) must arrive as b'', got {len(got)} bytes"


def test_receive_answers_after_the_last_ack_is_lost(learner, make_link):
    data = message(30_000)
    link = make_link(seed=17, blackout_on_fin=0.15)
    got = learner_receives(learner, link, data, seed=17, timeout=6.0, fin_last=True)
    assert got == data, f"when the ACKs of the FIN are lost: {describe(got, data)}"


@pytest.mark.cards("reliable-udp-needed-mechanisms")
def test_receive_ignores_datagrams_that_are_not_data_or_fin(learner, make_link):
    data = message(40_000)
    got = learner_receives(learner, make_link(seed=24, loss=0.05), data, seed=24, not_data=True)
    assert got == data, (
        "when other datagrams come too (shorter than 5 bytes, or of type 2 or 7, numbered half-way through the "
        f"message), which receive() must ignore: {describe(got, data)}")


def test_receive_acknowledges_only_what_arrived(learner, make_link):
    data = message(60_000)
    got = learner_receives(learner, make_link(seed=18, loss=0.3, delay=(0.0, 0.01)), data, seed=18, timeout=9.0)
    assert got == data, f"with 30% of datagrams lost each way: {describe(got, data)}"


# ---------------------------------------------------------------- both directions on seeded random links


@pytest.mark.parametrize("direction", ["send", "receive"])
def test_random_links_and_sizes(learner, make_link, direction):
    rng = random.Random(2026 if direction == "send" else 2027)
    for case in range(6):
        size = rng.choice([0, 1, rng.randint(2, 1195), rng.randint(1196, 5000), rng.randint(5000, 30_000)])
        impaired = dict(loss=rng.choice([0.0, 0.05, 0.15]), dup=rng.choice([0.0, 0.1]),
                        delay=(0.0, rng.choice([0.0, 0.01])))
        data = message(size)
        link = make_link(seed=rng.randrange(1 << 30), **impaired)
        what = f"case {case + 1}: {size} bytes, link {impaired}"
        if direction == "send":
            receiver, _, _ = learner_sends(learner, link, data, timeout=4.0)
            check_sent(receiver, data, what)
        else:
            got = learner_receives(learner, link, data, seed=case, timeout=4.0)
            assert got == data, f"{what}: {describe(got, data)}"
