"""Hidden tests of lvs-schedulers with Hypothesis: drawn weights and operations against the judge's models.

Smooth weighted round robin and least connections have exact models (SwrrModel, lc_model); the ring has none
(the hash is the learner's choice), so its properties are checked after every add and remove: which keys may
move, which must, and that the ring built at once from the same nodes agrees. Each case runs in one round trip;
a failing case is shrunk.
"""
# canary: hidden-test-lvs-schedulers

import pytest

from test_lvs_schedulers import HELPERS, SwrrModel, keys_for, lc_model

RING_RUNNER = HELPERS + r'''

def ring_case(nodes, vnodes, ops, keys):
    import schedulers
    ring = schedulers.Ring(nodes, vnodes)
    def look():
        try:
            return ["ok", [ring.lookup(k) for k in keys]]
        except Exception as exc:
            return ["raised", [c.__name__ for c in type(exc).__mro__], str(exc)[:200]]
    out = [look()]
    for kind, node in ops:
        try:
            getattr(ring, kind)(node)
            row = ["ok"]
        except Exception as exc:
            row = ["raised", [c.__name__ for c in type(exc).__mro__], str(exc)[:200]]
        out.append([row, look()])
    return out

def swrr_script(start, ops):
    import schedulers
    return script(schedulers.SmoothWeightedRoundRobin(start), ops)

def fresh_ring(nodes, vnodes, keys):
    import schedulers
    ring = schedulers.Ring(nodes, vnodes)
    return [ring.lookup(k) for k in keys]
'''

SERVERS = ["a", "b", "c", "d", "e", "f", "g"]
NODES = ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "node-10", "node-1"]  # names sharing a prefix too
KEYS = keys_for(4242, 200)


# ------------------------------------------------------------------ smooth weighted round robin


def swrr_cases():
    from hypothesis import strategies as st

    weight = st.one_of(st.integers(0, 8), st.integers(0, 1000))
    start = st.dictionaries(st.sampled_from(SERVERS[:5]), weight, max_size=5)
    op = st.one_of(st.tuples(st.just("pick")), st.tuples(st.just("pick")), st.tuples(st.just("pick")),
                   st.tuples(st.just("set"), st.sampled_from(SERVERS), weight))
    ops = st.lists(st.lists(op, max_size=10), max_size=10).map(lambda runs: [list(o) for run in runs for o in run])
    return st.tuples(start, ops)


def swrr_expected(start, ops):
    model = SwrrModel(start)
    out = []
    for op in ops:
        if op[0] == "pick":
            out.append(model.pick())
        else:
            model.set_weight(op[1], op[2])
            out.append(None)
    return out


def swrr_show(case):
    start, ops = case
    lines = [f"w = SmoothWeightedRoundRobin({start!r})"]
    for op, want in zip(ops, swrr_expected(start, ops)):
        lines.append(f"w.pick()  # -> {want!r}" if op[0] == "pick" else f"w.set_weight({op[1]!r}, {op[2]})")
    return lines


@pytest.mark.cards("smooth-weighted-round-robin-sequence")
def test_hypothesis_smooth_wrr_against_the_model(learner):
    from prep_judge.model import check

    h = learner.exec(RING_RUNNER)

    def run(case):
        start, ops = case
        got = h.call("swrr_script", dict(start), ops)
        want = swrr_expected(start, ops)
        assert isinstance(got, list) and len(got) == len(ops), "the operations did not all run"
        for i, (op, g, w) in enumerate(zip(ops, got, want)):
            if op[0] == "pick":
                assert g == w, (f"from SmoothWeightedRoundRobin({start!r}), operation {i + 1}: pick() returned {g!r}; "
                                f"it must return {w!r} (add each weight to its current, pick the largest current, the "
                                "first in order on a tie, take the total off it; set_weight keeps every current)")

    check(learner, swrr_cases(), run, swrr_show, seed=0x5117, max_examples=80, shrink_runs=150)


# ------------------------------------------------------------------ least connections


def lc_cases():
    from hypothesis import strategies as st

    count = st.one_of(st.integers(0, 5), st.integers(0, 10**18))
    servers = st.lists(st.sampled_from(SERVERS), max_size=6, unique=True)
    active = st.dictionaries(st.sampled_from(SERVERS), count, max_size=7)
    weights = st.one_of(st.none(), st.dictionaries(st.sampled_from(SERVERS), count, max_size=7))
    # two servers whose ratios differ by less than a float can tell: x/(x+1) against (x-1)/x
    near_tie = st.builds(lambda x, swap: (["b", "a"] if swap else ["a", "b"], {"a": x, "b": x - 1}, {"a": x + 1, "b": x}),
                         st.integers(10**8, 10**15), st.booleans())
    return st.lists(st.one_of(st.tuples(servers, active, weights), near_tie), min_size=1, max_size=8)


def lc_show(cases):
    return [f"least_connections({s!r}, {a!r}{'' if w is None else ', ' + repr(w)})  # -> {lc_model(s, a, w)!r}"
            for s, a, w in cases]


