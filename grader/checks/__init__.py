"""Checks the notebooks' graded test cells call: one module per notebook.

A check takes the learner's function as its argument, raises AssertionError with a message that
names the wrong quantity and the likely mistake, and prints one line when everything matches.
"""


def expect_callable(fn, name: str) -> None:
    if not callable(fn):
        raise TypeError(f"pass your function {name} itself (not its result), got {type(fn).__name__}")


def passed(what: str) -> None:
    print(f"OK: {what}")
