"""Rules a statement sets ("with the os module only: no subprocess"), checked on the host.

The check reads the stored source, so nothing the submission does when it runs can
change its outcome. It refuses the forbidden modules and calls however they are
named (an import, an alias, `from os import system`, a string naming them) and the
usual ways around an import (`__import__`, importlib, ctypes, _posixsubprocess,
eval/exec, sys.modules, a computed getattr). The sandbox's audit hook that refuses
the same modules at run time is advisory; this is the check that decides.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

RULE_TEST = "test_rule_no_forbidden_modules"

# Ways around an import: refused wherever a rule forbids something.
EVASION_MODULES = ("importlib", "ctypes", "_posixsubprocess", "builtins", "cffi", "gc", "_ctypes", "imp")
EVASION_NAMES = {
    "__import__": "__import__() imports a module by a name computed at run time",
    "eval": "eval() runs code built at run time",
    "exec": "exec() runs code built at run time",
    "compile": "compile() builds code at run time",
    "__builtins__": "__builtins__ reaches __import__ and every built-in",
    "globals": "globals() reaches names by strings",
    "vars": "vars() reaches a module's names by strings",
}
EVASION_ATTRIBUTES = {
    "__subclasses__": "__subclasses__() reaches classes of modules never imported here",
    "__globals__": "__globals__ reaches another module's names",
    "__dict__": "__dict__ reaches a module's names by strings",
    "__builtins__": "__builtins__ reaches __import__ and every built-in",
    "__loader__": "__loader__ imports modules by name",
    "__code__": "__code__ rewrites functions at run time",
}


@dataclass(frozen=True)
class Finding:
    """One place of a file that breaks the rule."""

    file: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what}"


def check(files: dict[str, str], forbidden: Sequence[str]) -> list[Finding]:
    """Every place of the Python files that uses a forbidden module or call, or a way around the rule."""
    if not forbidden:
        return []
    found: list[Finding] = []
    for name in sorted(files):
        if name.endswith(".py"):
            found += check_python(name, files[name], forbidden)
    return found


def check_python(name: str, source: str, forbidden: Sequence[str]) -> list[Finding]:
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as exc:
        return [Finding(name, exc.lineno or 1, f"does not parse ({exc.msg}), so the rule cannot be checked")]
    scanner = _Scanner(name, forbidden)
    scanner.visit(tree)
    return sorted(set(scanner.found), key=lambda f: (f.line, f.what))


class _Scanner(ast.NodeVisitor):
    def __init__(self, file: str, forbidden: Sequence[str]) -> None:
        self.file = file
        self.modules = tuple(f for f in forbidden if "." not in f) + EVASION_MODULES
        self.calls = {f for f in forbidden if "." in f}  # module.attribute, e.g. os.system
        self.leaves = {f.rsplit(".", 1)[1] for f in self.calls}
        self.aliases: dict[str, str] = {}  # a local name -> the module it is
        self.found: list[Finding] = []

    def add(self, node: ast.AST, what: str) -> None:
        self.found.append(Finding(self.file, getattr(node, "lineno", 1), what))

    def forbidden_module(self, module: str) -> str | None:
        for banned in self.modules:
            if module == banned or module.startswith(banned + "."):
                return banned
        return None

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            banned = self.forbidden_module(alias.name)
            if banned:
                self.add(node, f"imports {alias.name}")
            self.aliases[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0 and self.forbidden_module(module):
            self.add(node, f"imports from {module}")
            return
        for alias in node.names:
            if alias.name == "*":
                if any(call.startswith(module + ".") for call in self.calls):
                    self.add(node, f"`from {module} import *` hides which of its functions are used")
                continue
            dotted = f"{module}.{alias.name}"
            if dotted in self.calls or (node.level == 0 and self.forbidden_module(dotted)):
                self.add(node, f"imports {dotted}")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        base = _dotted(node.value)
        if base is not None:
            module = self.aliases.get(base.split(".")[0], base.split(".")[0])
            full = ".".join([module, *base.split(".")[1:], node.attr])
            if full in self.calls:
                self.add(node, f"uses {full}")
            elif full == "sys.modules":
                self.add(node, "uses sys.modules, which reaches modules by name")
        if node.attr in EVASION_ATTRIBUTES:
            self.add(node, f"uses {node.attr}: {EVASION_ATTRIBUTES[node.attr]}")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in EVASION_NAMES:
            self.add(node, f"uses {node.id}: {EVASION_NAMES[node.id]}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr", "hasattr", "delattr"):
            if len(node.args) >= 2 and not (isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
                self.add(node, f"{node.func.id}() with a computed name can reach what the statement forbids")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            text = node.value.strip()
            if self.forbidden_module(text) or text in self.calls or text in self.leaves:
                self.add(node, f"names {text!r} in a string")


def _dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def describe(findings: Iterable[Finding], forbidden: Sequence[str], limit: int = 8) -> str:
    """The rule test's message: what the statement forbids and where the submission does it."""
    findings = list(findings)
    listed = "; ".join(str(f) for f in findings[:limit])
    more = f"; and {len(findings) - limit} more" if len(findings) > limit else ""
    return (f"the statement forbids {', '.join(forbidden)} (and the ways around an import): "
            f"{listed}{more}")
