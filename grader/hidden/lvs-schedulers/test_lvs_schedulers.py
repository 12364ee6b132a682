# canary: hidden-test-lvs-schedulers
"""Hidden tests of lvs-schedulers: rr, smooth wrr, (w)lc and a consistent-hash ring.

The judge keeps its own model of round robin, smooth weighted round robin and
least connections (the statement defines them exactly), and checks the ring by
its invariants: which keys may move on add and remove, balance, and the same
answers in fresh interpreters started with different PYTHONHASHSEED values.
Bulk work runs in the learner's process through helper code (no expected
values in it) so that thousands of lookups cost one round trip.
"""

from __future__ import annotations

import collections
import random

import pytest

from prep_judge import LearnerError

HELPERS = r'''
import json, os, subprocess, sys

def picks(obj, n):
    return [obj.pick() for _ in range(n)]

def script(obj, ops):
    out = []
    for op in ops:
        if op[0] == "pick":
            out.append(obj.pick())
        else:
            obj.set_weight(op[1], op[2])
            out.append(None)
    return out

def lookups(ring, keys):
    return [ring.lookup(k) for k in keys]

def many_lc(cases):
    import schedulers
    return [schedulers.least_connections(servers, active, weights) for servers, active, weights in cases]

FRESH = """
import json, sys
import schedulers
job = json.loads(sys.stdin.read())
ring = schedulers.Ring(job["nodes"], job["vnodes"])
print(json.dumps([ring.lookup(k) for k in job["keys"]]))
"""

def fresh_lookups(nodes, vnodes, keys, hashseed):
    import schedulers
    folder = os.path.dirname(os.path.abspath(schedulers.__file__))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONHASHSEED": str(hashseed),
           "PYTHONDONTWRITEBYTECODE": "1", "HOME": os.environ.get("HOME", "/tmp")}
    done = subprocess.run([sys.executable, "-B", "-c", FRESH], cwd=folder, env=env,
                          input=json.dumps({"nodes": nodes, "vnodes": vnodes, "keys": keys}).encode(),
                          capture_output=True, timeout=20)
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError("a fresh python3 could not build the ring: " + done.stderr.decode("utf-8", "replace")[-800:])
    return json.loads(lines[-1])
'''


def helpers(learner):
    return learner.exec(HELPERS)


# ------------------------------------------------------------------ models


class SwrrModel:
    def __init__(self, weights: dict[str, int]) -> None:
        self.order = list(weights)
        self.weight = dict(weights)
        self.current = {s: 0 for s in weights}

    def pick(self):
        total, best = 0, None
        for s in self.order:
            w = self.weight[s]
            if w == 0:
                continue
            self.current[s] += w
            total += w
            if best is None or self.current[s] > self.current[best]:
                best = s
        if best is None:
            return None
        self.current[best] -= total
        return best

    def set_weight(self, s, w):
        if s not in self.weight:
            self.order.append(s)
            self.current[s] = 0
        self.weight[s] = w


def lc_model(servers, active, weights=None):
    best, bc, bw = None, 0, 0
    for s in servers:
        w = 1 if weights is None else weights.get(s, 1)
        if w <= 0:
            continue
        c = active.get(s, 0)
        if best is None or c * bw < bc * w:
            best, bc, bw = s, c, w
    return best


def keys_for(seed: int, n: int) -> list[str]:
    rnd = random.Random(seed)
    return [f"user:{rnd.getrandbits(40):010x}" for _ in range(n)]


def expect_error(learner_fn, kinds, what):
    try:
        learner_fn()
    except LearnerError as exc:
        assert any(exc.is_a(k) for k in kinds), f"{what} must raise {' or '.join(kinds)}, it raised {exc.type}"
    else:
        raise AssertionError(f"{what} must raise {' or '.join(kinds)}, it returned normally")


# ------------------------------------------------------------------ round robin


