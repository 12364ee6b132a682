"""Hidden tests of tcp-state-machine: the RFC 9293 connection state machine of one endpoint.

Sequences of events run inside the learner's process through a small helper (it
holds no expected value), one round trip per sequence; the judge compares every
step with the tables of the statement (RFC 9293 Figure 5 and section 3.10),
written out below as TABLE and ERRORS, and with explicit scenarios of two
endpoints wired together. Conversations drawn by Hypothesis and compared with
`Model` are in test_tcp_state_machine_hypothesis.py.
"""
# canary: hidden-test-tcp-state-machine

import pytest

from prep_judge import LearnerError, LearnerTimeout

CALL_SECONDS = 8.0

STATES = (
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
)
SYNCHRONIZED = ("ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT")
SEGMENTS = ("SYN", "SYN+ACK", "ACK", "FIN", "FIN+ACK", "RST")
CALLS = ("listen", "connect", "send", "close", "abort")

# Runs in the learner's process: it applies events and reports what came back,
# as plain values. No expected value is in it.
HELPER = """
import sys

_module = sys.modules["tcp_state"]


def _text(value):
    try:
        return repr(value)[:200]
    except Exception:
        return "<unprintable value>"


def _name(value):
    return str.__str__(value) if isinstance(value, str) else None


def _raised(exc):
    return ["raised", type(exc).__name__, str(exc)[:300], isinstance(exc, _module.TCPError), isinstance(exc, ValueError)]


def _step(step):
    try:
        state, send = step
    except Exception:
        return ["bad", _text(step)]
    if _name(state) is None or not isinstance(send, (list, tuple)) or any(_name(s) is None for s in send):
        return ["bad", _text(step)]
    return ["ok", _name(state), [_name(s) for s in send]]


def _state(conn):
    try:
        value = conn.state
    except Exception as exc:
        return "<.state raised " + type(exc).__name__ + ": " + str(exc)[:200] + ">"
    return _name(value) if _name(value) is not None else "<.state is not a str: " + _text(value) + ">"


def _new(msl):
    return _module.Connection() if msl is None else _module.Connection(msl)


def _apply(conn, name, args):
    try:
        step = getattr(conn, name)(*args)
    except Exception as exc:
        return _raised(exc)
    return _step(step)


def make(msl):
    try:
        _new(msl)
    except Exception as exc:
        return _raised(exc)
    return ["ok"]


def run(msl, events):
    try:
        conn = _new(msl)
    except Exception as exc:
        return {"error": _raised(exc)}
    rows = []
    for name, args in events:
        row = _apply(conn, name, args)
        row.append(_state(conn))
        rows.append(row)
    return {"rows": rows}


def run_many(msl, sequences):
    return [run(msl, events) for events in sequences]


def run_pair(msl, script):
    try:
        ends = {"A": _new(msl), "B": _new(msl)}
    except Exception as exc:
        return {"error": _raised(exc)}
    other = {"A": "B", "B": "A"}
    wire = {"A": [], "B": []}
    rows = []
    for action in script:
        kind, who = action[0], action[1]
        segment = None
        if kind == "call":
            actor = who
            row = _apply(ends[who], action[2], action[3])
        elif kind == "drop":
            actor = who
            row = ["dropped", wire[who].pop(0)] if wire[who] else ["empty"]
        else:
            actor = other[who]
            if kind == "inject":
                segment = action[2]
            elif wire[who]:
                segment = wire[who].pop(0)
            if segment is None:
                row = ["empty"]
            else:
                row = _apply(ends[actor], "receive", [segment])
        if row[0] == "ok":
            wire[actor].extend(row[2])
        rows.append({"row": row, "segment": segment, "A": _state(ends["A"]), "B": _state(ends["B"]),
                     "wire": {"A": list(wire["A"]), "B": list(wire["B"])}})
    return {"rows": rows}
"""


# ---------------------------------------------------------------- the tables (RFC 9293 Figure 5, section 3.10)


