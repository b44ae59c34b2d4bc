"""DCIM rules (registered in resolvers/rules.py)."""

from __future__ import annotations

import functools
import ipaddress
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from models.base import Base
from models.choices import SubdeviceRole
from models.choices_dcim import InterfaceMode, InterfaceType
from models.registry import ModelSpec, spec_for, specs
from resolvers.components import is_template, stamp
from resolvers.errors import BadUserInput, Conflict
from resolvers.rules import RuleBook
from resolvers.writes import Write


def register_rules(book: RuleBook) -> None:
    book.check("Location")(_agrees_on("parent", "site"))
    book.check("Site")(_known_time_zone)
    for located in ("Device", "Rack", "PowerPanel"):
        book.check(located)(_agrees_on("location", "site"))
    book.check("Device")(_agrees_on("rack", "site"))
    book.check("Device")(_rack_placement)
    for holder in ADDRESS_HOLDERS:
        book.check(holder.model)(_primary_addresses(holder))
    book.generate_after("Device")(_stamp_device)
    for typed in ("DeviceType", "ModuleType", "Rack"):
        book.check(typed)(_weight_has_a_unit)
    book.check("DeviceType")(_half_units)
    book.check("Module")(_agrees_on("module_bay", "device"))
    book.generate_after("Module")(_stamp_module)
    book.check("RackReservation")(_units_in_rack)
    book.generate_before("RackReservation")(_reserved_by_writer)
    book.check("Interface")(_lag_is_a_lag)
    # An interface's primary MAC is one assigned to it; a virtual chassis's master is a member.
    book.check("Interface")(_points_back("primary_mac_address", "assigned_object_interface_id", "is not assigned to this interface"))
    book.check("PortMapping")(_ports_share_a_device)
    book.check("PortMapping", "PortTemplateMapping")(_positions_exist)
    book.check("DeviceBay")(_installable_child)
    book.check("Interface", "VMInterface")(_vlans_follow_the_mode)
    book.maintain_after("Interface", "VMInterface")(_tagged_only_in_tagged_mode)
    book.check("VMInterface")(_points_back("primary_mac_address", "assigned_object_vm_interface_id", "is not assigned to this interface"))
    book.check("VirtualChassis")(_points_back("master", "virtual_chassis_id", "is not a member of this virtual chassis"))
    book.check("PowerFeed")(_feed_rack_at_panel_site)
    book.check_update("IPAddress")(_primary_stays_assigned)
    # Whatever a component refers to on its device (its module, LAG, parent, power port,
    # the component an inventory item describes) is on the same device.
    for spec in specs().values():
        linked = {(field, target) for field, _, target in spec.links()}
        # (A device's components agree on the device; a VM's interfaces on the VM.)
        for owner in () if is_template(spec.type_name) else spec.tenant_from:
            for field, target in linked:
                ref = spec.ref(field)  # None for a one-of member
                shared = spec_for(target).ref(owner)
                # (Not where the target's is derived: an endpoint's cable is the termination's doing.)
                if field != owner and (ref is None or ref.writable) and shared is not None and shared.writable:
                    book.check(spec.type_name)(_agrees_on(field, owner))
        if is_template(spec.type_name):
            book.check(spec.type_name)(_one_template_owner)
            for field, target in linked:
                if is_template(target):
                    for owner in ("device_type", "module_type"):
                        if spec.ref(owner) is not None and spec_for(target).ref(owner) is not None:
                            book.check(spec.type_name)(_agrees_on(field, owner))


