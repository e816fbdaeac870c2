"""checklib.py - the check helpers the Python checkers of the tests share
(real, stress, heapdiff): one line per check, and a count of the failures
for the exit status. The tests get it through PYTHONPATH (tests/support),
which their CMakeLists set."""

fails = 0


def check(what, ok, detail=""):
    global fails
    fails += not ok
    print("ok  " if ok else "FAIL", what, "" if ok else detail)
    return ok


def equal(what, got, want):
    return check(f"{what} = {got}", got == want, f"(want {want})")


def status():
    """The exit status: 1 if any check failed."""
    return 1 if fails else 0
