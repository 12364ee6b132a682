"""Hidden tests of c-strings-and-pointers: puzzles.c run as a program, through the protocol of its main().

main() (given in the starter) puts every buffer just before an inaccessible
guard page and just after canary bytes it checks, so a write one byte past a
buffer dies of SIGSEGV and one before it exits 4 saying so. The tests compare
what main prints with a model computed here and never shown to the program.

Canary (the red-team tests check this text never reaches the learner): PREP-CANARY-3be8d05a-c-strings-and-pointers
"""

import base64
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile

import pytest
from prep_judge import HarnessError

PROGRAM_SECONDS = 10.0  # one run of the program; it takes milliseconds (gcc runs before the tests, not in them)
SHOWN = 60  # characters of an input or an output quoted in a message
OPS = {
    "negate": lambda x: -x,
    "double": lambda x: 2 * x,
    "square": lambda x: x * x,
    "abs": abs,
}


# ---------------------------------------------------------------- helpers


def short(data) -> str:
    text = repr(data)
    unit = "bytes" if isinstance(data, (bytes, bytearray, str)) else "items"
    return text if len(text) <= SHOWN else f"{text[:SHOWN]}... ({len(data)} {unit})"


def quote(data: bytes) -> str:
    """What main's print_quoted() prints for these bytes."""
    out = ['"']
    for c in data:
        if c in (0x22, 0x5C):
            out.append("\\" + chr(c))
        elif c == 0:
            out.append("\\0")
        elif c == 0x0A:
            out.append("\\n")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append(f"\\x{c:02x}")
    out.append('"')
    return "".join(out)


