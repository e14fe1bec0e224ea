"""Feedback on an exercise attempt that says what is wrong, never what is right.

Introduced in the chapter *A short introduction to data science in Python*
(``book/python_data_science.md``) and used in a coding exercise of every chapter.

Each check compares a learner's answer with a reference computed another way (an
independent formula, a library function, a finite-difference estimate), prints one short
message and returns ``True`` or ``False``. Hints name the usual slips (the cell still
holds ``...``, a wrong shape or a missing transpose, a flipped sign, a missing factor
such as ``1 / n``, a result that is close but not within the tolerance) and never print
the expected value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["check_close", "check_function", "hint"]


def _shape_hint(name: str, got: tuple, want: tuple) -> str:
    if len(got) == 2 and got == want[::-1]:
        return (
            f"{name} has shape {got}, but it should have shape {want}: a missing (or an extra) transpose `.T`, "
            "or the two factors of a matrix product the wrong way round?"
        )
    if tuple(d for d in got if d != 1) == tuple(d for d in want if d != 1):
        return (
            f"{name} has shape {got} instead of {want}: the same values with an extra or a missing axis of "
            "length 1 (`x[:, None]`, `.reshape(...)`, `.ravel()`)."
        )
    if int(np.prod(got)) == int(np.prod(want)):
        return f"{name} has the right number of values but shape {got} instead of {want}: check how you reshaped it."
    if len(got) < len(want):
        return f"{name} has shape {got} instead of {want}: did you sum or average over an axis too many?"
    return f"{name} has shape {got} instead of {want}: check the shapes of the arrays you combined."


def hint(answer, expected, name: str = "your answer", rtol: float = 1e-6, atol: float = 1e-8) -> str | None:
    """The message for a wrong ``answer``, or ``None`` where it matches ``expected`` within the tolerance."""
    if answer is Ellipsis or answer is None:
        return f"{name} is still `...` (or None): replace the ... with your code and run the cell again."
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return f"{name} should be a number or an array of numbers, but it is a {type(answer).__name__}."
    want = np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        return _shape_hint(name, got.shape, want.shape)
    if np.isnan(got).any() and not np.isnan(want).any():
        return f"{name} contains NaN (not a number): a division by zero, or the logarithm of zero?"
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return None
    if np.allclose(got, -want, rtol=rtol, atol=atol) and np.abs(want).max() > atol:
        return f"{name} has the right size but the wrong sign: check the direction of a subtraction or a step."
    nonzero = np.abs(want) > atol
    if nonzero.any():
        ratios = got[nonzero] / want[nonzero]
        factor = float(np.median(ratios))
        if abs(factor) > 1e-12 and np.allclose(ratios, factor, rtol=1e-3) and not np.isclose(factor, 1, rtol=1e-3):
            return (
                f"{name} is {factor:.3g} times too {'large' if abs(factor) > 1 else 'small'} everywhere: "
                "a missing or an extra factor, such as dividing by the number of cases n, or a 2 from a square?"
            )
    scale = max(float(np.abs(want).max()), atol)
    diff = float(np.abs(got - want).max())
    if diff / scale < 1e-2:
        return (
            f"{name} is close (largest difference {diff:.2g}) but not within the tolerance: a rounded "
            "intermediate result, or an approximation where an exact formula was asked for?"
        )
    return f"{name} is not right yet (largest difference {diff:.3g}). Go through your formula one step at a time."


def check_close(answer, expected, name: str = "your answer", rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """Print whether ``answer`` matches ``expected`` (a hint if not, without the expected value)."""
    message = hint(answer, expected, name=name, rtol=rtol, atol=atol)
    print(f"Correct: {name} matches." if message is None else f"Not yet: {message}")
    return message is None


def check_function(
    function: Callable, reference: Callable, *inputs, name: str | None = None, rtol: float = 1e-6, atol: float = 1e-8
) -> bool:
    """Call the learner's ``function`` and a ``reference`` on the same ``inputs`` and compare the results."""
    label = name or f"{getattr(function, '__name__', 'your function')}(...)"
    if function is Ellipsis or function is None:
        print(f"Not yet: {label} is still `...`: define the function and run the cell again.")
        return False
    try:
        answer = function(*inputs)
    except Exception as err:  # the learner's code: report the error, do not stop the notebook
        print(f"Not yet: calling {label} raised {type(err).__name__}: {err}")
        return False
    return check_close(answer, reference(*inputs), name=label, rtol=rtol, atol=atol)