@pytest.mark.cards("ipvs-scheduler-algorithms")
def test_round_robin_cycles_in_order_and_instances_are_independent(learner):
    h = helpers(learner)
    one = learner.call("RoundRobin", ["s1", "s2", "s3", "s4"])
    two = learner.call("RoundRobin", ["x", "y"])
    got_one = h.call("picks", one, 10)
    got_two = h.call("picks", two, 3)
    more_one = h.call("picks", one, 2)
    want = ["s1", "s2", "s3", "s4"] * 3
    assert got_one + more_one == want, f"RoundRobin(['s1','s2','s3','s4']) must give {want}, got {got_one + more_one}"
    assert got_two == ["x", "y", "x"], f"a second RoundRobin(['x','y']) must start on its own at 'x': got {got_two}"
    single = learner.call("RoundRobin", ["only"])
    assert h.call("picks", single, 3) == ["only"] * 3, "a RoundRobin of one server must always pick it"
    expect_error(lambda: learner.call("RoundRobin", []), ["ValueError"], "RoundRobin([])")
    expect_error(lambda: learner.call("RoundRobin", ["a", "b", "a"]), ["ValueError"], "RoundRobin(['a','b','a'])")
    many = [f"s{i}" for i in range(300)]
    try:
        big = learner.call("RoundRobin", many)
    except LearnerError as exc:
        raise AssertionError(f"RoundRobin of 300 distinct servers raised {exc.type}: {exc.message}") from None
    assert h.call("picks", big, 302) == many + many[:2], "RoundRobin of 300 servers must give them in order, then wrap"


# ------------------------------------------------------------------ smooth weighted round robin


@pytest.mark.cards("smooth-weighted-round-robin-sequence")
def test_smooth_wrr_interleaves_5_1_1(learner):
    h = helpers(learner)
    wrr = learner.call("SmoothWeightedRoundRobin", {"a": 5, "b": 1, "c": 1})
    got = "".join(h.call("picks", wrr, 21))
    want = "aabacaa" * 3
    assert got == want, (
        f"weights a=5, b=1, c=1 must give the smooth sequence {want[:7]} repeated; got {got}. "
        "Sending a five times in a row is classic (bursty) wrr, not the smooth variant"
    )


@pytest.mark.cards("smooth-weighted-round-robin-sequence")
def test_smooth_wrr_matches_the_algorithm_on_random_weights(learner):
    h = helpers(learner)
    rnd = random.Random(2024)
    for case in range(12):
        n = rnd.randint(2, 6)
        weights = {f"s{i}": rnd.randint(1, 9) for i in range(n)}
        if case % 3 == 0:  # equal weights somewhere: ties go to the first in order
            weights[f"s{n - 1}"] = weights["s0"]
        model = SwrrModel(weights)
        count = 3 * sum(weights.values())
        want = [model.pick() for _ in range(count)]
        got = h.call("picks", learner.call("SmoothWeightedRoundRobin", weights), count)
        for i, (g, w) in enumerate(zip(got, want)):
            assert g == w, (
                f"weights {weights}: pick #{i + 1} should be {w!r} (largest current, first on ties), got {g!r}; "
                f"the first picks were {got[: i + 1]}"
            )


@pytest.mark.cards("ipvs-scheduler-algorithms", "smooth-weighted-round-robin-sequence")
def test_smooth_wrr_shares_follow_the_weights_without_bursts(learner):
    h = helpers(learner)
    weights = {"big": 6, "mid": 3, "small": 1}
    got = h.call("picks", learner.call("SmoothWeightedRoundRobin", weights), 1000)
    counts = collections.Counter(got)
    assert dict(counts) == {"big": 600, "mid": 300, "small": 100}, (
        f"over 1000 picks with weights 6, 3, 1 each server must get exactly its share (600, 300, 100), got {dict(counts)}"
    )
    longest, run = 1, 1
    for prev, cur in zip(got, got[1:]):
        run = run + 1 if cur == prev else 1
        longest = max(longest, run)
    assert longest <= 3, (
        f"with weights 6, 3, 1 the smooth algorithm never picks one server more than 3 times in a row; "
        f"a run of {longest} is a burst"
    )