def fnv1a(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for c in data:
        h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def failure(command: str, done) -> str:
    """Why a run that should have exited 0 did not, for the learner."""
    if done.returncode == -signal.SIGSEGV:
        why = (
            "died of SIGSEGV: it read or wrote outside a buffer. main() puts every buffer right before an "
            "inaccessible guard page, so touching even one byte past the end crashes"
        )
    elif done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        why = f"was killed by {name}"
    elif done.returncode == 4:
        why = "exited with status 4: main() found memory changed that your function must not touch"
    else:
        why = f"exited with status {done.returncode}"
    stdout = done.stdout.decode("ascii", "replace").strip()
    stderr = done.stderr.decode("utf-8", "replace").strip()
    said = "".join(f"; its {name}: {text[-300:]!r}" for name, text in (("stdout", stdout), ("stderr", stderr)) if text)
    return f"{command} {why}{said}"


def run(learner, args: list[str], stdin: bytes = b"") -> list[str]:
    """Run `puzzles ARGS` with stdin; its stdout lines. Fails the test unless it exits 0."""
    done = learner.run_program(args, stdin, timeout=PROGRAM_SECONDS)
    command = f"`puzzles {' '.join(args)}` with stdin {short(stdin)}"
    if done.returncode != 0:
        raise AssertionError(failure(command, done))
    return done.stdout.decode("ascii", "replace").splitlines()


def line(lines: list[str], i: int) -> str:
    return lines[i] if i < len(lines) else "(nothing)"


def check_strlcpy(learner, src: bytes, size: int) -> None:
    lines = run(learner, ["strlcpy", str(size)], src)
    case = f"my_strlcpy(dst, {short(src)}, {size})"
    got_return = line(lines, 0)
    assert got_return == f"return {len(src)}", (
        f"{case} must return strlen(src) = {len(src)}, whatever the size (that is how the caller "
        f"sees truncation); main printed {got_return!r}"
    )
    want = "dst has no room" if size == 0 else f"dst {quote(src[: size - 1])}"
    got = line(lines, 1)
    if got.startswith("dst unterminated"):
        raise AssertionError(
            f"{case} left dst without a NUL among its {size} bytes (main printed {got[:SHOWN]!r}...): "
            "when src does not fit, copy size - 1 bytes and put the NUL in the last byte"
        )
    assert got == want, f"{case}: dst should hold {want[4:][:SHOWN]}, main printed {got[:SHOWN + 4]!r}"


def check_split(learner, text: bytes, delim: str, max_fields: int) -> None:
    lines = run(learner, ["split", delim, str(max_fields)], text)
    fields = text.split(delim.encode())
    case = f"split({short(text)}, {delim!r}, fields, {max_fields})"
    got_count = line(lines, 0)
    assert got_count == f"count {len(fields)}", (
        f"{case} must return the number of fields, {len(fields)} (k delimiters make k + 1 fields, empty ones "
        f"included, even when they do not all fit); main printed {got_count!r}"
    )
    stored = fields[:max_fields]
    for i, field in enumerate(stored):
        got = line(lines, 1 + i)
        assert got == f"field {i} {quote(field)}", (
            f"{case}: fields[{i}] should be {quote(field)[:SHOWN]}, main printed {got[:SHOWN + 10]!r}"
        )
    assert len(lines) == 1 + len(stored), f"{case}: main printed more than the expected {len(stored)} field(s)"


def check_memmove(learner, data: bytes, dst: int, src: int, n: int) -> None:
    lines = run(learner, ["memmove", str(len(data)), str(dst), str(src), str(n)], data)
    case = f"my_memmove(buf + {dst}, buf + {src}, {n}) on {len(data)} bytes"
    assert line(lines, 0) == "return dst", f"{case} must return its dst argument; main printed {line(lines, 0)!r}"
    want = bytearray(data)
    want[dst : dst + n] = data[src : src + n]
    if line(lines, 1) == f"fnv1a {fnv1a(bytes(want))}":
        return
    where = ""
    if len(lines) > 2 and lines[2].startswith("buf "):
        got = bytes.fromhex(lines[2][4:])
        first = next((i for i in range(len(want)) if i >= len(got) or got[i] != want[i]), None)
        where = f": byte {first} is {got[first]:#04x} instead of {want[first]:#04x}" if first is not None and first < len(got) else ""
    overlap = "the ranges overlap with dst after src" if dst > src and src + n > dst else (
        "the ranges overlap with dst before src" if src > dst and dst + n > src else "the ranges do not overlap")
    raise AssertionError(f"{case} ({overlap}) left the buffer wrong{where}; the whole buffer is compared, so bytes "
                         f"outside dst must stay as they were, and every byte must be read before it is overwritten")


def check_apply(learner, op: str, values: list[int]) -> None:
    stdin = " ".join(map(str, values)).encode()
    done = learner.run_program(["apply", op], stdin, timeout=PROGRAM_SECONDS)
    if done.returncode == 3 and done.stdout == b"unknown operation\n":
        raise AssertionError(f"find_op({op!r}) returned NULL, but {op!r} is one of the four operations")
    if done.returncode != 0:
        raise AssertionError(failure(f"`puzzles apply {op}` with stdin {short(stdin)}", done))
    want = "values" + "".join(f" {OPS[op](v)}" for v in values)
    case = f"apply(a, {len(values)}, find_op({op!r})) on {short(values)}"
    got = line(done.stdout.decode("ascii", "replace").splitlines(), 0)
    assert got == want, f"{case} should give {want[7:][:SHOWN]!r}, main printed {got[:SHOWN + 7]!r}"


def matrix_input(rows: list[list[int]]) -> bytes:
    return "".join(" ".join(map(str, r)) + "\n" for r in rows).encode()


# ---------------------------------------------------------------- my_strlcpy


def test_strlcpy_copies_when_it_fits(learner):
    for src, size in ((b"hello", 10), (b"hello", 6), (b"a", 2), (b"", 1), (b"", 8), (b"tab\there \"q\" \\", 64)):
        check_strlcpy(learner, src, size)


def test_strlcpy_truncates_and_terminates(learner):
    # one short of fitting, then shorter: dst gets size - 1 bytes and a NUL, the return value stays strlen(src)
    for src, size in ((b"hello", 5), (b"interview", 4), (b"hello", 2), (b"hello", 1)):
        check_strlcpy(learner, src, size)


def test_strlcpy_size_zero_writes_nothing(learner):
    # dst is 0 bytes: it points at the guard page itself, so any write crashes
    for src in (b"hello", b""):
        check_strlcpy(learner, src, 0)


def test_strlcpy_long_source(learner):
    rng = random.Random(20240611)
    letters = b"abcdefghijklmnopqrstuvwxyz0123456789"
    long_src = rng.randbytes(1 << 20).translate(bytes(letters[i % len(letters)] for i in range(256)))
    check_strlcpy(learner, long_src, 100)
    medium = long_src[:20000]
    check_strlcpy(learner, medium, len(medium) + 1)  # exact fit
    check_strlcpy(learner, medium, len(medium))  # one short


# ---------------------------------------------------------------- split


def test_split_fields(learner):
    check_split(learner, b"a,b,c", ",", 8)
    check_split(learner, b"one", ",", 4)
    check_split(learner, b"usr:bin:sh", ":", 3)  # exactly as many fields as room


def test_split_keeps_empty_fields(learner):
    # bytes of 0x80 and above are negative in a signed char: they are not the end of the string
    check_split(learner, "h\u00e9llo,w\u00f6rld,\u4e2d\u6587".encode(), ",", 8)
    for text, delim in ((b"a,,b,", ","), (b",x", ","), (b",", ","), (b",,", ","), (b"", ","), (b"  two  words ", " ")):
        check_split(learner, text, delim, 8)


def test_split_more_fields_than_room(learner):
    # fields has room for max_fields pointers and ends at a guard page: fields[max_fields] is a crash
    check_split(learner, b"a,b,c,d,e", ",", 2)
    check_split(learner, b"a,b", ",", 1)
    check_split(learner, b",,,", ",", 3)
    check_split(learner, b"x,y", ",", 0)  # no room at all: still counts


def test_split_long_input(learner):
    rng = random.Random(7)
    fields = [bytes(rng.choice(b"ab-_.xyz") for _ in range(rng.choice((0, 0, 1, 3, 8)))) for _ in range(2000)]
    check_split(learner, b";".join(fields), ";", 2000)
    check_split(learner, b";".join(fields), ";", 1500)


# ---------------------------------------------------------------- my_memmove


def test_memmove_disjoint_binary(learner):
    data = bytes(range(64))  # a zero byte first: this is memory, not a string
    check_memmove(learner, data, 40, 0, 16)
    check_memmove(learner, data, 0, 48, 16)
    check_memmove(learner, b"\x00\x01\x00\xff\x00\x00\x7f\x80", 4, 0, 4)


def test_memmove_overlap_dst_after_src(learner):
    data = bytes(range(1, 33))
    check_memmove(learner, data, 4, 0, 20)
    check_memmove(learner, data, 1, 0, 31)


def test_memmove_overlap_dst_before_src(learner):
    data = bytes(range(1, 33))
    check_memmove(learner, data, 0, 4, 20)
    check_memmove(learner, data, 0, 1, 31)


def test_memmove_edge_cases(learner):
    data = bytes(range(100, 116))
    check_memmove(learner, data, 16, 0, 0)  # nothing to move, dst at the very end (the guard page)
    check_memmove(learner, data, 0, 16, 0)
    check_memmove(learner, data, 3, 3, 10)  # onto itself
    check_memmove(learner, data, 0, 0, 16)
    check_memmove(learner, b"", 0, 0, 0)


def test_memmove_large_overlap(learner):
    rng = random.Random(1234)
    data = rng.randbytes(1 << 20)
    for dst, src in ((1, 0), (0, 1), (4097, 0), (0, 4097)):
        check_memmove(learner, data, dst, src, len(data) - max(dst, src))


# What my_memmove may not reach: the library's copies, and the allocators of a second buffer.
NOT_BYTE_BY_BYTE = {
    "memmove": "memmove", "memcpy": "memcpy", "mempcpy": "memcpy", "bcopy": "memmove",
    "__memmove_chk": "memmove", "__memcpy_chk": "memcpy", "__mempcpy_chk": "memcpy",
    "malloc": "a second buffer", "calloc": "a second buffer", "realloc": "a second buffer",
    "reallocarray": "a second buffer", "aligned_alloc": "a second buffer", "posix_memalign": "a second buffer",
    "memalign": "a second buffer", "valloc": "a second buffer", "strdup": "a second buffer",
    "strndup": "a second buffer",
}
FUNCTION = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
INSTRUCTION = re.compile(r"^\s+[0-9a-f]+:\s+(.*)$")
TARGET = re.compile(r"<([^>+]+)>")  # a call or jump to the start of a function (not <f+0x12>)
STACK = re.compile(r"\bsub\s+(\$0x([0-9a-f]+)|%[a-z0-9]+),%rsp")


def disassembly(binary: bytes) -> dict:
    """{function: [instruction text]} from objdump, or None without objdump."""
    objdump = shutil.which("objdump")
    if objdump is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "prog")
        with open(path, "wb") as f:
            f.write(binary)
        done = subprocess.run([objdump, "-d", "--no-show-raw-insn", path], capture_output=True, timeout=30)
    functions, current = {}, None
    for row in done.stdout.decode("utf-8", "replace").splitlines():
        head = FUNCTION.match(row)
        if head:
            current = functions.setdefault(head.group(1), [])
            continue
        body = INSTRUCTION.match(row)
        if body and current is not None:
            current.append(body.group(1))
    return functions


