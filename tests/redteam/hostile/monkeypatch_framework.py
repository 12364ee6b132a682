"""Monkeypatch the test framework from inside the learner's process: pytest, the harness, assertions."""
import builtins
import sys


def _patch():
    patched = []
    try:
        import pytest  # the judge's pytest is in another process; this is a copy, if any

        pytest.fail = lambda *a, **k: None
        pytest.raises = None
        patched.append("pytest")
    except ImportError:
        pass
    for name, module in list(sys.modules.items()):
        if name.startswith("prep_judge"):
            for attr in dir(module):
                obj = getattr(module, attr)
                if isinstance(obj, type) and issubclass(obj, BaseException):
                    continue
            patched.append(name)
            if name.endswith("protocol"):  # make every value a tag the judge might mistake for "equal to anything"
                module.Encoder.encode = lambda self, value, depth=0: {"$ref": 0, "type": "int", "repr": "passed"}
            if name.endswith("worker"):
                module._exception_info = lambda exc, kind="learner": {"kind": "ok"}
    builtins.AssertionError = type("AssertionError", (Exception,), {})
    return patched


_patch()


def add(a, b):
    raise AssertionError("passed")


if __name__ == "__main__":
    print("nope")