def test_smooth_wrr_zero_weights(learner):
    h = helpers(learner)
    wrr = learner.call("SmoothWeightedRoundRobin", {"a": 0, "b": 2, "c": 0, "d": 1})
    got = h.call("picks", wrr, 9)
    model = SwrrModel({"a": 0, "b": 2, "c": 0, "d": 1})
    want = [model.pick() for _ in range(9)]
    assert got == want, f"servers of weight 0 are skipped and never picked: expected {want}, got {got}"
    empty = learner.call("SmoothWeightedRoundRobin", {"a": 0, "b": 0})
    assert h.call("picks", empty, 2) == [None, None], "when every weight is 0, pick() must return None"
    nothing = learner.call("SmoothWeightedRoundRobin", {})
    assert nothing.call("pick") is None, "with no server at all, pick() must return None"
    expect_error(lambda: learner.call("SmoothWeightedRoundRobin", {"a": -1}), ["ValueError"], "a weight of -1")
    expect_error(lambda: learner.call("SmoothWeightedRoundRobin", {"a": 1.5}), ["TypeError"], "a weight of 1.5")
    expect_error(lambda: learner.call("SmoothWeightedRoundRobin", {"a": True}), ["TypeError"],
                 "a weight of True (a bool is not a weight, although Python counts it as 1)")


def test_smooth_wrr_weights_changed_at_run_time(learner):
    h = helpers(learner)
    rnd = random.Random(77)
    start = {"a": 4, "b": 2, "c": 1}
    model = SwrrModel(start)
    wrr = learner.call("SmoothWeightedRoundRobin", start)
    ops, described = [], []
    for _ in range(160):
        if rnd.random() < 0.15:
            server = rnd.choice(["a", "b", "c", "d", "e"])
            weight = rnd.choice([0, 0, 1, 2, 3, 5, 8])
            ops.append(["set", server, weight])
        else:
            ops.append(["pick"])
    want = []
    for op in ops:
        if op[0] == "pick":
            want.append(model.pick())
        else:
            model.set_weight(op[1], op[2])
            want.append(None)
    got = h.call("script", wrr, ops)
    for i, (op, g, w) in enumerate(zip(ops, got, want)):
        if op[0] != "pick":
            described.append(f"set_weight({op[1]!r}, {op[2]})")
            continue
        described.append(f"pick()->{w!r}")
        assert g == w, (
            f"starting from weights {start}, after {', '.join(described[-9:-1])} (the most recent operations, "
            f"oldest first), pick() should return {w!r}, got {g!r}. set_weight keeps every current value; "
            "a new server joins at the end with current 0"
        )
    expect_error(lambda: wrr.call("set_weight", "a", -2), ["ValueError"], "set_weight('a', -2)")
    expect_error(lambda: wrr.call("set_weight", "a", 2.0), ["TypeError"], "set_weight('a', 2.0)")
    expect_error(lambda: wrr.call("set_weight", "a", True), ["TypeError"], "set_weight('a', True)")


# ------------------------------------------------------------------ least connections


@pytest.mark.cards("ipvs-scheduler-algorithms")
def test_least_connections_follows_changing_counts(learner):
    servers = ["r1", "r2", "r3", "r4"]
    active = {s: 0 for s in servers}
    rnd = random.Random(5)
    cases, wants = [], []
    for step in range(300):
        # a new connection goes to the chosen server; now and then some finish
        choice = lc_model(servers, active)
        cases.append([servers, dict(active), None])
        wants.append(choice)
        active[choice] += 1
        if rnd.random() < 0.4:
            done = rnd.choice(servers)
            if active[done] > 0:
                active[done] -= rnd.randint(1, active[done])
    got = helpers(learner).call("many_lc", cases)
    for (srv, act, _), g, w in zip(cases, got, wants):
        assert g == w, f"least_connections({srv}, {act}) should pick {w!r} (fewest active, first on ties), got {g!r}"
    sparse = learner.call("least_connections", ["a", "b", "c"], {"a": 1, "c": 1})
    assert sparse == "b", f"a server missing from `active` has 0 connections: expected 'b', got {sparse!r}"
    none = learner.call("least_connections", [], {})
    assert none is None, f"with no server, least_connections must return None, got {none!r}"