@pytest.mark.cards("ipvs-scheduler-algorithms")
def test_hypothesis_least_connections_against_the_model(learner):
    from prep_judge.model import check

    h = learner.exec(RING_RUNNER)

    def run(cases):
        got = h.call("many_lc", [list(c) for c in cases])
        for (servers, active, weights), g in zip(cases, got):
            want = lc_model(servers, active, weights)
            call = f"least_connections({servers!r}, {active!r}{'' if weights is None else ', ' + repr(weights)})"
            assert g == want, (f"{call} returned {g!r}; it must return {want!r} (the smallest active / weight, compared "
                               "exactly; a server missing from active has 0, from weights 1; never weight 0; ties to "
                               "the first in servers)")

    check(learner, lc_cases(), run, lc_show, seed=0x1C, max_examples=60)


# ------------------------------------------------------------------ consistent hashing


def ring_cases():
    from hypothesis import strategies as st

    op = st.tuples(st.sampled_from(["add", "add", "remove"]), st.sampled_from(NODES))
    return st.tuples(st.lists(st.sampled_from(NODES), max_size=5), st.sampled_from([1, 3, 100]),
                     st.lists(op, max_size=12))


def ring_show(case):
    nodes, vnodes, ops = case
    lines = [f"ring = Ring({nodes!r}, {vnodes})"]
    present = set(nodes)
    for kind, node in ops:
        note = ""
        if kind == "remove" and node not in present:
            note = "  # raises KeyError"
        elif kind == "add" and node in present:
            note = "  # already there: changes nothing"
        lines.append(f"ring.{kind}({node!r}){note}")
        present = present | {node} if kind == "add" else present - {node}
    lines.append(f"then ring.lookup(key) for {len(KEYS)} keys such as {KEYS[0]!r}")
    return lines


@pytest.mark.cards("consistent-hashing-minimal-remap")
def test_hypothesis_ring_adds_and_removes_move_only_the_right_keys(learner):
    from prep_judge.model import check

    h = learner.exec(RING_RUNNER)

    def run(case):
        nodes, vnodes, ops = case
        rows = h.call("ring_case", nodes, vnodes, [list(o) for o in ops], KEYS)
        present = set(nodes)
        where = f"Ring({nodes!r}, {vnodes})"

        def check_lookups(row, what):
            if not present:
                assert row[0] == "raised" and "LookupError" in row[1], (
                    f"{what}: the ring is empty, lookup() must raise LookupError; got {row[1:]!r}"[:400])
                return None
            assert row[0] == "ok", f"{what}: lookup() raised {row[1][0]}: {row[2]}"
            strays = sorted({n for n in row[1] if n not in present})
            assert not strays, f"{what}: lookup() returned {strays}, not in the ring (it holds {sorted(present)})"
            return row[1]

        before = check_lookups(rows[0], where)
        for i, ((kind, node), (row, looked)) in enumerate(zip(ops, rows[1:])):
            where += f", .{kind}({node!r})"
            if kind == "remove" and node not in present:
                assert row[0] == "raised" and "KeyError" in row[1], f"{where}: {node!r} is not in the ring, remove() must raise KeyError"
            else:
                assert row[0] == "ok", f"{where} raised {row[1][0]}: {row[2]}"
            was = set(present)
            present = present | {node} if kind == "add" else present - {node}
            after = check_lookups(looked, where)
            if before is not None and after is not None:
                moved = [(k, b, a) for k, b, a in zip(KEYS, before, after) if a != b]
                if present == was:
                    assert not moved, f"{where}: the ring's nodes did not change, yet {len(moved)} keys moved, e.g. {moved[0]}"
                elif kind == "add":
                    wrong = [m for m in moved if m[2] != node]
                    assert not wrong, (f"{where}: after add({node!r}) a key may only move to {node!r}; {len(wrong)} "
                                       f"moved elsewhere, e.g. {wrong[0][0]!r} from {wrong[0][1]!r} to {wrong[0][2]!r}")
                else:
                    should = sum(1 for b in before if b == node)
                    wrong = [m for m in moved if m[1] != node]
                    assert not wrong and len(moved) == should, (
                        f"{where}: after remove({node!r}) exactly the {should} keys it held must move; {len(moved)} "
                        f"moved" + (f", e.g. {wrong[0][0]!r} from {wrong[0][1]!r} to {wrong[0][2]!r}" if wrong else ""))
            before = after
        if present:
            fresh = h.call("fresh_ring", sorted(present), vnodes, KEYS)
            differ = [(k, a, b) for k, a, b in zip(KEYS, before, fresh) if a != b]
            assert not differ, (f"{where}: {len(differ)} keys map elsewhere than in Ring({sorted(present)!r}, {vnodes}) "
                                f"built at once, e.g. {differ[0][0]!r}: {differ[0][1]!r} here, {differ[0][2]!r} there; "
                                "the ring must not depend on the order of its adds")

    check(learner, ring_cases(), run, ring_show, seed=0x21A6, max_examples=60)
