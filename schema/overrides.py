"""Fields that are not columns: the derived prefix tree and address helpers.

Each override returns (annotations, attributes) for one generated type. Relation-like
fields (parent, children, ip_addresses, an address's prefix) are registered for
per-level prefetching and are plain attributes; computed ones read their prefetched
batch answer, or load it when the record was not prefetched.
"""

from functools import partial
from typing import Any, Optional

import strawberry

from models import prefix_tree
from models.registry import specs
from resolvers import ipam
from resolvers.compiled import SqlRelation, SqlValue, register_sql
from resolvers.prefetch import MISSING, Relation, prefetched, register
from schema.attachments import image_fields
from schema.build import relation_annotation
from schema.cabling import cabled_fields
from schema.config_contexts import config_fields
from schema.config_drift import config_state_fields
from schema.counters import counter_fields
from schema.dcim_fields import power_feed_fields, rack_fields
from schema.discovery import discovery_fields
from schema.discovery_diff import device_fields
from schema.monitoring import checks_fields, summary_fields


def _computed_field(owner: str, name: str, relation: Relation, compute: Any, annotation: Any, description: str) -> Any:
    """A field computed from a batch loader's per-row answer (prefetched, else loaded)."""
    register(owner, name, relation)

    async def load(root: Any, info: strawberry.Info) -> Any:
        return compute(root, await relation.loader(info.context).load(root.id))

    def resolve(root: Any, info: strawberry.Info) -> Any:
        answer = prefetched(root, name)
        if answer is not MISSING:
            return compute(root, answer)
        return load(root, info)

    resolve.__annotations__["return"] = annotation
    resolve.__name__ = name
    return strawberry.field(resolver=resolve, description=description)


def _depth(root: Any, answer: Any) -> int:
    return answer.depth if answer is not None else 0


def _utilisation(root: Any, answer: Any) -> Optional[float]:
    return ipam.utilisation_of(root, answer)


def prefix_fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    prefix_type, ip_type = types["Prefix"], types["IPAddress"]
    # The tree as the SQL compiler writes it, one prefix at a time (resolvers/compiled.py).
    register_sql("Prefix", "parent", SqlRelation("Prefix", prefix_tree.PARENT_OF, many=False))
    register_sql("Prefix", "children", SqlRelation("Prefix", prefix_tree.CHILD_OF, many=True, order=("prefix",)))
    register_sql("Prefix", "ip_addresses", SqlRelation("IPAddress", prefix_tree.ADDRESS_IN, many=True, order=("address",)))
    register_sql("Prefix", "depth", SqlValue(prefix_tree.DEPTH_OF))
    register_sql("Prefix", "utilisation", SqlValue(prefix_tree.UTILISATION_OF))

    @strawberry.field(description="Unused host addresses, lowest first.")
    async def available_ips(root: Any, info: strawberry.Info, limit: int = 10) -> list[str]:
        return await ipam.available_ips(info.context, root, limit)

    @strawberry.field(description="The largest free blocks not covered by child prefixes.")
    async def available_prefixes(root: Any, info: strawberry.Info) -> list[str]:
        return await ipam.available_prefixes(info.context, root)

    annotations = {
        "parent": relation_annotation("Prefix", "parent", Relation(ipam.parent_loader, "id", "Prefix", many=False), Optional[prefix_type]),
        "children": relation_annotation(
            "Prefix",
            "children",
            Relation(ipam.children_loader, "id", "Prefix", many=True),
            list[prefix_type],  # type: ignore[valid-type]
        ),
        "ip_addresses": relation_annotation(
            "Prefix",
            "ip_addresses",
            Relation(ipam.ip_addresses_loader, "id", "IPAddress", many=True),
            list[ip_type],  # type: ignore[valid-type]
        ),
    }
    attributes = {
        "parent": strawberry.field(description="The most specific prefix containing this one, in the same tenant and VRF."),
        "children": strawberry.field(description="Prefixes directly below this one."),
        "ip_addresses": strawberry.field(description="IP addresses of the same tenant and VRF inside this prefix."),
        "depth": _computed_field(
            "Prefix",
            "depth",
            Relation(ipam.depth_loader, "id", None, many=False, computed=True),
            _depth,
            int,
            "How many prefixes contain this one.",
        ),
        "utilisation": _computed_field(
            "Prefix",
            "utilisation",
            Relation(ipam.usage_loader, "id", None, many=False, computed=True),
            _utilisation,
            Optional[float],
            "Percent used (0–100) by child prefixes, else by IP addresses; null for containers and IPv6.",
        ),
        "available_ips": available_ips,
        "available_prefixes": available_prefixes,
    }
    return annotations, attributes


def ip_address_fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    register_sql("IPAddress", "prefix", SqlRelation("Prefix", prefix_tree.PREFIX_OF_ADDRESS, many=False))
    relation = Relation(ipam.containing_prefix_loader, "id", "Prefix", many=False)
    annotations = {"prefix": relation_annotation("IPAddress", "prefix", relation, Optional[types["Prefix"]])}  # noqa: F821 (a dict key)
    attributes = {
        "prefix": strawberry.field(description="The most specific prefix of the same tenant and VRF containing this address."),
    }
    return annotations, attributes


def ip_range_fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    register_sql("IPRange", "utilization", SqlValue(prefix_tree.RANGE_UTILIZATION_OF))
    attributes = {
        "utilization": _computed_field(
            "IPRange",
            "utilization",
            Relation(ipam.range_usage_loader, "id", None, many=False, computed=True),
            ipam.range_utilization_of,
            Optional[float],
            "Percent of the range's addresses in use (0–100): 100 when marked utilized; null for IPv6.",
        ),
    }
    return {}, attributes


def _merged(parts: tuple[Any, ...], types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Several overrides of one type, as one."""
    annotations: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for part in parts:
        more_annotations, more_attributes = part(types)
        annotations.update(more_annotations)
        attributes.update(more_attributes)
    return annotations, attributes


OVERRIDES: dict[str, Any] = {
    "Prefix": prefix_fields,
    "IPAddress": partial(_merged, (ip_address_fields, checks_fields("IPAddress", "ip_address_ids"))),
    "IPRange": ip_range_fields,
    "Rack": rack_fields,
    "PowerFeed": partial(_merged, (power_feed_fields, partial(cabled_fields, "PowerFeed"))),
    "Device": partial(_merged, (partial(config_fields, "Device"), discovery_fields, device_fields, checks_fields("Device", "device_ids"))),
    "Service": checks_fields("Service", "service_ids"),
    "Site": summary_fields("Site"),
    "Tenant": summary_fields("Tenant"),
    "VirtualMachine": partial(config_fields, "VirtualMachine"),
    "ImageAttachment": image_fields,
    "ConfigState": config_state_fields,
    "Interface": partial(_merged, (partial(cabled_fields, "Interface"), counter_fields)),
}
# Every cable endpoint answers link_peers, connected_endpoints and trace.
OVERRIDES.update({name: partial(cabled_fields, name) for name, spec in specs().items() if getattr(spec.model, "__cabled__", False) and name not in OVERRIDES})
