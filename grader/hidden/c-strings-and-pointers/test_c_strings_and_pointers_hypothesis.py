"""Hidden tests of c-strings-and-pointers with Hypothesis: my_strlcpy, split and my_memmove on drawn bytes.

Hypothesis draws one call at a time (fixed seed, prep_judge.model): a source of any bytes but NUL and a size
around its length (one short, an exact fit, more room, 0); a string of any bytes but NUL cut by any delimiter
byte, above 127 included (a negative char), with delimiters at the start, the end and doubled, and room for
fewer, as many or more fields than it has; a buffer of any bytes, NUL included, with a move inside it in either
direction, overlapping or not. The program runs through main()'s protocol as in test_c_strings_and_pointers.py,
and every line it prints is compared with what the statement says it must print, computed here. A difference
is shrunk to the smallest call that still shows it.
"""
# canary: hidden-test-c-strings-and-pointers

from prep_judge import LearnerTimeout
from test_c_strings_and_pointers import failure, fnv1a, quote

CASE_SECONDS = 3.0  # one run of the program takes milliseconds; a hung one must not eat the test's 15 s
# bytes worth drawing more often than their share: the top bit set (negative in a char), the last ASCII one,
# the ones main prints escaped, the canary byte, the '#' main fills dst with, a delimiter of the other tests
SPECIAL = (0x80, 0xFF, 0xE9, 0xA5, 0x7F, 0x01, 0x22, 0x5C, 0x0A, 0x23, 0x20, 0x2C)
SHOWN_BYTES = 48  # bytes of a buffer shown in the case


# ---------------------------------------------------------------- the statement's model


def model_strlcpy(src: bytes, size: int) -> list[str]:
    """What `puzzles strlcpy SIZE` prints: strlen(src), then dst (size - 1 bytes at most, and its NUL)."""
    return [f"return {len(src)}", "dst has no room" if size == 0 else f"dst {quote(src[: size - 1])}"]


def model_split(text: bytes, delim: int, max_fields: int) -> list[str]:
    """What `puzzles split DELIM MAX` prints: k delimiters make k + 1 fields, empty ones included; the first MAX."""
    fields = text.split(bytes([delim]))
    return [f"count {len(fields)}"] + [f"field {i} {quote(f)}" for i, f in enumerate(fields[:max_fields])]


def moved(data: bytes, dst: int, src: int, n: int) -> bytes:
    after = bytearray(data)
    after[dst : dst + n] = data[src : src + n]  # every byte read before any is written: what memmove promises
    return bytes(after)


def model_memmove(data: bytes, dst: int, src: int, n: int) -> list[str]:
    """What `puzzles memmove SIZE DST SRC N` prints: dst returned, the hash of the whole buffer, the buffer."""
    after = moved(data, dst, src, n)
    return ["return dst", f"fnv1a {fnv1a(after)}"] + ([f"buf {after.hex()}"] if len(after) <= 256 else [])


# ---------------------------------------------------------------- the cases


