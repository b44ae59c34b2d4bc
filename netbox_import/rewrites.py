"""Records of older NetBox releases rewritten into the shape of the release that
replaced them, before they are staged.

A NetBox ≤ 4.4 front port names its rear port and position; 4.5 moved that into a
mapping row (``dcim.portmapping``), as Danbyte has it. Each such front port (and front
port template) brings its mapping with it here, so the rest of the import sees one shape.
Likewise a ≤ 4.1 interface's MAC address becomes a MAC address object, ≤ 4.0 event flags
become event types, a 3.6 webhook's trigger becomes its event rule, and a 3.6 custom
field's ``ui_visibility`` becomes ``ui_visible`` and ``ui_editable``.
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


# NetBox ≤ 4.0's event flags, as NetBox 4.1's migration turns them into event types.
EVENT_FLAGS = {
    "type_create": ("object_created",),
    "type_update": ("object_updated",),
    "type_delete": ("object_deleted",),
    "type_job_start": ("job_started",),
    "type_job_end": ("job_completed", "job_errored", "job_failed"),
}


def _event_types(fields: dict[str, Any]) -> list[str]:
    return [event for flag, events in EVENT_FLAGS.items() if fields.get(flag) for event in events]


def _event_rule(record: Record) -> Iterator[Staged]:
    fields = record.fields
    if "event_types" not in fields and any(flag in fields for flag in EVENT_FLAGS):
        fields = {**fields, "event_types": _event_types(fields)}
    yield record.model, record.pk, fields


def _webhook(record: Record) -> Iterator[Staged]:
    """A NetBox 3.6 webhook carried its own trigger: it becomes the webhook and its event
    rule, as NetBox 3.7's migration does."""
    fields = record.fields
    yield record.model, record.pk, fields
    if "content_types" not in fields:
        return
    rule = {
        "name": fields.get("name"),
        "description": "",
        "content_types": fields.get("content_types") or [],
        "event_types": _event_types(fields),
        "enabled": fields.get("enabled", True),
        "conditions": fields.get("conditions"),
        "action_type": "webhook",
        "action_object_type": ["extras", "webhook"],
        "action_object_id": record.pk,
        "created": fields.get("created"),
        "last_updated": fields.get("last_updated"),
    }
    yield "extras.eventrule", f"webhook-{record.pk}", rule


def _mac_address(assigned: list[str]) -> Callable[[Record], Iterator[Staged]]:
    """NetBox ≤ 4.1 kept an interface's MAC address on it; 4.2 made it an object assigned
    to the interface and its primary one, as Danbyte has it."""

    def rewrite(record: Record) -> Iterator[Staged]:
        fields = record.fields
        mac = fields.get("mac_address")
        if "primary_mac_address" in fields or not mac:
            yield record.model, record.pk, fields
            return
        own = f"{assigned[1]}-{record.pk}"
        yield record.model, record.pk, {**fields, "primary_mac_address": own}
        moved = {"mac_address": mac, "assigned_object_type": assigned, "assigned_object_id": record.pk, "description": "", "comments": ""}
        yield "dcim.macaddress", own, {**moved, "created": fields.get("created"), "last_updated": fields.get("last_updated"), "custom_field_data": {}}

    return rewrite


# NetBox 3.6's one switch → 3.7's two: (ui_visible, ui_editable).
UI_VISIBILITY = {
    "read-write": ("always", "yes"),
    "read-only": ("always", "no"),
    "hidden": ("hidden", "hidden"),
    "hidden-ifunset": ("if-set", "yes"),
}


def _custom_field(record: Record) -> Iterator[Staged]:
    fields = record.fields
    old = fields.get("ui_visibility")
    if old in UI_VISIBILITY and "ui_visible" not in fields:
        visible, editable = UI_VISIBILITY[old]
        fields = {**fields, "ui_visible": visible, "ui_editable": editable}
    yield record.model, record.pk, fields


def _image_attachment(record: Record) -> Iterator[Staged]:
    """NetBox ≤ 4.3 did not record an image's size: 0 until its file is read (--media)."""
    fields = record.fields
    yield record.model, record.pk, fields if "image_size" in fields else {**fields, "image_size": 0}


REWRITES: dict[str, Callable[[Record], Iterator[Staged]]] = {
    "extras.imageattachment": _image_attachment,
    "dcim.frontport": _front_port_mapping("dcim.portmapping", ()),
    "dcim.frontporttemplate": _front_port_mapping("dcim.porttemplatemapping", ("device_type", "module_type")),
    "extras.eventrule": _event_rule,
    "extras.webhook": _webhook,
    "dcim.interface": _mac_address(["dcim", "interface"]),
    "virtualization.vminterface": _mac_address(["virtualization", "vminterface"]),
    "extras.customfield": _custom_field,
}

# Fields a rewrite moved elsewhere: not left out of the original.
MOVED: dict[str, frozenset[str]] = {
    "dcim.frontport": frozenset({"rear_port", "rear_port_position"}),
    "dcim.frontporttemplate": frozenset({"rear_port", "rear_port_position"}),
    "extras.eventrule": frozenset(EVENT_FLAGS),
    "extras.webhook": frozenset({*EVENT_FLAGS, "content_types", "enabled", "conditions"}),
    "dcim.interface": frozenset({"mac_address"}),
    "virtualization.vminterface": frozenset({"mac_address"}),
    "extras.customfield": frozenset({"ui_visibility"}),
}


def rewritten(record: Record) -> Iterator[Staged]:
    rewrite = REWRITES.get(record.model)
    if rewrite is None:
        yield record.model, record.pk, record.fields
    else:
        yield from rewrite(record)