@pytest.mark.cards("ipvs-scheduler-algorithms")
def test_weighted_least_connections(learner):
    rnd = random.Random(11)
    cases, wants = [], []
    for _ in range(400):
        servers = [f"w{i}" for i in range(rnd.randint(1, 5))]
        active = {s: rnd.randint(0, 12) for s in servers if rnd.random() < 0.9}
        weights = {s: rnd.choice([0, 1, 1, 2, 3, 4, 7]) for s in servers if rnd.random() < 0.85}
        cases.append([servers, active, weights])
        wants.append(lc_model(servers, active, weights))
    # equal ratios (1/3 and 3/9) tie and go to the first; all-zero weights pick nothing
    cases.append([["p", "q"], {"p": 1, "q": 3}, {"p": 3, "q": 9}])
    wants.append("p")
    cases.append([["p", "q"], {"p": 5, "q": 5}, {"p": 0, "q": 0}])
    wants.append(None)
    got = helpers(learner).call("many_lc", cases)
    for (srv, act, wts), g, w in zip(cases, got, wants):
        assert g == w, (
            f"least_connections({srv}, {act}, weights={wts}) should pick {w!r} (smallest active/weight, "
            f"weight 0 never, ties to the first), got {g!r}"
        )


PURE_INPUTS = r'''
import schedulers

servers = ["a", "b", "c", "d"]
active = {"a": 4, "b": 2, "c": 2}
weights = {"a": 2, "b": 1, "d": 0}

def weighted():
    return schedulers.least_connections(servers, active, weights)

def unweighted():
    return schedulers.least_connections(servers, active)
'''


def test_least_connections_is_pure(learner):
    ns = learner.exec(PURE_INPUTS)
    inputs = {"servers": ["a", "b", "c", "d"], "active": {"a": 4, "b": 2, "c": 2}, "weights": {"a": 2, "b": 1, "d": 0}}
    shown = "least_connections(['a', 'b', 'c', 'd'], {'a': 4, 'b': 2, 'c': 2}, {'a': 2, 'b': 1, 'd': 0})"
    for call, want, what in [("weighted", "a", shown), ("unweighted", "d", shown.replace(", {'a': 2, 'b': 1, 'd': 0})", ")")),
                             ("weighted", "a", shown)]:
        for attempt in (1, 2, 3):
            got = ns.call(call)
            assert got == want, (
                f"{what}, call #{attempt} on the same objects, must give {want!r} (a pure function: the same inputs "
                f"give the same output, every time), got {got!r}"
            )
            for name, before in inputs.items():
                after = ns.get(name)
                assert after == before, (
                    f"after {what}, the argument `{name}` was changed from {before!r} to {after!r}: least_connections "
                    "is a pure function and must not change its arguments (the caller counts the new connection itself)"
                )