def reached_from(functions: dict, start: str) -> tuple[list, list]:
    """([(library function, path)], [(function, instruction)] that make room on the stack)."""
    calls, stack, seen, todo = [], [], {start}, [[start]]
    while todo:
        path = todo.pop()
        for instruction in functions.get(path[-1], []):
            words = instruction.split()
            mnemonic = words[1] if words and words[0] in ("bnd", "notrack") and len(words) > 1 else (words[0] if words else "")
            if mnemonic.startswith(("call", "jmp")):
                target = TARGET.search(instruction)
                if target:
                    name = target.group(1).split("@")[0]
                    if name in NOT_BYTE_BY_BYTE:
                        calls.append((name, path))
                    elif name in functions and name not in seen and not target.group(1).endswith("@plt"):
                        seen.add(name)
                        todo.append(path + [name])
            room = STACK.search(instruction)
            if room and (room.group(2) is None or int(room.group(2), 16) >= 256):
                stack.append((path[-1], instruction.strip()))
    return calls, stack


def test_memmove_byte_by_byte_without_the_library_or_a_second_buffer(learner):
    program = learner.spawn(["memmove", "4", "0", "0", "4"], stdin=learner.PIPE)
    try:
        # The compiled puzzles.c, read by the driver while the program waits for its stdin. A C exercise has no
        # Python worker, which learner.read_file() would start: ask the driver directly.
        binary = base64.b64decode(learner._ask("read_file", "reading the compiled program", path=f"/proc/{program.pid}/exe"))
    finally:
        program.write(b"abcd")
        program.close_stdin()
        program.wait(timeout=PROGRAM_SECONDS)
    functions = disassembly(binary)
    if functions is None:  # the sandbox lacks a tool: the grader's failure, never a pass
        raise HarnessError("objdump is missing where the judge runs (binutils): the memmove rule cannot be checked")
    assert "my_memmove" in functions, "the program that ran is not puzzles.c as compiled: it has no function my_memmove"
    calls, stack = reached_from(functions, "my_memmove")
    if calls:
        name, path = calls[0]
        via = " -> ".join(path + [name])
        raise AssertionError(
            f"my_memmove calls {name}() ({via}): the statement asks for a copy byte by byte, without "
            f"memmove, memcpy or a second buffer (here, {NOT_BYTE_BY_BYTE[name]}). The point is the direction: "
            "compare the addresses and copy front to back or back to front, in place"
        )
    assert not stack, (
        f"my_memmove makes room for a buffer on the stack ({stack[0][0]}: `{stack[0][1]}`): the statement asks for a "
        "copy byte by byte without a second buffer. Compare the addresses and copy front to back or back to front, "
        "in place"
    )