def _agrees_on(reference: str, shared: str) -> Any:
    """A check: the object ``reference`` points at (a plain reference, or any member of a
    one-of) has the same ``shared`` reference as the object written (a location's parent,
    a device's location: both in its site; an inventory item's component: on its device)."""

    async def check(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
        common = spec.ref(shared)
        assert common is not None, (spec.type_name, shared)
        for field, column, target_name in spec.links():
            target_id = _value(values, old, column) if field == reference else None
            if target_id is None:
                continue
            mine = _value(values, old, common.column)
            target = spec_for(target_name)
            theirs = (await write.conn.execute(sa.select(target.table.c[common.column]).where(target.table.c.id == target_id))).scalar_one_or_none()
            if theirs is not None and theirs != mine:
                raise BadUserInput(f"{reference}: that {target.name} belongs to another {shared}", field=reference)

    return check


async def _half_units(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    """Device types occupy whole or half rack units, as NetBox allows."""
    height = values.get("u_height")
    if height is not None and Decimal(str(height)) % Decimal("0.5"):
        raise BadUserInput(f"u_height: {height} is not a multiple of 0.5 rack units", field="u_height")


async def _weight_has_a_unit(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    weight = values.get("weight", getattr(old, "weight", None))
    unit = values.get("weight_unit", getattr(old, "weight_unit", None))
    if weight is not None and unit is None:
        raise BadUserInput("weight_unit: a weight needs its unit", field="weight_unit")


async def _known_time_zone(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    """A site's time zone is an IANA name (``Europe/Amsterdam``), as NetBox requires."""
    zone = values.get("time_zone")
    if zone is not None and zone not in _time_zones():
        raise BadUserInput(f"time_zone: '{zone}' is not an IANA time zone such as 'Europe/Amsterdam'", field="time_zone")


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _value(values: dict[str, Any], old: Any, column: str) -> Any:
    """The column's value after the write: given, else unchanged."""
    return values[column] if column in values else getattr(old, column, None)


async def _one_row(write: Write, model: str, object_id: Any, *columns: str) -> Any:
    table = spec_for(model).table
    return (await write.conn.execute(sa.select(*(table.c[c] for c in columns)).where(table.c.id == object_id))).one_or_none()


def _points_back(reference: str, back: str, refusal: str) -> Any:
    """A check: the object ``reference`` points at has its column ``back`` pointing at the
    object written (which must exist already, so a create cannot satisfy it)."""

    async def check(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
        ref = spec.ref(reference)
        assert ref is not None, (spec.type_name, reference)
        if values.get(ref.column) is None:
            return
        target = await _one_row(write, ref.target, values[ref.column], back)
        if target is not None and (old is None or getattr(target, back) != old.id):
            raise BadUserInput(f"{reference}: that {spec_for(ref.target).name} {refusal}", field=reference)

    return check


async def _rack_placement(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """A device at a rack position fits within the rack's units and overlaps nothing on its
    face; a full-depth device takes both faces (NetBox's rules)."""
    if not {"rack_id", "position", "face", "device_type_id"} & set(values):
        return
    rack_id, position, face = (_value(values, old, c) for c in ("rack_id", "position", "face"))
    for field, given in (("position", position), ("face", face)):
        if given is not None and rack_id is None:
            raise BadUserInput(f"{field}: a device has a {field} only in a rack", field=field)
    if rack_id is None or position is None:
        return
    if face is None:
        raise BadUserInput("face: a device at a rack position needs a face (front or rear)", field="face")
    position = Decimal(str(position))
    if position % Decimal("0.5"):
        raise BadUserInput(f"position: {position} is not a whole or half rack unit", field="position")
    kind = await _one_row(write, "DeviceType", _value(values, old, "device_type_id"), "u_height", "is_full_depth", "subdevice_role")
    if kind is None:
        return  # the reference check names the missing device type
    if kind.subdevice_role == SubdeviceRole.child:
        raise BadUserInput("position: a child device sits in its parent's device bay, not at a rack position", field="position")
    height = Decimal(kind.u_height)
    if height == 0:
        raise BadUserInput("position: a 0U device type takes no rack position", field="position")
    if position % 1 and height % 1 == 0:
        raise BadUserInput(f"position: {position}: a device of whole units starts on a whole unit", field="position")
    rack_table = spec_for("Rack").table
    # Holding the rack's row serialises placements in one rack: two writers cannot both
    # take the same free units.
    rack = (
        await write.conn.execute(sa.select(rack_table.c.u_height, rack_table.c.starting_unit).where(rack_table.c.id == rack_id).with_for_update())
    ).one_or_none()
    if rack is None:
        return
    bottom, top = rack.starting_unit, rack.starting_unit + rack.u_height
    if position < bottom or position + height > top:
        raise BadUserInput(f"position: U{position} with {height} units does not fit in the rack's units {bottom}–{top - 1}", field="position")
    device, kinds = spec.table, spec_for("DeviceType").table
    faces = [] if kind.is_full_depth else [device.c.face == face, kinds.c.is_full_depth]
    overlapping = (
        sa.select(device.c.name)
        .join(kinds, kinds.c.id == device.c.device_type_id)
        .where(
            device.c.rack_id == rack_id,
            device.c.position.is_not(None),
            device.c.position < position + height,
            device.c.position + kinds.c.u_height > position,
            sa.or_(*faces) if faces else sa.true(),
        )
        .limit(1)
    )
    if old is not None:
        overlapping = overlapping.where(device.c.id != old.id)
    other = (await write.conn.execute(overlapping)).one_or_none()
    if other is not None:
        raise Conflict(f"position: U{position} overlaps {other.name or 'an unnamed device'} in that rack", field="position")


@dataclass(frozen=True)
class AddressHolder:
    """A model whose primary addresses must sit on its own interfaces: the fields (with the
    family each takes, None for any), the interface model and its column naming the holder."""

    model: str
    fields: tuple[tuple[str, int | None], ...]
    interface: str
    owner_column: str


ADDRESS_HOLDERS = (
    AddressHolder("Device", (("primary_ip4", 4), ("primary_ip6", 6), ("oob_ip", None)), "Interface", "device_id"),
    AddressHolder("VirtualMachine", (("primary_ip4", 4), ("primary_ip6", 6)), "VMInterface", "virtual_machine_id"),
)


def _assigned_column(interface: str) -> str:
    """The column of an IP address naming the ``interface`` it is assigned to."""
    return next(column for column, target in _assigned_columns(spec_for("IPAddress")) if target == interface)


def _primary_addresses(holder: AddressHolder) -> Any:
    """A check: the holder's primary (and out-of-band) addresses are assigned to its own
    interfaces, and primary_ip4 / primary_ip6 are of their family."""

    async def check(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
        assigned = _assigned_column(holder.interface)
        for field, family in holder.fields:
            address_id = values.get(f"{field}_id")
            if address_id is None:
                continue
            address = await _one_row(write, "IPAddress", address_id, "address", assigned)
            if address is None:
                continue  # the reference check names it
            on = None
            if getattr(address, assigned) is not None:
                interface = await _one_row(write, holder.interface, getattr(address, assigned), holder.owner_column)
                on = getattr(interface, holder.owner_column) if interface is not None else None
            if old is None or on != old.id:
                raise BadUserInput(f"{field}: {address.address} is not assigned to an interface of this {spec.name.replace('_', ' ')}", field=field)
            if family is not None and ipaddress.ip_interface(address.address).version != family:
                raise BadUserInput(f"{field}: {address.address} is not an IPv{family} address", field=field)

    return check


async def _stamp_device(write: Write, spec: ModelSpec, row: Any, old: Any) -> Any:
    """A new device gets its type's components, in the same transaction."""
    if old is None:
        await stamp(write, "device_type_id", row.device_type_id, {"device_id": row.id})
    return row


async def _stamp_module(write: Write, spec: ModelSpec, row: Any, old: Any) -> Any:
    """An installed module brings its type's components onto the device, ``{module}`` in
    their names replaced by the bay's position."""
    if old is None:
        bay = await _one_row(write, "ModuleBay", row.module_bay_id, "position")
        await stamp(write, "module_type_id", row.module_type_id, {"device_id": row.device_id, "module_id": row.id}, bay.position)
    return row


async def _units_in_rack(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    units, rack_id = _value(values, old, "units"), _value(values, old, "rack_id")
    rack = await _one_row(write, "Rack", rack_id, "u_height", "starting_unit") if rack_id is not None else None
    if rack is None or not units:
        return
    outside = [u for u in units if not rack.starting_unit <= u < rack.starting_unit + rack.u_height]
    if outside:
        raise BadUserInput(f"units: U{outside[0]} is not a unit of that rack", field="units")


async def _reserved_by_writer(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    if old is None:
        values["user_id"] = write.principal.user_id


async def _lag_is_a_lag(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """An interface's LAG is a LAG interface other than itself, and a LAG is in no LAG."""
    lag_id = values.get("lag_id")
    if lag_id is None:
        return
    if old is not None and lag_id == old.id:
        raise BadUserInput("lag: an interface cannot be a member of itself", field="lag")
    lag = await _one_row(write, "Interface", lag_id, "type")
    if lag is not None and lag.type != InterfaceType.lag:
        raise BadUserInput(f"lag: that interface is of type {lag.type}, not a LAG", field="lag")
    if _value(values, old, "type") == InterfaceType.lag:
        raise BadUserInput("lag: a LAG interface cannot itself be a LAG member", field="lag")


async def _ports_share_a_device(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    front = await _one_row(write, "FrontPort", _value(values, old, "front_port_id"), "device_id")
    rear = await _one_row(write, "RearPort", _value(values, old, "rear_port_id"), "device_id")
    if front is not None and rear is not None and front.device_id != rear.device_id:
        raise BadUserInput("rear_port: that rear port is on another device", field="rear_port")


async def _positions_exist(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """A mapping's positions exist on its ports (a 12-position rear port has 1–12)."""
    for side in ("front_port", "rear_port"):
        ref = spec.ref(side)
        assert ref is not None
        port = await _one_row(write, ref.target, _value(values, old, ref.column), "positions")
        position = _value(values, old, f"{side}_position") or 1
        if port is not None and position > port.positions:
            raise BadUserInput(f"{side}_position: {position} is beyond the port's {port.positions} position(s)", field=f"{side}_position")


async def _installable_child(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """A device bay holds a child device (its type's subdevice role), never its own device."""
    child_id = values.get("installed_device_id")
    if child_id is None:
        return
    if child_id == _value(values, old, "device_id"):
        raise BadUserInput("installed_device: a device cannot be installed in itself", field="installed_device")
    child = await _one_row(write, "Device", child_id, "device_type_id")
    kind = await _one_row(write, "DeviceType", child.device_type_id, "subdevice_role") if child is not None else None
    if kind is not None and kind.subdevice_role != "child":
        raise BadUserInput("installed_device: only a device whose type is a child device fits a device bay", field="installed_device")


async def _one_template_owner(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """A template belongs to one device type or one module type (kinds NetBox keeps to
    device types have no module type at all)."""
    if spec.ref("module_type") is None:
        return
    device_type, module_type = _value(values, old, "device_type_id"), _value(values, old, "module_type_id")
    if (device_type is None) == (module_type is None):
        raise BadUserInput(f"device_type: give a {spec.name} one owner: device_type or module_type", field="device_type")


async def _vlans_follow_the_mode(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """802.1Q as NetBox has it: VLANs need a mode; tagged VLANs only in tagged mode (in
    tagged-all mode every VLAN is carried, so none is listed; in Q-in-Q mode the service
    VLAN says what is carried: _tagged_only_in_tagged_mode); a service VLAN only in Q-in-Q
    mode."""
    mode = _value(values, old, "mode")
    if mode is None and _value(values, old, "untagged_vlan_id") is not None:
        raise BadUserInput("untagged_vlan: an interface without an 802.1Q mode has no untagged VLAN", field="untagged_vlan")
    # 802.1ad: only a Q-in-Q interface pushes a service VLAN's outer tag (NetBox's clean()).
    if mode != InterfaceMode.q_in_q and _value(values, old, "qinq_svlan_id") is not None:
        raise BadUserInput("qinq_svlan: only an interface in Q-in-Q mode has a service VLAN", field="qinq_svlan")


async def _tagged_only_in_tagged_mode(write: Write, spec: ModelSpec, row: Any, old: Any) -> Any:
    """Runs after the row's many-to-many lists are written, so it sees the tagged VLANs."""
    if row.mode == InterfaceMode.tagged:
        return row
    relation = next(m for m in spec.many if m.name == "tagged_vlans")
    association = Base.metadata.tables[relation.table]
    listed = (await write.conn.execute(sa.select(sa.func.count()).where(association.c[relation.local] == row.id))).scalar_one()
    if listed:
        raise BadUserInput("tagged_vlans: only an interface in tagged mode lists tagged VLANs", field="tagged_vlans")
    return row


async def _feed_rack_at_panel_site(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    rack_id, panel_id = _value(values, old, "rack_id"), _value(values, old, "power_panel_id")
    if rack_id is None or panel_id is None:
        return
    rack = await _one_row(write, "Rack", rack_id, "site_id")
    panel = await _one_row(write, "PowerPanel", panel_id, "site_id")
    if rack is not None and panel is not None and rack.site_id != panel.site_id:
        raise BadUserInput("rack: the rack is at another site than the power panel", field="rack")


async def _primary_stays_assigned(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """An address that is a primary or out-of-band address stays on its holder's interfaces
    (NetBox refuses to move or unassign it)."""
    if old is None or not any(column in values for column, _ in _assigned_columns(spec)):
        return
    for holder in ADDRESS_HOLDERS:
        table = spec_for(holder.model).table
        pointing = sa.or_(*(table.c[f"{field}_id"] == old.id for field, _ in holder.fields))
        found = (await write.conn.execute(sa.select(table.c.id, table.c.name).where(pointing))).one_or_none()
        if found is None:
            continue
        interface_id = values.get(_assigned_column(holder.interface))
        interface = await _one_row(write, holder.interface, interface_id, holder.owner_column) if interface_id is not None else None
        if interface is None or getattr(interface, holder.owner_column) != found.id:
            raise BadUserInput(
                f"assigned_object: the address is a primary address of {found.name or 'a ' + spec_for(holder.model).name}; unset that first",
                field="assigned_object",
            )


def _assigned_columns(spec: ModelSpec) -> tuple[tuple[str, str], ...]:
    one_of = next(o for o in spec.one_of if o.name == "assigned_object")
    return tuple((column, target) for target, column in one_of.members)