def test_least_connections_compares_ratios_exactly(learner):
    big = 10**16
    cases = [
        # 3 + 1e-16 > 3: the same float, but the second server is strictly less loaded
        (["big", "small"], {"big": 3 * big + 1, "small": 3}, {"big": big, "small": 1}, "small",
         "(3*10**16 + 1) / 10**16 is more than 3 / 1"),
        (["x", "y"], {"x": 2**53 + 1, "y": 2**53}, None, "y", "2**53 + 1 connections are more than 2**53"),
        (["p", "q", "r"], {"p": 7 * big + 1, "q": 7 * big + 2, "r": 7}, {"p": big, "q": big, "r": 1}, "r",
         "7 / 1 is less than (7*10**16 + 1) / 10**16"),
        (["u", "v"], {"u": 5 * big + 1, "v": 5 * big}, {"u": big, "v": big}, "v",
         "(5*10**16) / 10**16 is less than (5*10**16 + 1) / 10**16"),
    ]
    got = helpers(learner).call("many_lc", [[s, a, w] for s, a, w, _, _ in cases])
    for (servers, active, weights, want, why), g in zip(cases, got):
        assert g == want, (
            f"least_connections({servers}, {active}, weights={weights}) should pick {want!r}: {why}, though as floats "
            f"the two ratios are equal. Compare exactly (a1 * w2 < a2 * w1), never with float division; got {g!r}"
        )


# ------------------------------------------------------------------ consistent hashing


@pytest.mark.cards("consistent-hashing-minimal-remap")
def test_ring_remove_moves_only_the_removed_nodes_keys(learner):
    h = helpers(learner)
    nodes = [f"cache-{i}" for i in range(8)]
    keys = keys_for(1, 4000)
    ring = learner.call("Ring", nodes, 100)
    before = h.call("lookups", ring, keys)
    ring.call("remove", "cache-3")
    after = h.call("lookups", ring, keys)
    moved_others = sum(1 for b, a in zip(before, after) if b != a and b != "cache-3")
    assert moved_others == 0, (
        f"after remove('cache-3'), {moved_others} keys of other nodes moved: only the removed node's keys may move"
    )
    still = sum(1 for a in after if a == "cache-3")
    assert still == 0, f"after remove('cache-3'), {still} keys still map to it"
    assert sum(1 for b in before if b == "cache-3") > 0, "cache-3 owned no key at all among 4000: the ring is not spreading keys"
    try:
        ring.call("remove", "cache-3")
    except LearnerError as exc:
        assert exc.is_a("KeyError"), f"removing a node that is not there must raise KeyError, it raised {exc.type}"
    else:
        raise AssertionError("removing a node that is not there must raise KeyError")


@pytest.mark.cards("consistent-hashing-minimal-remap")
def test_ring_add_moves_about_one_in_n_keys_all_to_the_new_node(learner):
    h = helpers(learner)
    nodes = [f"node-{i}" for i in range(10)]
    keys = keys_for(2, 5000)
    ring = learner.call("Ring", nodes, 100)
    before = h.call("lookups", ring, keys)
    ring.call("add", "node-10")
    after = h.call("lookups", ring, keys)
    moved = [(b, a) for b, a in zip(before, after) if b != a]
    elsewhere = sum(1 for b, a in moved if a != "node-10")
    assert elsewhere == 0, (
        f"after add('node-10'), {len(moved)} of {len(keys)} keys moved and {elsewhere} of them went to a node that was "
        "already there: adding a node may only move keys to the new node (is this hash % N?)"
    )
    share = len(moved) / len(keys)
    assert 0.04 <= share <= 0.2, (
        f"adding an 11th node should move about 1/11 of the keys (9%); {share:.1%} moved"
    )
    ring.call("add", "node-10")
    again = h.call("lookups", ring, keys[:500])
    assert again == after[:500], "adding a node that is already in the ring must change nothing"


def test_ring_balances_with_virtual_nodes(learner):
    h = helpers(learner)
    nodes = [f"backend-{i:02d}" for i in range(10)]
    keys = keys_for(3, 10000)
    got = h.call("lookups", learner.call("Ring", nodes, 160), keys)
    counts = collections.Counter(got)
    unknown = set(counts) - set(nodes)
    assert not unknown, f"lookup returned names that are not nodes: {sorted(unknown)[:3]}"
    most, least = max(counts.values()), min(counts[n] for n in nodes)
    assert most <= 1350 and least >= 650, (
        f"with 160 virtual nodes each, 10 nodes should each get about 1000 of 10000 keys; the busiest got {most} and "
        f"the idlest {least}. Are the virtual nodes at distinct points (hash of 'node#i' for each i)?"
    )


