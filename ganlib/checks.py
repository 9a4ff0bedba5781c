"""Boundary checks shared by the config, the command line and the library: every message in one place.

Each check returns the value it accepted and raises :class:`CheckError` (a ``ValueError``) in the house
form ``"<name> must be <expected>[ (<note>)]. Received: <name>=<value>"``, for example::

    >>> positive_int("batch_size", 0)
    Traceback (most recent call last):
    ...
    ganlib.checks.CheckError: batch_size must be a positive integer. Received: batch_size=0

:func:`argparse_type` turns a check into an argparse ``type`` whose message is argparse's form of the
same requirement, ``"argument --batch-size: expected a positive integer, received 0"``.

A leaf module: it imports numpy and the standard library only, never TensorFlow or another ganlib module.
"""

from __future__ import annotations

import argparse
import math
import numbers
from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "CheckError",
    "argparse_type",
    "boolean",
    "class_label",
    "class_labels",
    "int_at_least",
    "int_sequence",
    "non_negative_int",
    "non_negative_number",
    "number_in",
    "one_of",
    "positive_int",
    "positive_number",
]


class CheckError(ValueError):
    """A value outside its bounds; ``str(err)`` is the house message.

    Attributes:
        name: the parameter's name (``"batch_size"``, ``"labels.shape"``).
        expected: what was expected, a noun phrase such as ``"a positive integer"``.
        value: the value received.
        note: an optional explanation appended in brackets, e.g. ``"0: never"``.
    """

    def __init__(self, name: str, expected: str, value: Any, note: str | None = None) -> None:
        self.name, self.expected, self.value, self.note = name, expected, value, note
        super().__init__(f"{name} must be {self.requirement}. Received: {name}={value!r}")

    @property
    def requirement(self) -> str:
        """``expected`` with its note: ``"an integer >= 0 (0: never)"``."""
        return self.expected + (f" ({self.note})" if self.note else "")


def _is_int(value: Any) -> bool:
    """Python and numpy integers; not booleans (``True`` is an ``int`` in Python)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    """Python and numpy reals (ints and floats, NaN included); not booleans."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def int_at_least(name: str, value: Any, minimum: int, *, allow_none: bool = False, note: str | None = None,
                 expected: str | None = None) -> int | None:
    """``value`` if it is an integer >= ``minimum`` (or None when ``allow_none``).

    Args:
        name: the parameter's name, for the message.
        value: the value to check; Python or numpy integers, not booleans or floats such as ``2.0``.
        minimum: the smallest value accepted.
        allow_none: accept None too (the message then says ``or None``).
        note: appended to the requirement in brackets, e.g. ``"a covariance needs 2 images"``.
        expected: the requirement's wording instead of ``"an integer >= <minimum>"``.

    Raises:
        CheckError: not an integer, or below ``minimum``.
    """
    if allow_none and value is None:
        return None
    if not (_is_int(value) and value >= minimum):
        expected = expected or f"an integer >= {minimum}"
        raise CheckError(name, expected + (" or None" if allow_none else ""), value, note)
    return value


def positive_int(name: str, value: Any, *, allow_none: bool = False, note: str | None = None) -> int | None:
    """``value`` if it is an integer >= 1 (or None when ``allow_none``): ``"<name> must be a positive integer"``."""
    return int_at_least(name, value, 1, allow_none=allow_none, note=note, expected="a positive integer")


def non_negative_int(name: str, value: Any, *, allow_none: bool = False, note: str | None = None) -> int | None:
    """``value`` if it is an integer >= 0 (or None when ``allow_none``): ``"<name> must be an integer >= 0"``."""
    return int_at_least(name, value, 0, allow_none=allow_none, note=note)


