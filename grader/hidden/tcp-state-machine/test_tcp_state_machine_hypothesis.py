# canary: hidden-test-tcp-state-machine
"""Hidden tests of tcp-state-machine with Hypothesis: two endpoints wired together, in conversations Hypothesis draws.

A conversation is a list of at least 40 moves, each decoded against the judge's model of both endpoints (the
statement's tables, `Model` in test_tcp_state_machine.py): a segment in flight delivered (each direction in order,
the two directions in any order) or lost; a segment retransmitted by the network on an endpoint's behalf, or a stray
one of any kind (an old duplicate); time passing on one endpoint; or a user call, mostly the one that moves the
conversation on (connect() to a peer that listens or connects, else listen(); close() in ESTABLISHED and
CLOSE_WAIT; waiting for the peer or the timer elsewhere), the other legal calls less often, now and then an abort()
or an illegal call. The whole conversation runs in the learner's process in one round trip (the helper `run_pair`
holds no expected value); every step is compared with the model, and a failing conversation is shrunk to a few
steps, shown as the calls that make it.
"""

import pytest

from prep_judge import LearnerError, LearnerTimeout
from test_tcp_state_machine import CALL_SECONDS, CALLS, ERRORS, SEGMENTS, Model, helper, made, mismatch, outcome, wanted

MSLS = (30, 1, 120)
DELIVER, DROP, NETWORK, ADVANCE = 45, 50, 58, 66  # a move's roll (0 to 99) below each: that kind of move
RARE = 92  # a roll from here: abort() or a call the state does not allow; between ADVANCE and here, pick_call's
OTHER = {"A": "B", "B": "A"}
# moves in a case: at least 40, so that conversations get past the handshake and the close (a delivery or a loss
# with nothing in flight is no move, so a shrunk case can still be a few steps)
MIN_MOVES, MAX_MOVES = 40, 200


def cases():
    from hypothesis import strategies as st

    move = st.tuples(st.integers(0, 99), st.sampled_from("AB"), st.integers(0, 15))
    return st.tuples(st.sampled_from(MSLS), st.lists(move, min_size=MIN_MOVES, max_size=MAX_MOVES))


# Run first, before any drawn conversation: A's TIME_WAIT ends early (abort), A listens again, and time passes beyond
# the old 2 MSL. A TIME_WAIT timer left armed closes the new LISTEN; drawn conversations reach that only after many
# cases, which a submission slow on purpose might never get to (the test passes on a fifth of its cases).
TIME_WAIT_ENDED_EARLY = (1, [
    (ADVANCE, "B", 0), (ADVANCE, "A", 0),  # b.listen(), a.connect()
    (0, "A", 0), (0, "B", 0), (0, "A", 0),  # SYN, SYN+ACK, ACK delivered
    (ADVANCE, "A", 0), (0, "A", 0), (0, "B", 0),  # a.close(); FIN and its ACK delivered
    (ADVANCE, "B", 0), (0, "B", 0), (0, "A", 0),  # b.close(); FIN delivered (A in TIME_WAIT), its ACK delivered
    (RARE, "A", 4), (ADVANCE, "A", 0), (NETWORK, "A", 2),  # a.abort(), a.listen(), a.advance(2)
] + [(0, "A", 0)] * (MIN_MOVES - 14))  # nothing in flight: no move


def pick_call(state, role, pick):
    """Mostly what moves the conversation on: `role` in CLOSED and LISTEN, close() in ESTABLISHED and CLOSE_WAIT,
    and elsewhere, where the application waits for the peer or the timer, "wait" (time passes); the other legal
    calls less often, abort() and an early close() (in LISTEN or SYN_SENT) seldom. pick 0 is the role when it is
    legal (Hypothesis shrinks towards it)."""
    if state in ("ESTABLISHED", "CLOSE_WAIT"):
        role = "close"
    elif state not in ("CLOSED", "LISTEN"):
        role = "wait"
    pool = []
    for c in sorted((c for c in CALLS + ("wait",) if (state, c) not in ERRORS), key=lambda c: c != role):
        if c == "wait" and c != role:
            continue
        pool += [c] * (10 if c == role else 1 if c == "abort" or (c == "close" and state in ("LISTEN", "SYN_SENT")) else 4)
    return pool[pick % len(pool)]


def plan(msl, moves):
    """The script for run_pair and, for each action, (what the model expects, A's state, B's state, the segment)."""
    ends = {"A": Model(msl), "B": Model(msl)}
    wire = {"A": [], "B": []}
    last = {"A": None, "B": None}  # the last segment each endpoint sent, for the network to retransmit
    script, expected = [], []
    for roll, who, pick in moves:
        segment = None
        if roll < DROP and not wire[who]:
            continue  # nothing in flight that way: no move
        if roll < DELIVER:
            segment = wire[who].pop(0)
            action, actor = ["deliver", who], OTHER[who]
            result = ends[actor].event("receive", segment)
        elif roll < DROP:
            segment = wire[who].pop(0)
            action, actor, result = ["drop", who], who, ("dropped", segment)
        elif roll < NETWORK:
            # the network retransmits the last segment `who` sent, or (now and then, or when `who` sent nothing
            # yet) delivers a stray one in its name: an old duplicate, any of the six
            stray = pick >= 14 or not last[who]
            segment = SEGMENTS[roll % len(SEGMENTS)] if stray else last[who]
            action, actor = ["inject", who, segment, "stray" if stray else "again"], OTHER[who]
            result = ends[actor].event("receive", segment)
        else:
            name = None  # NETWORK <= roll < ADVANCE: time passes
            if ADVANCE <= roll < RARE:
                peer = ends[OTHER[who]].state
                name = pick_call(ends[who].state, "connect" if peer in ("LISTEN", "SYN_SENT") else "listen", pick)
            elif roll >= RARE:
                rare = [c for c in CALLS if c == "abort" or (ends[who].state, c) in ERRORS]
                name = rare[pick % len(rare)]
            if name is None or name == "wait":
                seconds = (2 * msl, 1, msl)[pick % 3] if name else (1, msl, 2 * msl)[pick % 3]
                action, actor, result = ["call", who, "advance", [seconds]], who, ends[who].event("advance", seconds)
            else:
                action, actor, result = ["call", who, name, []], who, ends[who].event(name)
        if result[0] == "ok":
            wire[actor].extend(result[2])
            if result[2]:
                last[actor] = result[2][-1]
        script.append(action)
        expected.append((result, ends["A"].state, ends["B"].state, segment))
    return script, expected


