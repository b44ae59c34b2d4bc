"""NetBox's condition sets (``extras/conditions.py``): when an event rule applies to an
object's data.

    {"and": [{"attr": "status", "value": "active"},
             {"or": [{"attr": "name", "op": "regex", "value": "^edge-"},
                     {"attr": "tags", "op": "contains", "value": "edge", "negate": true}]}]}

A set is ``{"and": [...]}`` or ``{"or": [...]}`` of conditions and nested sets, or one
condition alone. A condition reads ``attr`` (a dotted path; through a list it reads the
key of every item) and compares it with ``value`` by ``op`` (``eq`` by default), the
answer inverted by ``negate``. Which operators a value allows depends on its JSON type,
as in NetBox. A path the data lacks, or a comparison its types do not allow, makes the
whole set false (NetBox's InvalidCondition).

Parsing is stricter than NetBox's where NetBox would fail later: keys other than
``attr``, ``value``, ``op`` and ``negate``, a non-list of rules, a non-boolean
``negate`` or a regular expression that does not compile are refused when the rule is
written, not when it is evaluated."""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

AND, OR = "and", "or"
OPERATORS = ("eq", "gt", "gte", "lt", "lte", "in", "contains", "regex")
_NUMBER_OPERATORS = ("eq", "gt", "gte", "lt", "lte", "contains")
# The operators each JSON type of ``value`` allows (NetBox's Condition.TYPES).
TYPES: dict[type, tuple[str, ...]] = {
    str: ("eq", "contains", "regex"),
    bool: ("eq", "contains"),
    int: _NUMBER_OPERATORS,
    float: _NUMBER_OPERATORS,
    list: ("eq", "in", "contains"),
    type(None): ("eq",),
}
# Nesting beyond this is refused (a set is evaluated recursively).
MAX_DEPTH = 32
_KEYS = frozenset({"attr", "value", "op", "negate"})


class ConditionError(ValueError):
    """A condition set that cannot be used (found when the rule is written)."""


class InvalidCondition(Exception):
    """The data does not have what a condition reads (the set then evaluates false)."""


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "in": lambda found, wanted: found in wanted,
    "contains": lambda found, wanted: wanted in found,
    "regex": lambda found, wanted: re.match(wanted, found) is not None,
}


@dataclass(frozen=True)
class Condition:
    attr: str
    value: Any
    op: str = "eq"
    negate: bool = False

    def eval(self, data: Any) -> bool:
        def step(found: Any, key: str) -> Any:
            if isinstance(found, list):
                return [step(item, key) for item in found]
            # NetBox's data nests a choice as {value, label} and a reference as an object;
            # the change log holds the value and the ``<name>_id`` column, so a NetBox
            # path (``status.value``, ``site.id``) reads them.
            if key == "value" and isinstance(found, (str, int, float, bool)):
                return found
            if isinstance(found, dict) and key not in found and f"{key}_id" in found:
                return {"id": found[f"{key}_id"]}
            return operator.getitem(found or {}, key)

        try:
            found = functools.reduce(step, self.attr.split("."), data)
        except (KeyError, TypeError, IndexError):
            raise InvalidCondition(f"invalid key path: {self.attr}") from None
        try:
            result = _COMPARE[self.op](found, self.value)
        except TypeError as error:
            raise InvalidCondition(f"invalid data type at '{self.attr}' for '{self.op}': {error}") from None
        return not result if self.negate else result


@dataclass(frozen=True)
class ConditionSet:
    logic: str | None  # None: one condition alone
    conditions: tuple[Condition | ConditionSet, ...]

    def eval(self, data: Any) -> bool:
        decide = any if self.logic == OR else all
        return decide(rule.eval(data) for rule in self.conditions)


def parse(ruleset: Any, path: str = "conditions", depth: int = 0) -> ConditionSet:
    """The condition set ``ruleset`` describes, or ConditionError naming what is wrong."""
    if depth > MAX_DEPTH:
        raise ConditionError(f"{path}: nested more than {MAX_DEPTH} levels deep")
    if type(ruleset) is not dict:
        raise ConditionError(f"{path}: a rule set must be a JSON object, not {_json_type(ruleset)}")
    if len(ruleset) == 1 and next(iter(ruleset)) not in _KEYS:
        key = next(iter(ruleset))
        logic = key.lower()
        if logic not in (AND, OR):
            raise ConditionError(f"{path}: '{key}' is not a logic; use 'and' or 'or'")
        rules = ruleset[key]
        if not isinstance(rules, list):
            raise ConditionError(f"{path}.{key}: must be a list of conditions")
        parsed: list[Condition | ConditionSet] = []
        for index, rule in enumerate(rules):
            where = f"{path}.{key}.{index}"
            nested = type(rule) is dict and len(rule) == 1 and next(iter(rule)) in (AND, OR)
            parsed.append(parse(rule, where, depth + 1) if nested else _condition(rule, where))
        return ConditionSet(logic, tuple(parsed))
    return ConditionSet(None, (_condition(ruleset, path),))


def _condition(rule: Any, path: str) -> Condition:
    if type(rule) is not dict:
        raise ConditionError(f"{path}: a condition must be a JSON object, not {_json_type(rule)}")
    unknown = sorted(set(rule) - _KEYS)
    if unknown:
        raise ConditionError(f"{path}: unknown key(s) {', '.join(unknown)}; a condition has attr, value, op and negate")
    if "attr" not in rule or "value" not in rule:
        raise ConditionError(f"{path}: a condition needs attr and value")
    attr, value, op, negate = rule["attr"], rule["value"], rule.get("op", "eq"), rule.get("negate", False)
    if not isinstance(attr, str) or not attr:
        raise ConditionError(f"{path}.attr: must be a non-empty string (a dotted path such as 'status')")
    if op not in OPERATORS:
        raise ConditionError(f"{path}.op: unknown operator {op!r}; must be one of {', '.join(OPERATORS)}")
    if type(value) not in TYPES:
        raise ConditionError(f"{path}.value: unsupported value type {_json_type(value)}")
    if op not in TYPES[type(value)]:
        raise ConditionError(f"{path}.op: '{op}' does not compare a {_json_type(value)}; use {', '.join(TYPES[type(value)])}")
    if not isinstance(negate, bool):
        raise ConditionError(f"{path}.negate: must be true or false")
    if op == "regex":
        try:
            re.compile(value)
        except re.error as error:
            raise ConditionError(f"{path}.value: not a valid regular expression: {error}") from None
    return Condition(attr, value, op, negate)


def evaluate(conditions: dict[str, Any] | None, data: Any) -> bool:
    """Whether ``data`` meets ``conditions`` (no conditions: always). A set that cannot be
    read or no longer parses is false, as NetBox's ``eval_conditions``."""
    if not conditions:
        return True
    try:
        return parse(conditions).eval(data)
    except (InvalidCondition, ConditionError):
        return False


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
