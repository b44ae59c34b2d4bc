"""A device's effective SNMP profile, where it comes from, and its management address
(resolvers/discovery.py). Registered in schema/overrides.py.

Each field reads one batch answer per level (every device of a list at once, through one
shared loader: a single statement for the profile and its source), and has an SQL form the
compiler inlines, so a device list selecting them is still answered by one statement."""

from functools import partial
from typing import Any, Optional

import strawberry
from strawberry.dataloader import DataLoader

from resolvers import discovery
from resolvers.compiled import SqlRelation, SqlValue, register_sql
from resolvers.context import RequestContext
from resolvers.prefetch import Relation
from schema.build import relation_annotation

OWNER = "Device"

SourceEnum = strawberry.enum(discovery.BindingSource, name="SnmpProfileSourceEnum", description="Where a device's SNMP profile comes from.")


def _bindings(ctx: RequestContext) -> DataLoader:
    """Per device id: its Binding, or None."""

    async def load(keys: list[Any]) -> list[Any]:
        found = await ctx.run(lambda conn: discovery.profile_for(conn, keys))
        return [found.get(key) for key in keys]

    return ctx.loader(("snmp-binding",), load)


def _part(ctx: RequestContext, part: str) -> DataLoader:
    """Per device id: one part of its binding (``profile`` or ``source``), or None."""

    async def load(keys: list[Any]) -> list[Any]:
        found = await _bindings(ctx).load_many(keys)
        return [getattr(binding, part) if binding is not None else None for binding in found]

    return ctx.loader(("snmp-binding", part), load)


def _addresses(ctx: RequestContext) -> DataLoader:
    async def load(keys: list[Any]) -> list[Any]:
        found = await ctx.run(lambda conn: discovery.management_address_for(conn, keys))
        return [found.get(key) for key in keys]

    return ctx.loader(("management-address",), load)


def _answer(root: Any, answer: Any) -> Any:
    return answer


def discovery_fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    from schema.overrides import _computed_field  # that module lists this override

    register_sql(OWNER, "effective_snmp_profile", SqlRelation("SnmpProfile", "{t}.id = " + discovery.PROFILE_OF, many=False))
    register_sql(OWNER, "effective_snmp_profile_source", SqlValue(discovery.SOURCE_OF))
    register_sql(OWNER, "effective_management_address", SqlValue(discovery.ADDRESS_OF))
    profile = Relation(partial(_part, part="profile"), "id", "SnmpProfile", many=False)
    annotations = {
        "effective_snmp_profile": relation_annotation(OWNER, "effective_snmp_profile", profile, Optional[types["SnmpProfile"]]),  # noqa: F821 (a dict key)
    }
    attributes = {
        "effective_snmp_profile": strawberry.field(
            description="The SNMP profile that applies: the device's own, else its role's, else its device type's, else the tenant's default."
        ),
        "effective_snmp_profile_source": _computed_field(
            OWNER,
            "effective_snmp_profile_source",
            Relation(partial(_part, part="source"), "id", None, many=False, computed=True, raw=True),
            _answer,
            Optional[SourceEnum],
            "Which binding effective_snmp_profile comes from (null when no profile applies).",
        ),
        "effective_management_address": _computed_field(
            OWNER,
            "effective_management_address",
            Relation(_addresses, "id", None, many=False, computed=True, raw=True),
            _answer,
            Optional[str],
            "Where the device is reached: management_address, else the host of primary_ip4, else of primary_ip6 (no mask).",
        ),
    }
    return annotations, attributes