def line(action, expect):
    """One action as a line of Python calls, with what the statement says it gives."""
    result, a_state, b_state, segment = expect
    kind, who = action[0], action[1]
    if kind == "drop":
        return f"# the network loses {who}'s {segment!r}"
    if kind == "call":
        args = ", ".join(repr(a) for a in action[3])
        call, end = f"{who.lower()}.{action[2]}({args})", who
    else:
        end = OTHER[who]
        how = {"again": f"{who}'s {segment!r} retransmitted by the network",
               "stray": f"a stray {segment!r} from {who}'s side (an old duplicate)"}.get(
            action[-1] if kind == "inject" else "", f"{who}'s {segment!r} delivered")
        call = f"{end.lower()}.receive({segment!r})  # {how};"
    note = f"-> {wanted(result)}" if result[0] == "ok" else f"must {wanted(result)}"
    return f"{call} {note}" if call.endswith(";") else f"{call}  # {note}"


def show(case):
    msl, moves = case
    script, expected = plan(msl, moves)
    return [f"a, b = Connection({msl}), Connection({msl})  # msl = {msl}: TIME_WAIT lasts {2 * msl} s"] + [
        line(action, expect) for action, expect in zip(script, expected)]


def compare(rows, script, expected, msl):
    """The first step where the learner's endpoints differ from the model, as an AssertionError."""
    assert isinstance(rows, list) and len(rows) == len(script), (
        f"the helper gave {len(rows) if isinstance(rows, list) else rows!r} results for {len(script)} actions")
    for i, (action, got, (result, a_state, b_state, segment)) in enumerate(zip(script, rows, expected)):
        row = got["row"]
        kind, who = action[0], action[1]
        actor = OTHER[who] if kind in ("deliver", "inject") else who
        if kind == "call":
            step = f"{actor.lower()}.{action[2]}({', '.join(str(a) for a in action[3])})"
        elif kind == "drop":
            step = f"the network losing {who}'s {segment!r}"
        else:
            how = {"again": f"{who}'s {segment!r} retransmitted", "stray": f"a stray {segment!r} from {who}'s side"}.get(
                action[-1] if kind == "inject" else "", f"{who}'s {segment!r}")
            step = f"{actor.lower()}.receive({segment!r}) ({how})"
        where = f"step {i + 1} (msl={msl}), {step}"
        if row[0] == "empty":
            raise AssertionError(
                f"{where}: the model has {segment!r} in flight from {who}, the learner's {who} did not send it")
        if kind == "drop":
            if row[1] != segment:
                raise AssertionError(f"{where}: the next segment in flight from {who} is {row[1]!r}, not {segment!r}: "
                                     f"{who} sent other segments than the statement's")
        elif kind == "deliver" and got["segment"] != segment:
            raise AssertionError(f"{where}: the next segment in flight from {who} is {got['segment']!r}, not "
                                 f"{segment!r}: {who} sent other segments than the statement's")
        else:
            before = {"A": a_state, "B": b_state}[actor]  # an illegal call leaves the state as it was
            problem = mismatch(row + [got[actor]], result, before)
            if problem:
                raise AssertionError(f"{where} {problem}")
        if (got["A"], got["B"]) != (a_state, b_state):
            raise AssertionError(
                f"{where}: A must then be {a_state} and B {b_state}; got A {got['A']}, B {got['B']} ({outcome(row)})")


@pytest.mark.cards("tcp-handshake-segments-order", "tcp-active-close-states-order", "tcp-passive-close-states-order",
                   "time-wait-purposes")
def test_hypothesis_conversations_against_the_model(learner):
    from prep_judge.model import FailNow, check

    ns = helper(learner)

    def run(case):
        msl, moves = case
        script, expected = plan(msl, moves)
        if not script:
            return
        try:
            result = ns.start("run_pair", msl, script).result(timeout=CALL_SECONDS)
        except LearnerTimeout:
            raise FailNow(f"a conversation of {len(script)} steps did not finish within {CALL_SECONDS:g} s: "
                          "an endless loop?") from None
        except LearnerError as exc:
            raise AssertionError(f"running the conversation raised {exc.type}: {exc.message}") from None
        rows = made(result, msl)
        compare(rows, script, expected, msl)

    check(learner, cases(), run, show, seed=0x7C9, max_examples=200, shrink_runs=400, examples=(TIME_WAIT_ENDED_EARLY,))
