"""What every hidden check shares: how it fails, how it passes, how it gives partial credit.

A hidden check is a function decorated with :func:`hidden_check`. It raises :class:`CheckFailed`
with a message written for the student when the answer is wrong. Inside a Jupyter kernel, a
``CheckFailed`` renders as one line (``_render_traceback_``), so the feedback HTML names the
check and says what was expected, and never shows the check's source or a traceback.

Any other exception raised while the check runs (the student's function crashed on a hidden
input, a missing variable...) is turned into a ``CheckFailed`` that names the exception type and
message, again without a traceback.

A check that gives partial credit returns the points earned (a float); nbgrader reads a number
printed as a test cell's last expression as its partial score.
"""

import functools
import math


class CheckFailed(AssertionError):
    """A hidden check failed; ``message`` says what was expected, in a student's words."""

    def __init__(self, check: str, message: str):
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting the stack: no frames, no source lines
        return [f"Hidden check failed: {self.check}", self.message]


def hidden_check(fn):
    """Turn ``fn`` into a hidden check named after it.

    On success it prints ``Hidden check passed: <name>`` and returns ``fn``'s return value
    (``None``, or the points earned for partial credit).
    """
    name = fn.__name__

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            result = fn(*args, **kwargs)
        except CheckFailed as failure:
            raise CheckFailed(failure.check, failure.message) from None
        except Exception as error:  # the student's code broke on a hidden input
            raise CheckFailed(name, _describe_crash(error)) from None
        print(f"Hidden check passed: {name}")
        return result

    run.is_hidden_check = True
    return run


def _describe_crash(error: Exception) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 300:
        first = first[:300] + "..."
    return (
        f"your code raised {type(error).__name__}" + (f" ({first})" if first else "")
        + " when the check ran it on hidden inputs. Run your cell again and read the visible "
        "tests above it; make sure it handles inputs of other sizes and values too."
    )


def expect(condition: bool, check: str, message: str) -> None:
    """Fail ``check`` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(check, message)


def partial_points(score: float, baseline: float, target: float, max_points: float) -> float:
    """Points for a metric between a baseline (0 points) and a target (full points).

    Linear in between, clipped to ``[0, max_points]``, rounded to two decimals. A NaN score
    gets 0.

    >>> partial_points(0.75, baseline=0.5, target=1.0, max_points=4)
    2.0
    >>> partial_points(1.2, baseline=0.5, target=1.0, max_points=4)
    4.0
    """
    if math.isnan(score):
        return 0.0
    fraction = (score - baseline) / (target - baseline)
    return round(max_points * min(1.0, max(0.0, fraction)), 2)