def cases():
    from hypothesis import strategies as st

    string_byte = st.one_of(st.integers(0x20, 0x7E), st.integers(1, 255), st.sampled_from(SPECIAL))
    memory_byte = st.one_of(st.integers(0, 255), st.just(0), st.sampled_from(SPECIAL))

    def around(length):
        """A count at and across `length`: 0 to 3, length - 2 to length + 2, or anything up to length + 5."""
        near = st.integers(-2, 2).map(lambda d: max(0, length + d))
        return st.one_of(near, near, st.integers(0, 3), st.integers(0, length + 5))

    @st.composite
    def strlcpy_case(draw):
        src = bytes(draw(st.lists(string_byte, max_size=draw(st.sampled_from((6, 40, 300))))))
        return ("strlcpy", src, draw(around(len(src) + 1)))  # len + 1 is the exact fit

    @st.composite
    def split_case(draw):
        delim = draw(st.one_of(st.sampled_from(b",; :"), st.sampled_from(SPECIAL), st.integers(1, 255)))
        # None is a delimiter: about one byte in three, so empty fields, doubled ones and ends come often
        token = st.one_of(string_byte, string_byte, st.none())
        runs = draw(st.lists(st.lists(token, max_size=8), min_size=1, max_size=8))  # longer than one list's ~5
        text = bytes(delim if t is None else t for run in runs for t in run)
        return ("split", text, delim, draw(around(text.count(delim) + 1)))

    @st.composite
    def memmove_case(draw):
        size = draw(st.one_of(st.integers(0, 24), st.integers(0, 64), st.integers(250, 262)))  # 256: buf printed
        n = draw(st.integers(0, size))
        dst = draw(st.integers(0, size - n))
        src = draw(st.one_of(st.integers(0, size - n), st.integers(-3, 3).map(lambda d: min(size - n, max(0, dst + d)))))
        data = bytes(draw(st.lists(memory_byte, min_size=size, max_size=size)))
        return ("memmove", data, dst, src, n)

    return st.one_of(strlcpy_case(), strlcpy_case(), split_case(), split_case(), memmove_case())


# ---------------------------------------------------------------- showing a case


def plural(count: int) -> str:
    return "" if count == 1 else "s"


def c_string(data: bytes) -> str:
    text = quote(data[:SHOWN_BYTES])
    return text if len(data) <= SHOWN_BYTES else f"{text[:-1]}...\" ({len(data)} bytes)"


def c_char(byte: int) -> str:
    return "'\\''" if byte == 0x27 else "'" + quote(bytes([byte]))[1:-1].replace('\\"', '"') + "'"


def hex_bytes(data: bytes) -> str:
    shown = " ".join(f"{b:02x}" for b in data[:SHOWN_BYTES])
    return shown + (f" ... ({len(data)} bytes)" if len(data) > SHOWN_BYTES else "")


def call(case) -> str:
    """The C call the case makes, as the learner would write it."""
    if case[0] == "strlcpy":
        _, src, size = case
        return f"my_strlcpy(dst, {c_string(src)}, {size})"
    if case[0] == "split":
        _, text, delim, max_fields = case
        return f"split({c_string(text)}, {c_char(delim)}, fields, {max_fields})"
    _, data, dst, src, n = case
    return f"my_memmove(buf + {dst}, buf + {src}, {n})"


def overlap(dst: int, src: int, n: int) -> str:
    if dst > src and src + n > dst:
        return "the ranges overlap, dst after src"
    if src > dst and dst + n > src:
        return "the ranges overlap, dst before src"
    return "onto itself" if dst == src and n else "the ranges do not overlap"


def show(case) -> list[str]:
    if case[0] == "strlcpy":
        _, src, size = case
        want = "writes nothing" if size == 0 else f"leaves dst {c_string(src[: size - 1])}"
        return [f"{call(case)}  // dst has {size} byte{plural(size)}; must return {len(src)} and it {want}"]
    if case[0] == "split":
        _, text, delim, max_fields = case
        fields = text.split(bytes([delim]))
        stored = ", ".join(c_string(f) for f in fields[:max_fields]) or "none"
        return [f"{call(case)}  // must return {len(fields)} and store {stored}"]
    _, data, dst, src, n = case
    return [f"char buf[{len(data)}] = {{{hex_bytes(data)}}};",
            f"{call(case)};  // {overlap(dst, src, n)}; then buf must be {{{hex_bytes(moved(data, dst, src, n))}}}"]


# ---------------------------------------------------------------- one case through main()


def command(case) -> tuple[list[str], bytes, list[str]]:
    """main()'s arguments and stdin for the case, and the lines the statement says it prints."""
    if case[0] == "strlcpy":
        _, src, size = case
        return ["strlcpy", str(size)], src, model_strlcpy(src, size)
    if case[0] == "split":
        _, text, delim, max_fields = case
        # one byte as an argument: above 127 it is not UTF-8, so it goes as the lone surrogate that becomes it
        arg = bytes([delim]).decode("utf-8", "surrogateescape")
        return ["split", arg, str(max_fields)], text, model_split(text, delim, max_fields)
    _, data, dst, src, n = case
    return ["memmove", str(len(data)), str(dst), str(src), str(n)], data, model_memmove(data, dst, src, n)