# ---------------------------------------------------------------- find_op and apply


def test_every_operation(learner):
    values = [0, 1, -1, 7, -12, 300, -30000]
    for op in OPS:
        check_apply(learner, op, values)


def test_unknown_operation_is_null(learner):
    for name in ("cube", "neg", "negatex", "NEGATE", "square ", ""):
        done = learner.run_program(["apply", name], b"1 2 3", timeout=PROGRAM_SECONDS)
        command = f"`puzzles apply {name!r}`"
        out = done.stdout.decode("ascii", "replace").splitlines()
        if done.returncode != 3 or out != ["unknown operation"]:
            if done.returncode in (0, 3):
                raise AssertionError(
                    f"find_op({name!r}) must return NULL: {name!r} is not one of the four operations (compare whole "
                    f"names); main printed {short(done.stdout)}"
                )
            raise AssertionError(failure(command, done))


def test_apply_empty_single_and_long(learner):
    check_apply(learner, "negate", [])  # n == 0: the array is empty, at the guard page
    check_apply(learner, "double", [21])
    rng = random.Random(99)
    check_apply(learner, "square", [rng.randint(-40000, 40000) for _ in range(1000)])


# ---------------------------------------------------------------- row_sums and last_element


def check_rows(learner, rows: list[list[int]]) -> None:
    lines = run(learner, ["rows"], matrix_input(rows))
    case = f"row_sums(m, {len(rows)}, sums)"
    want = "sums" + "".join(f" {sum(r)}" for r in rows)
    got = line(lines, 0)
    assert got == want, f"{case} on {short(rows)} should give {want[5:][:SHOWN]!r}, main printed {got[:SHOWN + 5]!r}"