def _table():
    t = {
        ("CLOSED", "listen"): ("LISTEN", []),
        ("CLOSED", "connect"): ("SYN_SENT", ["SYN"]),
        ("LISTEN", "connect"): ("SYN_SENT", ["SYN"]),
        ("LISTEN", "close"): ("CLOSED", []),
        ("LISTEN", "abort"): ("CLOSED", []),
        ("LISTEN", "SYN"): ("SYN_RECEIVED", ["SYN+ACK"]),
        ("SYN_SENT", "close"): ("CLOSED", []),
        ("SYN_SENT", "abort"): ("CLOSED", []),
        ("SYN_SENT", "SYN+ACK"): ("ESTABLISHED", ["ACK"]),
        ("SYN_SENT", "SYN"): ("SYN_RECEIVED", ["SYN+ACK"]),
        ("SYN_SENT", "RST"): ("CLOSED", []),
        ("SYN_RECEIVED", "close"): ("FIN_WAIT_1", ["FIN"]),
        ("SYN_RECEIVED", "abort"): ("CLOSED", ["RST"]),
        ("SYN_RECEIVED", "ACK"): ("ESTABLISHED", []),
        ("SYN_RECEIVED", "SYN+ACK"): ("ESTABLISHED", []),
        ("SYN_RECEIVED", "FIN+ACK"): ("CLOSE_WAIT", ["ACK"]),
        # ("SYN_RECEIVED", "RST"): LISTEN or CLOSED, by how SYN_RECEIVED was reached (Model.event)
        ("ESTABLISHED", "close"): ("FIN_WAIT_1", ["FIN"]),
        ("ESTABLISHED", "FIN"): ("CLOSE_WAIT", ["ACK"]),
        ("ESTABLISHED", "FIN+ACK"): ("CLOSE_WAIT", ["ACK"]),
        ("FIN_WAIT_1", "ACK"): ("FIN_WAIT_2", []),
        ("FIN_WAIT_1", "FIN"): ("CLOSING", ["ACK"]),
        ("FIN_WAIT_1", "FIN+ACK"): ("TIME_WAIT", ["ACK"]),
        ("FIN_WAIT_2", "FIN"): ("TIME_WAIT", ["ACK"]),
        ("FIN_WAIT_2", "FIN+ACK"): ("TIME_WAIT", ["ACK"]),
        ("CLOSE_WAIT", "close"): ("LAST_ACK", ["FIN"]),
        ("CLOSE_WAIT", "FIN"): ("CLOSE_WAIT", ["ACK"]),
        ("CLOSE_WAIT", "FIN+ACK"): ("CLOSE_WAIT", ["ACK"]),
        ("CLOSING", "ACK"): ("TIME_WAIT", []),
        ("CLOSING", "FIN"): ("CLOSING", ["ACK"]),
        ("CLOSING", "FIN+ACK"): ("TIME_WAIT", ["ACK"]),
        ("LAST_ACK", "ACK"): ("CLOSED", []),
        ("LAST_ACK", "FIN+ACK"): ("CLOSED", []),
        ("LAST_ACK", "FIN"): ("LAST_ACK", ["ACK"]),
        ("TIME_WAIT", "FIN"): ("TIME_WAIT", ["ACK"]),  # and the 2*MSL timer restarts (Model.event)
        ("TIME_WAIT", "FIN+ACK"): ("TIME_WAIT", ["ACK"]),
    }
    for segment in ("SYN", "SYN+ACK", "ACK", "FIN", "FIN+ACK"):
        t[("CLOSED", segment)] = ("CLOSED", ["RST"])
    for segment in ("SYN+ACK", "ACK", "FIN", "FIN+ACK"):
        t[("LISTEN", segment)] = ("LISTEN", ["RST"])
    for state in ("ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT"):
        t[(state, "abort")] = ("CLOSED", ["RST"])
    for state in ("CLOSING", "LAST_ACK", "TIME_WAIT"):
        t[(state, "abort")] = ("CLOSED", [])
    for state in SYNCHRONIZED:
        t[(state, "RST")] = ("CLOSED", [])
        t[(state, "SYN")] = (state, ["ACK"])
        t[(state, "SYN+ACK")] = (state, ["ACK"])
    for state in ("SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT"):
        t[(state, "send")] = (state, [])
    return t


TABLE = _table()
ERRORS = {}
for _state in STATES:
    if _state != "CLOSED":
        ERRORS[(_state, "listen")] = "connection already exists"
    if _state not in ("CLOSED", "LISTEN"):
        ERRORS[(_state, "connect")] = "connection already exists"
for _call in ("send", "close", "abort"):
    ERRORS[("CLOSED", _call)] = "connection does not exist"