def number_in(name: str, value: Any, low: float | None = None, high: float | None = None, *,
              low_open: bool = False, high_open: bool = False, allow_none: bool = False, note: str | None = None,
              kind: str | None = "a number") -> float | None:
    """``value`` if it is a real number in the interval from ``low`` to ``high`` (None: unbounded).

    NaN is refused (it lies in no interval). The requirement reads ``"a number in [0, 1)"`` for
    ``number_in(name, v, 0, 1, high_open=True)``, ``"a number >= 0"`` with ``high=None``, ``"a positive
    number"`` for ``low=0, low_open=True`` alone.

    Args:
        name: the parameter's name, for the message.
        value: the value to check; Python or numpy ints and floats, not booleans or strings.
        low, high: the bounds; None leaves that side unbounded.
        low_open, high_open: exclude the bound itself (``(0, 1]`` is ``low_open=True``).
        allow_none: accept None too (the message then says ``or None``).
        note: appended to the requirement in brackets, e.g. ``"0: no penalty"``.
        kind: what the number is, ``"a number"`` by default, e.g. ``"a decay"``; None drops it
            (``"beta_1 must be in [0, 1)"``).

    Raises:
        CheckError: not a real number, NaN, or outside the interval.
    """
    if allow_none and value is None:
        return None
    inside = _is_number(value) and not math.isnan(value)
    if inside and low is not None:
        inside = value > low if low_open else value >= low
    if inside and high is not None:
        inside = value < high if high_open else value <= high
    if not inside:
        what = f"{kind} " if kind else ""
        if low is not None and high is not None:
            expected = f"{what}in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low == 0 and low_open and kind:
            expected = "a positive " + kind.split(" ", 1)[-1] if kind.startswith(("a ", "an ")) else f"positive {kind}"
        elif low is not None:
            expected = f"{what}{'>' if low_open else '>='} {low:g}"
        elif high is not None:
            expected = f"{what}{'<' if high_open else '<='} {high:g}"
        else:
            expected = kind or "a number"
        raise CheckError(name, expected + (" or None" if allow_none else ""), value, note)
    return value


def positive_number(name: str, value: Any, *, allow_none: bool = False, note: str | None = None) -> float | None:
    """``value`` if it is a real number > 0: ``"<name> must be a positive number"``."""
    return number_in(name, value, 0, low_open=True, allow_none=allow_none, note=note)


def non_negative_number(name: str, value: Any, *, note: str | None = None) -> float:
    """``value`` if it is a real number >= 0: ``"<name> must be a number >= 0"``."""
    return number_in(name, value, 0, note=note)