def test_ring_is_the_same_in_fresh_processes(learner):
    h = helpers(learner)
    nodes = ["alpha", "bravo", "charlie", "delta", "echo"]
    keys = keys_for(4, 600)
    here = h.call("lookups", learner.call("Ring", nodes, 50), keys)
    for seed in (1, 2):
        there = h.call("fresh_lookups", nodes, 50, keys, seed)
        differ = sum(1 for a, b in zip(here, there) if a != b)
        assert differ == 0, (
            f"a fresh python3 (PYTHONHASHSEED={seed}) maps {differ} of {len(keys)} keys to other nodes than this process: "
            "the ring must use a stable hash such as md5, not the built-in hash(), which is salted per process"
        )


def test_ring_does_not_depend_on_the_order_of_nodes(learner):
    h = helpers(learner)
    nodes = [f"n{i}" for i in range(7)]
    keys = keys_for(5, 1500)
    first = h.call("lookups", learner.call("Ring", nodes, 40), keys)
    shuffled = nodes[:]
    random.Random(9).shuffle(shuffled)
    second = h.call("lookups", learner.call("Ring", shuffled, 40), keys)
    differ = sum(1 for a, b in zip(first, second) if a != b)
    assert differ == 0, f"listing the same nodes in another order moved {differ} of {len(keys)} keys: the ring must depend only on the hashes"
    grown = learner.call("Ring", nodes[:3], 40)
    for n in nodes[3:]:
        grown.call("add", n)
    third = h.call("lookups", grown, keys)
    differ = sum(1 for a, b in zip(first, third) if a != b)
    assert differ == 0, f"a ring built by add() one node at a time differs from one built at once on {differ} keys"


def test_ring_edge_cases(learner):
    ring = learner.call("Ring", [], 10)
    expect_error(lambda: ring.call("lookup", "k"), ["LookupError"], "lookup on an empty ring")
    ring.call("add", "solo")
    got = helpers(learner).call("lookups", ring, keys_for(6, 50))
    assert set(got) == {"solo"}, f"a ring of one node must send every key to it, got {sorted(set(got))}"
    ring.call("remove", "solo")
    expect_error(lambda: ring.call("lookup", "k"), ["LookupError"], "lookup after removing the last node")
    for bad in (0, -3, 2.5, True):
        expect_error(lambda bad=bad: learner.call("Ring", ["a"], bad), ["ValueError"], f"Ring(['a'], vnodes={bad!r})")


def test_ring_counts_a_node_listed_twice_once(learner):
    h = helpers(learner)
    keys = keys_for(7, 800)
    once = h.call("lookups", learner.call("Ring", ["a", "b", "c"], 20), keys)
    twice = learner.call("Ring", ["a", "b", "a", "c", "a"], 20)
    got = h.call("lookups", twice, keys)
    differ = sum(1 for x, y in zip(once, got) if x != y)
    assert differ == 0, (
        f"Ring(['a', 'b', 'a', 'c', 'a']) must be Ring(['a', 'b', 'c']) (a name listed twice counts once), "
        f"but {differ} of {len(keys)} keys map to other nodes"
    )
    twice.call("remove", "a")
    left = h.call("lookups", twice, keys)
    still = sum(1 for n in left if n == "a")
    assert still == 0, f"after remove('a') on a ring where 'a' was listed three times, {still} keys still map to 'a'"
    try:
        twice.call("remove", "a")
    except LearnerError as exc:
        assert exc.is_a("KeyError"), f"a second remove('a') must raise KeyError ('a' is no longer there), it raised {exc.type}"
    else:
        raise AssertionError("'a' was listed three times but is one node: a second remove('a') must raise KeyError")
