"""Comparisons of a measured value against an operand, for SNMP expectations and
degraded thresholds. Plain data (an operator name and an operand) so checks can be
stored and sent to workers as JSON."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from checks.results import Value

_NUMERIC: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "contains", "matches")


@dataclass(frozen=True, slots=True)
class Comparison:
    """``value <op> operand``. ``<``, ``<=``, ``>``, ``>=`` compare numbers (a numeric
    string such as an SNMP DisplayString "42" counts as a number); ``==`` and ``!=``
    compare numbers when both sides are numeric, else text; ``contains`` is a substring
    test and ``matches`` a regular-expression search on the text form."""

    op: str
    operand: int | float | str

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"unknown comparison operator {self.op!r}; use one of {OPERATORS}")
        if self.op == "matches":
            try:  # fail at definition time, not at every probe
                re.compile(str(self.operand))
            except re.error as exc:
                raise ValueError(f"bad regular expression {self.operand!r}: {exc}") from None

    def holds(self, value: Value) -> bool:
        if value is None:
            return False
        if self.op in _NUMERIC:
            left, right = _number(value), _number(self.operand)
            return left is not None and right is not None and _NUMERIC[self.op](left, right)
        if self.op in ("==", "!="):
            left, right = _number(value), _number(self.operand)
            if left is not None and right is not None:
                equal = left == right
            else:
                equal = _text(value) == _text(self.operand)
            return equal if self.op == "==" else not equal
        if self.op == "contains":
            return _text(self.operand) in _text(value)
        return re.search(str(self.operand), _text(value)) is not None

    def describe(self) -> str:
        return f"{self.op} {self.operand!r}"


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (str, bytes)):
        # int first: Counter64 values exceed float's exact range
        for parse in (int, float):
            try:
                return parse(value)
            except ValueError:
                pass
    return None


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, tuple):
        return " ".join(value)
    return str(value)
