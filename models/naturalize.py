"""Natural-order sort keys that match NetBox's ``_name`` columns byte for byte.

NetBox keeps a hidden ``_name`` column (``NaturalOrderingField``) next to some ``name``
columns, filled on save by one of two functions in ``utilities/ordering.py``. Danbyte
computes the same keys so that data imported from NetBox sorts exactly as it did there:

* :func:`naturalize_interface` -- NetBox 4.6 uses it for ``Interface._name``,
  ``InterfaceTemplate._name`` and ``VMInterface._name`` (all ``max_length=100``).
  Interfaces and VM interfaces are ordered by ``(device|virtual_machine, _name COLLATE "C")``;
  the interface-template table sorts its name column by ``_name`` too.
* :func:`naturalize` -- the generic key. Up to NetBox 4.1 it filled ``_name`` on devices,
  sites, racks, ports and other components (``max_length=100``); NetBox 4.2 dropped those
  columns and orders them by ``name`` with an ICU collation instead
  (``CREATE COLLATION natural_sort (provider = icu, locale = 'und-u-kn-true')``). In 4.6 it
  is used only for the tail of interface names.

Both keys are meant to be compared as plain code-point strings: Python's ``str`` ordering,
or PostgreSQL with ``COLLATE "C"`` (bytewise; for UTF-8 that is code-point order). Under a
linguistic collation (``en_US.UTF-8``, ICU) punctuation and case are weighed differently and
the order changes -- e.g. the ``'.'`` fillers of :func:`naturalize_interface` would be ignored,
putting ``Gi1:0`` before ``Gi1.5``. The database's default collation is not guaranteed to be
``C``, so SQL ordering by these keys must say ``ORDER BY key COLLATE "C"`` (as NetBox does with
its ``CollateAsChar`` expression), or the column must be declared with collation ``"C"``.
"""

from __future__ import annotations

import re

__all__ = ("naturalize", "naturalize_interface", "naturalize_name")

# naturalize(): every run of decimal digits is left-padded with zeros to this width.
NUMBER_WIDTH = 8

# naturalize_interface(): widths of the location levels ("1/2/3/") and of the numbers after
# the type (port, ":channel", ".subinterface"), and what stands in for a missing part.
LEVEL_WIDTH = 4
LEVEL_ABSENT = "9999"  # missing levels sort after every present one
PART_WIDTH = 6
PART_ABSENT = "......"  # '.' < '0' in code-point order: "Gi1" before "Gi1.0", "Gi1:0"

_DIGIT_RUNS = re.compile(r"(\d+)")

# One optional piece after another; ``rest`` soaks up whatever is left. ``\d`` is Unicode-aware
# and ``.``/``$`` keep their default (non-DOTALL, non-MULTILINE) meaning, as in NetBox: the type
# may hold a line break, ``$`` skips a final one, any other line break makes the match fail.
_INTERFACE_NAME = re.compile(
    r"""
    (?P<type>[^\d.:]+)?         # "GigabitEthernet", "ge-", "Po", "Interface "
    (?:(?P<slot>\d+)/)?         # up to four "N/" location levels
    (?:(?P<subslot>\d+)/)?
    (?:(?P<position>\d+)/)?
    (?:(?P<subposition>\d+)/)?
    (?P<port>\d+)?              # the interface's own number
    (?::(?P<channel>\d+))?      # ":N", e.g. a breakout channel or alias
    (?:\.(?P<unit>\d+))?        # ".N", a subinterface / VLAN unit
    (?P<rest>.*)$               # anything else, naturalized
    """,
    re.VERBOSE,
)
_LEVELS = ("slot", "subslot", "position", "subposition")
_PARTS = ("port", "channel", "unit")


def naturalize(value: str, max_length: int) -> str:
    """Sort key for ``value``: each digit run zero-padded to 8 places, cut to ``max_length``.

    ``"site9router21"`` -> ``"site00000009router00000021"``, so ``vm2`` < ``vm10`` when the
    keys are compared as text. Same output as NetBox's ``naturalize()`` (default
    ``integer_places=8``). Consequences of that shape: numbers are compared by value only up
    to 8 digits; ``"a01"`` and ``"a1"`` get the same key; a segment that ``str.isdigit()``
    accepts without being decimal (``"²"``) is padded too; ``""`` stays ``""``.

    The key is compared by code point (Python ``str``, PostgreSQL ``COLLATE "C"``): letters
    order by case first (``"Z"`` < ``"a"``) and punctuation by its code. It is not what NetBox
    4.2+ uses to order devices (an ICU numeric collation on ``name``, case-insensitive and
    unlimited in digits), so it reproduces NetBox's pre-4.2 ``_name`` ordering, not 4.6's.
    """
    if not value:
        return value
    padded = (run.rjust(NUMBER_WIDTH, "0") if run.isdigit() else run for run in _DIGIT_RUNS.split(value))
    return "".join(padded)[:max_length]


def naturalize_interface(value: str, max_length: int) -> str:
    """Sort key for an interface name, identical to NetBox's ``naturalize_interface()``.

    The name is read as ``[type][slot/][subslot/][position/][subposition/][port][:channel][.unit][rest]``
    and the key is laid out as::

        slot subslot position subposition | type | port channel unit | naturalize(rest)
        4 digits each, "9999" if absent   | text | 6 digits each, "......" if absent

    e.g. ``"Gi1/2/3:4.5"`` -> ``"0001000299999999Gi000003000004000005"``.
    Cut to ``max_length`` (NetBox: 100). Compared by code point, this gives:

    * location before type: every name with at least one ``N/`` level (``Gi0/0/1``,
      ``ge-0/0/2``, ``Ethernet1/1``) sorts before every name without one (``Po1``, ``ae0``,
      ``Vlan10``, ``Ethernet1``), and ``Te1/0/1`` sorts before ``Gi2/0/1``;
    * among names in the same location, by type text -- case-sensitively, so ``Port-Channel1``
      < ``eth0`` -- then port, channel and unit by number: ``Gi0/1`` < ``Gi0/1.10`` < ``Gi0/1.100``;
    * a missing part sorts before a present one, even zero, and ``.unit`` is compared after
      ``:channel``: ``eth0`` < ``eth0.5`` < ``eth0:0`` < ``eth0:1``.

    The ``"......"`` fillers make this depend on code-point order (``'.'`` < ``'0'``); NetBox
    orders by ``_name COLLATE "C"`` for that reason, and so must SQL over this key. A name the
    pattern cannot span (a line break after the type, not at the end) is returned unchanged and uncut, as NetBox does.
    """
    parsed = _INTERFACE_NAME.match(value)
    if parsed is None:
        return value
    pieces = [LEVEL_ABSENT if parsed[level] is None else parsed[level].rjust(LEVEL_WIDTH, "0") for level in _LEVELS]
    pieces.append(parsed["type"] or "")
    pieces += [PART_ABSENT if parsed[part] is None else parsed[part].rjust(PART_WIDTH, "0") for part in _PARTS]
    key = "".join(pieces)
    if len(key) < max_length:
        key += naturalize(parsed["rest"], max_length - len(key))
    return key[:max_length]


def naturalize_name(value: str, max_length: int) -> str:
    """The key Danbyte orders names by where NetBox 4.6 uses its ``natural_sort`` ICU
    collation (devices, racks, sites, ports): numbers compared as numbers, case ignored.
    The embedded PostgreSQL is built without ICU, so the order is a key column instead;
    it differs from ICU's only for numbers of more than eight digits and for punctuation."""
    return naturalize(value.casefold(), max_length)
