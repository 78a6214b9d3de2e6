"""quiet(): process-wide stdout/warning changes never interleave between threads."""

from __future__ import annotations

import sys
import threading
import warnings

from app.core.quiet import quiet


def test_second_thread_waits_and_stdout_is_restored() -> None:
    original = sys.stdout
    a_inside, b_entered, a_done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, str] = {}

    def first() -> None:
        with quiet() as sink:
            print("from A")
            a_inside.set()
            # B is trying to enter now; it must not get in while A holds the process-wide state
            assert not b_entered.wait(0.3)
            seen["a"] = sink.getvalue()
        a_done.set()

    def second() -> None:
        a_inside.wait()
        with quiet() as sink:
            b_entered.set()
            assert a_done.is_set()
            print("from B")
            seen["b"] = sink.getvalue()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"a": "from A\n", "b": "from B\n"}
    assert sys.stdout is original


def test_reentrant_and_warnings_restored() -> None:
    before = list(warnings.filters)
    with quiet(), quiet() as inner:  # nested in one thread: no deadlock
        warnings.warn("silenced", UserWarning, stacklevel=1)
        print("inner")
    assert inner.getvalue() == "inner\n"
    assert warnings.filters == before