ERRORS[("LISTEN", "send")] = "remote socket unspecified"
for _state in ("FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "LAST_ACK", "TIME_WAIT"):
    ERRORS[(_state, "send")] = "connection closing"
    ERRORS[(_state, "close")] = "connection closing"

# How each state is reached from a new Connection (SYN_RECEIVED by a passive open).
PATHS = {
    "CLOSED": [],
    "LISTEN": ["listen"],
    "SYN_SENT": ["connect"],
    "SYN_RECEIVED": ["listen", "SYN"],
    "ESTABLISHED": ["connect", "SYN+ACK"],
    "FIN_WAIT_1": ["connect", "SYN+ACK", "close"],
    "FIN_WAIT_2": ["connect", "SYN+ACK", "close", "ACK"],
    "CLOSE_WAIT": ["connect", "SYN+ACK", "FIN"],
    "CLOSING": ["connect", "SYN+ACK", "close", "FIN"],
    "LAST_ACK": ["connect", "SYN+ACK", "FIN", "close"],
    "TIME_WAIT": ["connect", "SYN+ACK", "close", "ACK", "FIN"],
}


class Model:
    """The statement's tables, for one endpoint."""

    def __init__(self, msl=120):
        self.msl = msl
        self.state = "CLOSED"
        self.passive = False
        self.now = 0
        self.time_wait_ends = None

    def event(self, name, arg=None):
        """("ok", state, sent), ("error", phrase) or ("ValueError",)."""
        if name == "advance":
            if isinstance(arg, bool) or not isinstance(arg, (int, float)) or arg < 0:
                return ("ValueError",)
            self.now += arg
            if self.state == "TIME_WAIT" and self.now >= self.time_wait_ends:
                self.state = "CLOSED"
            return ("ok", self.state, [])
        key = arg if name == "receive" else name
        if name == "receive" and arg not in SEGMENTS:
            return ("ValueError",)
        if (self.state, key) in ERRORS:
            return ("error", ERRORS[(self.state, key)])
        before = self.state
        if (before, key) == ("SYN_RECEIVED", "RST"):
            new, sent = ("LISTEN" if self.passive else "CLOSED"), []
        else:
            new, sent = TABLE.get((before, key), (before, []))
        if key == "listen" or (before, key) == ("LISTEN", "SYN"):
            self.passive = True
        if key == "connect" or (before, key) == ("SYN_SENT", "SYN"):
            self.passive = False
        restart = before == "TIME_WAIT" and key in ("FIN", "FIN+ACK")
        if new == "TIME_WAIT" and (before != "TIME_WAIT" or restart):
            self.time_wait_ends = self.now + 2 * self.msl
        self.state = new
        return ("ok", new, list(sent))


# ---------------------------------------------------------------- talking to the learner


def as_event(text):
    """"listen" -> listen(); "SYN" -> receive("SYN"); "advance 60" -> advance(60)."""
    if text in CALLS:
        return [text, []]
    if text.startswith("advance "):
        return ["advance", [float(text.split()[1]) if "." in text else int(text.split()[1])]]
    return ["receive", [text]]


def shown(event):
    name, args = event
    if name == "receive":
        return f"receive({args[0]!r})"
    return f"{name}({', '.join(repr(a) for a in args)})"


def helper(learner):
    return learner.exec(HELPER)


def call_helper(ns, fn, *args):
    pending = ns.start(fn, *args)
    try:
        return pending.result(timeout=CALL_SECONDS)
    except LearnerTimeout:
        raise AssertionError(f"a short sequence of events on Connection did not finish within {CALL_SECONDS:g} s: an endless loop?") from None
    except LearnerError as exc:
        raise AssertionError(f"running events on Connection raised {exc.type}: {exc.message}") from None


def made(result, msl):
    """The constructor's failure, said plainly."""
    if "error" in result:
        _, typ, message = result["error"][:3]
        arg = "" if msl is None else repr(msl)
        raise AssertionError(f"Connection({arg}) raised {typ}: {message}")
    return result["rows"]


def outcome(row):
    if row[0] == "ok":
        return f"{row[1]} sending {row[2]}"
    if row[0] == "raised":
        return f"raised {row[1]}: {row[2]}"
    return f"returned {row[1]}, which is not a Step(state, send) of str"


def wanted(expect):
    if expect[0] == "ok":
        return f"{expect[1]} sending {expect[2]}"
    if expect[0] == "error":
        return f"raise TCPError with {expect[1]!r} in its message, changing nothing"
    return "raise ValueError, changing nothing"


def mismatch(row, expect, before):
    """None when the learner's row is what the statement says, else what is wrong."""
    state_attr = row[-1]
    if expect[0] == "ok":
        if row[0] != "ok" or row[1] != expect[1] or list(row[2]) != list(expect[2]):
            return f"must give {wanted(expect)}; got: {outcome(row)}"
        if state_attr != expect[1]:
            return f"returned state {expect[1]} but .state then says {state_attr}"
        return None
    if row[0] != "raised":
        return f"must {wanted(expect)}; got: {outcome(row)}"
    if expect[0] == "error":
        if not row[3]:
            return f"must raise TCPError (the module's class) with {expect[1]!r}; raised {row[1]}: {row[2]}"
        if expect[1] not in row[2].lower():
            return f"must raise TCPError whose message contains the RFC's {expect[1]!r}; the message was {row[2]!r}"
    elif not row[4]:
        return f"must raise ValueError; raised {row[1]}: {row[2]}"
    if state_attr != before:
        return f"raised as it should, but the state changed from {before} to {state_attr}: an illegal call must change nothing"
    return None


def check_rows(rows, events, msl, what, hint=""):
    """Compare the learner's rows with the model, step by step."""
    model = Model(120 if msl is None else msl)
    assert len(rows) == len(events), f"{what}: the helper got {len(rows)} results for {len(events)} events"
    for i, (row, event) in enumerate(zip(rows, events)):
        before = model.state
        expect = model.event(event[0], event[1][0] if event[1] else None)
        problem = mismatch(row, expect, before)
        if problem:
            history = ", ".join(shown(e) for e in events[:i]) or "a new Connection"
            mslnote = "" if msl is None else f" (msl={msl})"
            raise AssertionError(
                f"{what}{mslnote}: after {history} (state {before}), {shown(event)} {problem}{context(hint)}"
            )


def check(learner, texts, what, msl=None, hint=""):
    events = [as_event(t) if isinstance(t, str) else t for t in texts]
    rows = made(call_helper(helper(learner), "run", msl, events), msl)
    check_rows(rows, events, msl, what, hint)


def expect_step(learner, texts, state, sent, what, msl=None):
    """Run texts and check the last step explicitly (besides the model)."""
    events = [as_event(t) for t in texts]
    rows = made(call_helper(helper(learner), "run", msl, events), msl)
    last = rows[-1]
    history = ", ".join(shown(e) for e in events[:-1])
    assert last[0] == "ok" and last[1] == state and list(last[2]) == sent, (
        f"{what}: after {history}, {shown(events[-1])} must give {state} sending {sent}; got {outcome(last)}"
    )
    check_rows(rows, events, msl, what)


# ---------------------------------------------------------------- two endpoints on a wire


def parse_action(text):
    if "->" in text:
        return ["deliver", text[0]]
    if "=>" in text:
        return ["inject", text[0], text.split()[1]]
    if text.endswith("-x"):
        return ["drop", text[0]]
    who, call = text.split(".", 1)
    name, _, arg = call.rstrip(")").partition("(")
    return ["call", who, name, [int(arg)] if arg else []]


def said(action, segment):
    kind = action[0]
    if kind == "deliver":
        other = "B" if action[1] == "A" else "A"
        return f"{action[1]}'s {segment!r} reaches {other}" if segment else f"{action[1]}->{other} (nothing in flight)"
    if kind == "inject":
        other = "B" if action[1] == "A" else "A"
        return f"a {action[2]!r} from {action[1]} (retransmitted by the network) reaches {other}"
    if kind == "drop":
        return f"the network loses {action[1]}'s {segment!r}" if segment else "a drop with nothing in flight"
    return f"{action[1]}.{action[2]}({', '.join(str(a) for a in action[3])})"


def context(hint):
    return f" (this checks: {hint})" if hint else ""


def wired(learner, title, steps, msl=30, hint=""):
    """steps: (action, A's state after, B's state after, what the acting endpoint sends: a list, or "error: ...")."""
    script = [parse_action(s[0]) for s in steps]
    hint = context(hint)
    result = call_helper(helper(learner), "run_pair", msl, script)
    rows = made(result, msl)
    done = []
    for (text, a_state, b_state, sent), action, got in zip(steps, script, rows):
        row = got["row"]
        segment = got["segment"] if action[0] != "drop" else (row[1] if row[0] == "dropped" else None)
        step = said(action, segment)
        story = f". The conversation so far: {'; '.join(done[-8:]) or 'nothing'}"
        if row[0] == "empty":
            raise AssertionError(
                f"{title}: {step}: the segment the test expected in flight is not there; "
                f"in flight: A->B {got['wire']['A']}, B->A {got['wire']['B']}{hint}{story}"
            )
        actor = action_actor(action)
        if isinstance(sent, str):
            if not (row[0] == "raised" and row[3] and sent in row[2].lower()):
                raise AssertionError(f"{title}: {step} must raise TCPError with {sent!r}; got {outcome(row)}{hint}{story}")
        elif sent is not None and not (row[0] == "ok" and list(row[2]) == sent and row[1] == got[actor]):
            end = a_state if actor == "A" else b_state
            raise AssertionError(f"{title}: {step}: {actor} must then be {end} sending {sent}; got {outcome(row)}{hint}{story}")
        if (got["A"], got["B"]) != (a_state, b_state):
            raise AssertionError(
                f"{title}: {step}: A must then be {a_state} and B {b_state}; got A {got['A']}, B {got['B']}{hint}{story}"
            )
        done.append(f"{step} ({'A ' + got['A']}, {'B ' + got['B']})")
    wire = rows[-1]["wire"]
    assert not wire["A"] and not wire["B"], (
        f"{title}: at the end nothing should be in flight, but A->B has {wire['A']} and B->A {wire['B']}{hint}"
    )


HANDSHAKE = [
    ("B.listen()", "CLOSED", "LISTEN", []),
    ("A.connect()", "SYN_SENT", "LISTEN", ["SYN"]),
    ("A->B", "SYN_SENT", "SYN_RECEIVED", ["SYN+ACK"]),
    ("B->A", "ESTABLISHED", "SYN_RECEIVED", ["ACK"]),
    ("A->B", "ESTABLISHED", "ESTABLISHED", []),
]


# ---------------------------------------------------------------- the tests


@pytest.mark.cards("tcp-handshake-segments-order")
def test_three_way_handshake(learner):
    wired(learner, "three-way handshake (A connects, B listens)", HANDSHAKE)


@pytest.mark.parametrize("order", ["A's SYN first", "B's SYN first"])
def test_simultaneous_open_crosses_to_syn_received(learner, order):
    first, second = ("A", "B") if order == "A's SYN first" else ("B", "A")
    hint = "simultaneous open, RFC 9293 Figure 7: SYN_SENT receiving a bare SYN answers SYN+ACK and goes to SYN_RECEIVED; the crossing SYN+ACKs then lead both to ESTABLISHED with no third segment"
    after_first = ("SYN_SENT", "SYN_RECEIVED") if first == "A" else ("SYN_RECEIVED", "SYN_SENT")
    wired(learner, f"simultaneous open, {order}", [
        ("A.connect()", "SYN_SENT", "CLOSED", ["SYN"]),
        ("B.connect()", "SYN_SENT", "SYN_SENT", ["SYN"]),
        (f"{first}->{second}", *after_first, ["SYN+ACK"]),
        (f"{second}->{first}", "SYN_RECEIVED", "SYN_RECEIVED", ["SYN+ACK"]),
        (f"{second}->{first}", *(("ESTABLISHED", "SYN_RECEIVED") if first == "A" else ("SYN_RECEIVED", "ESTABLISHED")), []),
        (f"{first}->{second}", "ESTABLISHED", "ESTABLISHED", []),
    ], hint=hint)


def test_connection_refused_and_stray_segments(learner):
    wired(learner, "connecting to a port nobody listens on", [
        ("A.connect()", "SYN_SENT", "CLOSED", ["SYN"]),
        ("A->B", "SYN_SENT", "CLOSED", ["RST"]),
        ("B->A", "CLOSED", "CLOSED", []),
        ("A.send()", "CLOSED", "CLOSED", "connection does not exist"),
    ], hint="a CLOSED endpoint answers every segment but RST with RST; SYN_SENT receiving RST is 'connection refused': CLOSED")
    wired(learner, "an old duplicate SYN reaching a listener (RFC 9293 Figure 8)", [
        ("B.listen()", "CLOSED", "LISTEN", []),
        ("A=>B SYN", "CLOSED", "SYN_RECEIVED", ["SYN+ACK"]),
        ("B->A", "CLOSED", "SYN_RECEIVED", ["RST"]),
        ("A->B", "CLOSED", "LISTEN", []),
        ("A=>B ACK", "CLOSED", "LISTEN", ["RST"]),
        ("B->A", "CLOSED", "LISTEN", []),
        *HANDSHAKE[1:],
    ], hint="an RST in SYN_RECEIVED reached from LISTEN returns to LISTEN; LISTEN answers any segment carrying an acknowledgment with RST; CLOSED ignores an RST")


@pytest.mark.cards("tcp-active-close-states-order", "tcp-passive-close-states-order")
def test_active_closer_waits_and_passive_closer_does_not(learner):
    wired(learner, "A closes first, then B", HANDSHAKE + [
        ("A.close()", "FIN_WAIT_1", "ESTABLISHED", ["FIN"]),
        ("A->B", "FIN_WAIT_1", "CLOSE_WAIT", ["ACK"]),
        ("B->A", "FIN_WAIT_2", "CLOSE_WAIT", []),
        ("B.close()", "FIN_WAIT_2", "LAST_ACK", ["FIN"]),
        ("B->A", "TIME_WAIT", "LAST_ACK", ["ACK"]),
        ("A->B", "TIME_WAIT", "CLOSED", []),
        ("A.advance(59)", "TIME_WAIT", "CLOSED", []),
        ("B.advance(1000)", "TIME_WAIT", "CLOSED", []),
        ("A.advance(1)", "CLOSED", "CLOSED", []),
    ], hint="the active closer goes FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, then CLOSED after 2*MSL = 60 s; "
            "the passive closer CLOSE_WAIT, LAST_ACK, and the ACK of its FIN closes it: it never enters TIME_WAIT")


@pytest.mark.cards("tcp-passive-close-states-order")
def test_close_wait_waits_for_the_application(learner):
    hint = ("receiving FIN, the kernel ACKs it at once and enters CLOSE_WAIT; its own FIN goes out only when the "
            "application calls close(), and until then it may still send: CLOSE_WAIT has no timer")
    wired(learner, "B receives A's FIN and keeps its side open", HANDSHAKE + [
        ("A.close()", "FIN_WAIT_1", "ESTABLISHED", ["FIN"]),
        ("A->B", "FIN_WAIT_1", "CLOSE_WAIT", ["ACK"]),
        ("B->A", "FIN_WAIT_2", "CLOSE_WAIT", []),
        ("B.advance(100000)", "FIN_WAIT_2", "CLOSE_WAIT", []),
        ("B.send()", "FIN_WAIT_2", "CLOSE_WAIT", []),
        ("A.send()", "FIN_WAIT_2", "CLOSE_WAIT", "connection closing"),
        ("B.close()", "FIN_WAIT_2", "LAST_ACK", ["FIN"]),
        ("B->A", "TIME_WAIT", "LAST_ACK", ["ACK"]),
        ("A->B", "TIME_WAIT", "CLOSED", []),
    ], hint=hint)
    expect_step(learner, ["connect", "SYN+ACK", "FIN"], "CLOSE_WAIT", ["ACK"], "a FIN in ESTABLISHED")


def test_fin_with_ack_of_our_fin_goes_straight_to_time_wait(learner):
    expect_step(learner, ["connect", "SYN+ACK", "close", "FIN+ACK"], "TIME_WAIT", ["ACK"],
                "FIN_WAIT_1 receiving a FIN that also acknowledges our FIN (Figure 5's Note 2)")
    check(learner, ["connect", "SYN+ACK", "close", "FIN+ACK", "advance 59", "advance 1"],
          "the TIME_WAIT entered from FIN_WAIT_1 by FIN+ACK", msl=30,
          hint="FIN+ACK acknowledges our FIN, then closes the other direction: TIME_WAIT, whose 2*MSL timer starts now")
    check(learner, ["listen", "SYN", "FIN+ACK", "close", "ACK"], "a peer that connects and closes at once",
          hint="in SYN_RECEIVED, FIN+ACK first acknowledges our SYN (ESTABLISHED), then its FIN gives CLOSE_WAIT")


def test_simultaneous_close_goes_through_closing(learner):
    hint = ("simultaneous close, RFC 9293 Figure 13: in FIN_WAIT_1 a FIN that does not acknowledge our FIN is ACKed "
            "and leads to CLOSING, not TIME_WAIT; the ACK of our FIN then gives TIME_WAIT, on both sides")
    wired(learner, "both sides close at once, the FINs cross", HANDSHAKE + [
        ("A.close()", "FIN_WAIT_1", "ESTABLISHED", ["FIN"]),
        ("B.close()", "FIN_WAIT_1", "FIN_WAIT_1", ["FIN"]),
        ("A->B", "FIN_WAIT_1", "CLOSING", ["ACK"]),
        ("B->A", "CLOSING", "CLOSING", ["ACK"]),
        ("B->A", "TIME_WAIT", "CLOSING", []),
        ("A->B", "TIME_WAIT", "TIME_WAIT", []),
        ("A.advance(60)", "CLOSED", "TIME_WAIT", []),
        ("B.advance(59)", "CLOSED", "TIME_WAIT", []),
        ("B.advance(1)", "CLOSED", "CLOSED", []),
    ], hint=hint)
    expect_step(learner, ["connect", "SYN+ACK", "close", "FIN"], "CLOSING", ["ACK"], "FIN_WAIT_1 receiving a bare FIN")


@pytest.mark.parametrize("msl", [1, 30, None, 0.5])
def test_time_wait_lasts_two_msl(learner, msl):
    two = 2 * (120 if msl is None else msl)
    events = ["connect", "SYN+ACK", "advance 1000", "close", "ACK", "advance 7", "FIN"]
    events += [f"advance {two - 0.25}", "advance 0.25"] if two < 2 else [f"advance {two - 1}", "advance 1"]
    events += ["advance 1000"]
    check(learner, events, "TIME_WAIT's timer", msl=msl,
          hint="TIME_WAIT lasts 2*MSL from the moment it is entered, then CLOSED; time passing in earlier states does not count")
    check(learner, ["connect", "SYN+ACK", "close", "ACK", "FIN", f"advance {two / 2}", "ACK", "SYN", f"advance {two / 2}"],
          "TIME_WAIT receiving an ACK and a SYN", msl=msl,
          hint="only a retransmitted FIN restarts the timer: an ACK is ignored, a SYN gets a challenge ACK")


@pytest.mark.cards("time-wait-purposes")
def test_retransmitted_fin_in_time_wait_is_acked_and_restarts_the_timer(learner):
    hint = ("in TIME_WAIT a FIN means the peer did not get our last ACK: ACK it again and restart the 2*MSL "
            "timer, RFC 9293 section 3.10.7.4; this is why TIME_WAIT exists")
    wired(learner, "A's last ACK is lost and B retransmits its FIN", HANDSHAKE + [
        ("A.close()", "FIN_WAIT_1", "ESTABLISHED", ["FIN"]),
        ("A->B", "FIN_WAIT_1", "CLOSE_WAIT", ["ACK"]),
        ("B->A", "FIN_WAIT_2", "CLOSE_WAIT", []),
        ("B.close()", "FIN_WAIT_2", "LAST_ACK", ["FIN"]),
        ("B->A", "TIME_WAIT", "LAST_ACK", ["ACK"]),
        ("A-x", "TIME_WAIT", "LAST_ACK", None),
        ("A.advance(50)", "TIME_WAIT", "LAST_ACK", []),
        ("B=>A FIN", "TIME_WAIT", "LAST_ACK", ["ACK"]),
        ("A->B", "TIME_WAIT", "CLOSED", []),
        ("A.advance(50)", "TIME_WAIT", "CLOSED", []),
        ("A.advance(9)", "TIME_WAIT", "CLOSED", []),
        ("A.advance(1)", "CLOSED", "CLOSED", []),
    ], hint=hint)
    for fin in ("FIN", "FIN+ACK"):
        check(learner, PATHS["TIME_WAIT"] + ["advance 50", fin, "advance 50", "advance 9", "advance 1"],
              f"a retransmitted {fin} in TIME_WAIT", msl=30, hint=hint)


def test_rst_in_syn_received_depends_on_how_it_was_reached(learner):
    hint = ("RFC 9293 Figure 5 Note 1 and MUST-11: an RST in SYN_RECEIVED returns to LISTEN only if SYN_RECEIVED was "
            "reached from LISTEN by a passive open; reached from SYN_SENT (simultaneous open) it is CLOSED")
    expect_step(learner, ["listen", "SYN", "RST"], "LISTEN", [], "passive open, then RST")
    check(learner, ["listen", "SYN", "RST", "SYN", "ACK"], "a listener reset in SYN_RECEIVED keeps listening", hint=hint)
    expect_step(learner, ["connect", "SYN", "RST"], "CLOSED", [], "simultaneous open, then RST")
    check(learner, ["listen", "connect", "SYN", "RST"], "connect() from LISTEN, a SYN, then RST", hint=hint)
    check(learner, ["connect", "SYN", "RST", "listen", "SYN", "RST", "connect", "SYN", "RST"],
          "active then passive then active opens, each reset in SYN_RECEIVED", hint=hint)
    check(learner, ["listen", "SYN", "abort", "listen", "SYN", "RST"], "abort() in SYN_RECEIVED",
          hint="abort() is the application's: it sends RST and deletes the connection, CLOSED, even after a passive open")


@pytest.mark.parametrize("state", STATES)
def test_rst_in_every_state(learner, state):
    if state == "SYN_RECEIVED":
        rule = "returns to LISTEN (it was reached from LISTEN)"
    elif state in ("CLOSED", "LISTEN"):
        rule = "is ignored"
    else:
        rule = "ends the connection: CLOSED, sending nothing"
    check(learner, PATHS[state] + ["RST"], f"an RST in {state}", hint=f"an RST in {state} {rule}")


@pytest.mark.parametrize("state", STATES)
def test_every_event_from(learner, state):
    """Each call and each segment, from a fresh endpoint brought to `state`; time passes
    before and after it, which must change nothing but TIME_WAIT's timer."""
    names = list(CALLS) + list(SEGMENTS) + ["advance 0"]
    sequences = [[as_event(t) for t in PATHS[state] + ["advance 100", name, "advance 200"]] for name in names]
    results = call_helper(helper(learner), "run_many", None, sequences)
    assert isinstance(results, list) and len(results) == len(sequences), "the helper did not run every sequence"
    for events, result in zip(sequences, results):
        check_rows(made(result, None), events, None, f"from {state}")


def test_illegal_calls_raise_tcperror_and_change_nothing(learner):
    sequences, whats = [], []
    for (state, call), phrase in sorted(ERRORS.items()):
        follow = {"CLOSED": "listen", "LISTEN": "SYN", "SYN_SENT": "SYN+ACK", "SYN_RECEIVED": "ACK",
                  "ESTABLISHED": "FIN", "FIN_WAIT_1": "ACK", "FIN_WAIT_2": "FIN", "CLOSE_WAIT": "close",
                  "CLOSING": "ACK", "LAST_ACK": "ACK", "TIME_WAIT": "advance 240"}[state]
        sequences.append([as_event(t) for t in PATHS[state] + [call, follow]])
        whats.append(f"{call}() in {state} (the RFC answers {phrase!r}; afterwards the connection must work as before)")
    results = call_helper(helper(learner), "run_many", None, sequences)
    for events, result, what in zip(sequences, results, whats):
        check_rows(made(result, None), events, None, what)


def test_close_and_abort_before_the_connection_is_established(learner):
    check(learner, ["listen", "close", "connect", "close", "listen", "abort", "connect", "abort", "listen"],
          "close() and abort() in LISTEN and SYN_SENT",
          hint="there is no peer state to tear down yet: CLOSED, sending nothing")
    expect_step(learner, ["connect", "close"], "CLOSED", [], "close() in SYN_SENT")
    expect_step(learner, ["listen", "SYN", "close"], "FIN_WAIT_1", ["FIN"], "close() in SYN_RECEIVED")
    for state, sent in [("ESTABLISHED", ["RST"]), ("CLOSE_WAIT", ["RST"]), ("FIN_WAIT_2", ["RST"]),
                        ("LAST_ACK", []), ("CLOSING", []), ("TIME_WAIT", [])]:
        expect_step(learner, PATHS[state] + ["abort"], "CLOSED", sent,
                    f"abort() in {state} ({'the peer still has state: reset it' if sent else 'our FIN is out already: nothing to reset'})")


def test_a_closed_connection_can_be_opened_again(learner):
    check(learner, PATHS["TIME_WAIT"] + ["advance 240", "connect", "SYN+ACK", "close", "FIN+ACK", "advance 239",
                                         "advance 1", "listen", "SYN", "ACK", "FIN", "close", "ACK", "listen"],
          "a connection used twice")


def test_state_is_read_only(learner):
    conn = learner.call("Connection")
    conn.call("connect")
    try:
        conn.call("__setattr__", "state", "ESTABLISHED")
    except LearnerError as exc:
        assert exc.is_a("AttributeError"), (
            f"setting conn.state must raise AttributeError (state is read-only); it raised {exc.type}: {exc.message}"
        )
    else:
        raise AssertionError(
            "conn.state = 'ESTABLISHED' in SYN_SENT was accepted: state must be a read-only attribute or property "
            "(setting it raises AttributeError), so that only events move the connection"
        )
    state = conn.get("state")
    assert state == "SYN_SENT", f"after a refused conn.state = 'ESTABLISHED' in SYN_SENT, state must still be SYN_SENT, got {state!r}"
    step = conn.call("receive", "SYN+ACK")
    assert list(step) == ["ESTABLISHED", ["ACK"]], (
        f"after a refused write to conn.state, receive('SYN+ACK') in SYN_SENT must give ESTABLISHED sending ['ACK'], got {step!r}"
    )


def test_bad_arguments_raise_valueerror(learner):
    ns = helper(learner)
    for msl in (0, -30, "120"):
        got = call_helper(ns, "make", msl)
        assert got[0] == "raised" and got[4], (
            f"Connection({msl!r}) must raise ValueError (msl must be a number of seconds > 0); "
            + ("it was accepted" if got[0] == "ok" else f"it raised {got[1]}: {got[2]}")
        )
    bad = [["receive", ["PSH"]], ["receive", ["syn"]], ["receive", [None]], ["receive", ["SYN,ACK"]],
           ["advance", [-1]], ["advance", [True]], ["advance", ["5"]]]
    for state in ("LISTEN", "ESTABLISHED", "TIME_WAIT"):
        for event in bad:
            events = [as_event(t) for t in PATHS[state]] + [event]
            rows = made(call_helper(ns, "run", None, events), None)
            check_rows(rows, events, None, f"a bad argument in {state}")


def action_actor(action):
    if action[0] in ("call", "drop"):
        return action[1]
    return "B" if action[1] == "A" else "A"