@pytest.mark.cards("c-pointer-to-array-vs-array-of-pointers")
def test_row_sums(learner):
    rng = random.Random(42)
    check_rows(learner, [[1, 2, 3, 4]])
    check_rows(learner, [[1, 2, 3, 4], [10, 20, 30, 40], [-5, 5, -5, 6]])
    # four ints near 2^31 add up to more than an int holds: sum in a long
    check_rows(learner, [[2_000_000_000, 2_000_000_000, -7, 2_000_000_000], [-2_000_000_000] * 4])
    check_rows(learner, [[rng.randint(-10**6, 10**6) for _ in range(4)] for _ in range(50)])


@pytest.mark.cards("c-address-of-array-plus-one", "c-pointer-to-array-vs-array-of-pointers")
def test_last_element(learner):
    rng = random.Random(5)
    for nrows in (1, 2, 7):
        rows = [[rng.randint(-999, 999) for _ in range(4)] for _ in range(nrows)]
        lines = run(learner, ["rows"], matrix_input(rows))
        want = f"last {rows[-1][-1]} at index {4 * nrows - 1}"
        got = line(lines, 1)
        assert got == want, (
            f"last_element(m, {nrows}) must point at the last int, m[{nrows - 1}][3] (index {4 * nrows - 1} "
            f"of the {4 * nrows}); main printed {got!r}. m + {nrows} is one whole row past the end"
        )


def test_no_rows(learner):
    lines = run(learner, ["rows"], b"")
    assert line(lines, 0) == "sums", f"with no rows there are no sums; main printed {line(lines, 0)!r}"
    assert line(lines, 1) == "last none", f"last_element(m, 0) must return NULL: there is no last element; main printed {line(lines, 1)!r}"