def boolean(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False`` (not 0, 1 or a string): ``"<name> must be True or False"``."""
    if not isinstance(value, (bool, np.bool_)):
        raise CheckError(name, "True or False", value)
    return bool(value)


def one_of(name: str, value: Any, choices: Sequence[Any], *, what: str | None = None) -> Any:
    """``value`` if it is one of ``choices``.

    The message is ganlib's form for names: ``"Unknown <what>: expected one of a, b, c. Received: <name>=<value>"``
    (``what`` defaults to ``name``; ``"data set"`` reads better than ``"dataset"``).

    Raises:
        CheckError: ``value`` is not in ``choices``.
    """
    try:
        known = value in choices
    except TypeError:  # an unhashable value looked up in a dict or set of choices
        known = False
    if not known:
        err = CheckError(name, "one of " + ", ".join(map(str, choices)), value)
        err.args = (f"Unknown {what or name}: expected one of {', '.join(map(str, choices))}. "
                    f"Received: {name}={value!r}",)
        raise err
    return value


def int_sequence(name: str, value: Any, length: int, minimum: int) -> tuple[int, ...]:
    """``value`` if it is a tuple of ``length`` integers >= ``minimum``: ``"<name> must be 3 integers >= 0"``.

    Lists are refused: a frozen config stores tuples (:class:`ganlib.config.TrainConfig` converts lists first).

    Raises:
        CheckError: not a tuple, of another length, or an element that is not an integer >= ``minimum``.
    """
    if not (isinstance(value, tuple) and len(value) == length and all(_is_int(v) and v >= minimum for v in value)):
        raise CheckError(name, f"{length} integers >= {minimum}", value)
    return value


def class_label(name: str, value: Any, *, num_classes: int = 10) -> int:
    """``value`` if it is one class, an integer in ``0..num_classes - 1``.

    Raises:
        CheckError: ``"<name> must be an integer >= 0"`` for a negative or non-integer value, else
            ``"<name> must be a class in 0..9"``.
    """
    non_negative_int(name, value)
    if value >= num_classes:
        raise CheckError(name, f"a class in 0..{num_classes - 1}", value)
    return value


def class_labels(labels: Any, n: int, *, num_classes: int = 10, conditional: bool | None = True,
                 per: str = "latent vector", name: str = "labels") -> np.ndarray | None:
    """The class labels of ``n`` images as an integer array ``[n]``, checked against the model that takes them.

    What ``ganlib.train.state.GAN`` (``generate``), ``ganlib.train.loop`` (the training images' labels) and
    ``ganlib.conditional`` (``class_accuracy``) require of labels:

    * an unconditional model (``conditional=False``) takes no labels: ``labels`` must be None, and None
      is returned;
    * a conditional model (``conditional=True``) needs them: None is refused;
    * ``conditional=None`` accepts None (returned as None) and checks labels when given;
    * labels (any array-like) must have shape ``[n]``, one per ``per``, an integer dtype (a float
      ``1.0`` is refused, an empty array of any dtype is accepted), and values in ``0..num_classes - 1``.

    Args:
        labels: None or an array-like of class indices.
        n: the number of images (latent vectors) the labels go with.
        num_classes: the number of classes (10 for MNIST and Fashion-MNIST).
        conditional: whether the model is conditional (see above).
        per: what each label belongs to, for the message (``"latent vector"``, ``"image"``).
        name: the parameter's name, for the message.

    Returns:
        ``numpy.asarray(labels)`` (its integer dtype unchanged), or None.

    Raises:
        CheckError: labels for an unconditional model, None for a conditional one, a wrong shape, a
            non-integer dtype, or a value outside ``0..num_classes - 1`` (the message lists up to 5 of them).
    """
    classes = f"0..{num_classes - 1}"
    if labels is None:
        if conditional:
            raise CheckError(name, f"integer class labels [{n}] in {classes}, one per {per}, for a conditional "
                             "model", None)
        return None
    if conditional is False:
        raise CheckError(name, "None for an unconditional model", _Abbreviated(labels),
                         "train with conditional=True, or --conditional, to ask for classes")
    y = np.asarray(labels)
    if y.shape != (n,):
        err = CheckError(f"{name}.shape", f"[{n}]", list(y.shape))
        err.args = (f"{name} must be one class label per {per}, shape [{n}]. Received: {name}.shape={list(y.shape)}",)
        raise err
    if n and not np.issubdtype(y.dtype, np.integer):
        raise CheckError(f"{name}.dtype", f"an integer type (class labels in {classes})", _Raw(y.dtype))
    if n and (y.min() < 0 or y.max() >= num_classes):
        bad = y[(y < 0) | (y >= num_classes)]
        raise CheckError(name, f"class labels in {classes}", _Abbreviated(bad))
    return y


class _Raw:
    """Shows as ``str(value)`` in a message (``dtype=float64`` rather than ``dtype('float64')``)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return str(self.value)


class _Abbreviated(_Raw):
    """An array-like shown as a list of its first 5 elements, ``[12, -1, ...]``."""

    def __repr__(self) -> str:
        items = np.asarray(self.value).ravel().tolist()
        return repr(items[:5])[:-1] + (", ...]" if len(items) > 5 else "]")


def argparse_type(check: Callable[..., Any], cast: Callable[[str], Any] = int, **bounds: Any) -> Callable[[str], Any]:
    """An argparse ``type``: ``cast(text)``, then ``check("value", value, **bounds)``.

    A failed check (or a failed cast: the text is then checked as it is, and refused) becomes an
    ``argparse.ArgumentTypeError`` in argparse's form, ``"expected a positive integer, received 0"``
    (``received 'fast'`` for text that is not a number), so argparse prints
    ``"argument --batch-size: expected a positive integer, received 0"`` with the usage.

    Example:
        >>> parse = argparse_type(number_in, float, low=0, high=1, high_open=True)
        >>> parse("0.5")
        0.5
    """

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except (TypeError, ValueError):
            value = text  # refused by the check, which names what was expected
        try:
            return check("value", value, **bounds)
        except CheckError as err:
            received = repr(err.value) if isinstance(err.value, str) else str(err.value)
            raise argparse.ArgumentTypeError(f"expected {err.requirement}, received {received}") from None

    parse.__name__ = getattr(check, "__name__", "value")  # argparse names the type in some messages
    return parse
