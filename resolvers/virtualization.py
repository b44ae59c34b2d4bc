"""Virtualization: a new virtual machine takes its type's defaults; a host device sits
where its cluster is (registered in resolvers/rules.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models.registry import ModelSpec, spec_for
from resolvers.errors import BadUserInput
from resolvers.rules import RuleBook, value_after
from resolvers.writes import Write

VM, VM_TYPE, DEVICE, CLUSTER, LOCATION = "VirtualMachine", "VirtualMachineType", "Device", "Cluster", "Location"
# A VM's column → its type's default for it (NetBox's apply_type_defaults).
TYPE_DEFAULTS = {"platform_id": "default_platform_id", "vcpus": "default_vcpus", "memory": "default_memory"}


def register_rules(book: RuleBook) -> None:
    book.generate_before(VM)(_type_defaults)
    book.check(DEVICE)(_host_where_its_cluster_is)


async def _host_where_its_cluster_is(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """NetBox's rule: a cluster scoped to a site (or a location) hosts devices of that site
    (and location) only."""
    if not {"cluster_id", "site_id", "location_id"} & values.keys():
        return
    cluster_id = value_after(values, old, "cluster_id")
    if cluster_id is None:
        return
    clusters, locations = spec_for(CLUSTER).table, spec_for(LOCATION).table
    statement = (
        sa.select(sa.func.coalesce(clusters.c.scope_site_id, locations.c.site_id).label("site_id"), clusters.c.scope_location_id)
        .select_from(clusters.outerjoin(locations, locations.c.id == clusters.c.scope_location_id))
        .where(clusters.c.id == cluster_id)
    )
    scope = (await write.conn.execute(statement)).one_or_none()
    if scope is None:
        return  # the reference check has named it already
    site_id = value_after(values, old, "site_id")
    location_id = value_after(values, old, "location_id")
    if scope.site_id is not None and scope.site_id != site_id:
        raise BadUserInput("cluster: the cluster belongs to another site than the device's", field="cluster")
    if scope.scope_location_id is not None and scope.scope_location_id != location_id:
        raise BadUserInput("cluster: the cluster belongs to another location than the device's", field="cluster")


async def _type_defaults(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """On create only, as NetBox: what the VM leaves empty comes from its type's defaults."""
    if old is not None or values.get("virtual_machine_type_id") is None:
        return
    empty = [column for column in TYPE_DEFAULTS if values.get(column) is None]
    if not empty:
        return
    table = spec_for(VM_TYPE).table
    statement = sa.select(*(table.c[TYPE_DEFAULTS[column]] for column in empty)).where(table.c.id == values["virtual_machine_type_id"])
    defaults = (await write.conn.execute(statement)).one_or_none()
    if defaults is None:
        return  # the reference check has named it already
    for column, value in zip(empty, defaults, strict=True):
        if value is not None:
            values[column] = value