def explain(case, i: int, want: str, got: str, lines: list[str]) -> str:
    """Why line i of main's output is wrong, in the statement's words."""
    what = call(case)
    said = f"main printed {got[:70]!r}"
    if case[0] == "strlcpy":
        _, src, size = case
        high = " (a byte above 127 is a character like any other, not the end of the string)" if max(src, default=0) > 127 else ""
        if i == 0:
            return (f"{what} must return strlen(src) = {len(src)} whatever size is (that is how the caller sees a cut)"
                    f"{high}; {said}")
        if got.startswith("dst unterminated"):
            return (f"{what} left no '\\0' among the {size} bytes of dst ({said}): when src does not fit, copy "
                    "size - 1 bytes and put the '\\0' in the last one")
        return f"{what}: dst must hold {want[4:][:70]}{high}; {said}"
    if case[0] == "split":
        _, text, delim, max_fields = case
        k = text.count(delim)
        high = (f" (the delimiter {c_char(delim)} is above 127, negative in a char: compare it with the bytes of s "
                "as the same type, char with char)") if delim > 127 else ""
        if i == 0:
            return (f"{what} must return {k + 1}: {k} delimiter{plural(k)} make{'s' if k == 1 else ''} {k + 1} "
                    f"field{plural(k + 1)}, empty ones included, counted even when they do not fit in max_fields"
                    f"{high}; {said}")
        if got == "(nothing)":
            return f"{what}: main printed only {i - 1} field{plural(i - 1)}; fields[{i - 1}] must be {want.split(' ', 2)[2][:70]}{high}"
        return f"{what}: fields[{i - 1}] must be {want.split(' ', 2)[2][:70]}{high}; {said}"
    _, data, dst, src, n = case
    if i == 0:
        return f"{what} must return its dst argument; {said}"
    where = ""
    if len(lines) > 2 and lines[2].startswith("buf "):
        try:
            after = bytes.fromhex(lines[2][4:])
        except ValueError:
            after = b""
        want_buf = moved(data, dst, src, n)
        first = next((j for j in range(min(len(after), len(want_buf))) if after[j] != want_buf[j]), None)
        if first is not None:
            where = f": buf[{first}] is {after[first]:#04x} instead of {want_buf[first]:#04x}"
    return (f"{what} on {len(data)} bytes ({overlap(dst, src, n)}) left the buffer wrong{where}. The whole buffer is "
            "compared: bytes outside dst stay as they were, zero bytes are copied like any other, and every byte of "
            "src must be read before it is overwritten")


def test_hypothesis_strings_and_bytes_against_the_statement(learner):
    from prep_judge.model import FailNow, check

    def run(case):
        args, stdin, want = command(case)
        try:
            done = learner.run_program(args, stdin, timeout=CASE_SECONDS)
        except LearnerTimeout:  # an endless loop: each run costs the whole timeout, do not shrink
            raise FailNow(f"{call(case)} did not return within {CASE_SECONDS:g} s (it takes milliseconds)") from None
        if done.returncode != 0:
            raise AssertionError(failure(f"`{call(case)}` (`puzzles {case[0]}`)", done))
        lines = done.stdout.decode("ascii", "replace").splitlines()
        for i, expected in enumerate(want):
            got = lines[i] if i < len(lines) else "(nothing)"
            if got != expected:
                raise AssertionError(explain(case, i, expected, got, lines))
        assert len(lines) == len(want), (
            f"{call(case)}: main printed {len(lines) - len(want)} line{plural(len(lines) - len(want))} more than "
            f"the {len(want)} expected, "
            f"first {lines[len(want)][:70]!r}")

    check(learner, cases(), run, show, seed=0xC57A, max_examples=150)
