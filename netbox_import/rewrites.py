"""Records of older NetBox releases rewritten into the shape of the release that
replaced them, before they are staged.

A NetBox ≤ 4.4 front port names its rear port and position; 4.5 moved that into a
mapping row (``dcim.portmapping``), as Danbyte has it. Each such front port (and front
port template) brings its mapping with it here, so the rest of the import sees one shape.
A rewrite returns the records to stage in place of the one it was given; the fields it
moves away are then left out of the original.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from netbox_import.dumpdata import Record

# (label, pk, fields) of a record to stage.
Staged = tuple[str, Any, dict[str, Any]]


def _front_port_mapping(mapping: str, owners: tuple[str, ...]) -> Callable[[Record], Iterator[Staged]]:
    def rewrite(record: Record) -> Iterator[Staged]:
        fields = record.fields
        yield record.model, record.pk, fields
        if fields.get("rear_port") is None:
            return
        moved = {
            "front_port": record.pk,
            "front_port_position": 1,
            "rear_port": fields["rear_port"],
            "rear_port_position": fields.get("rear_port_position") or 1,
            "created": fields.get("created"),
            "last_updated": fields.get("last_updated"),
        }
        moved.update({owner: fields[owner] for owner in owners if owner in fields})
        # Its own id space: NetBox 4.5 numbers mappings apart from ports.
        yield mapping, f"front-port-{record.pk}", moved

    return rewrite


REWRITES: dict[str, Callable[[Record], Iterator[Staged]]] = {
    "dcim.frontport": _front_port_mapping("dcim.portmapping", ()),
    "dcim.frontporttemplate": _front_port_mapping("dcim.porttemplatemapping", ("device_type", "module_type")),
}

# Fields a rewrite moved elsewhere: not left out of the original.
MOVED: dict[str, frozenset[str]] = {
    "dcim.frontport": frozenset({"rear_port", "rear_port_position"}),
    "dcim.frontporttemplate": frozenset({"rear_port", "rear_port_position"}),
}


def rewritten(record: Record) -> Iterator[Staged]:
    rewrite = REWRITES.get(record.model)
    if rewrite is None:
        yield record.model, record.pk, record.fields
    else:
        yield from rewrite(record)
