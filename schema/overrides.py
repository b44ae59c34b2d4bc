"""Fields that are not columns: the derived prefix tree and address helpers.

Each override returns extra Strawberry fields for one generated type; every one that
reads data goes through a per-request loader (resolvers.ipam).
"""

import ipaddress
from typing import Any, Optional

import strawberry

from resolvers import ipam


def prefix_fields(types: dict[str, type]) -> dict[str, Any]:
    prefix_type, ip_type = types["Prefix"], types["IPAddress"]

    @strawberry.field(description="The most specific prefix containing this one, in the same tenant and VRF.")
    def parent(root: Any, info: strawberry.Info) -> Optional[prefix_type]:  # type: ignore[valid-type]
        return ipam.parent_loader(info.context).load(root.id)

    @strawberry.field(description="Prefixes directly below this one.")
    def children(root: Any, info: strawberry.Info) -> list[prefix_type]:  # type: ignore[valid-type]
        return ipam.children_loader(info.context).load(root.id)

    @strawberry.field(description="How many prefixes contain this one.")
    async def depth(root: Any, info: strawberry.Info) -> int:
        row = await ipam.depth_loader(info.context).load(root.id)
        return row.depth if row is not None else 0

    @strawberry.field(description="4 or 6.")
    def family(root: Any) -> int:
        return ipaddress.ip_network(root.prefix).version

    @strawberry.field(description="Percent used (0–100) by child prefixes, else by IP addresses; null for containers and IPv6.")
    async def utilisation(root: Any, info: strawberry.Info) -> Optional[float]:
        return await ipam.prefix_utilisation(info.context, root)

    @strawberry.field(description="IP addresses of the same tenant and VRF inside this prefix.")
    def ip_addresses(root: Any, info: strawberry.Info) -> list[ip_type]:  # type: ignore[valid-type]
        return ipam.ip_addresses_loader(info.context).load(root.id)

    @strawberry.field(description="Unused host addresses, lowest first.")
    async def available_ips(root: Any, info: strawberry.Info, limit: int = 10) -> list[str]:
        return await ipam.available_ips(info.context, root, limit)

    @strawberry.field(description="The largest free blocks not covered by child prefixes.")
    async def available_prefixes(root: Any, info: strawberry.Info) -> list[str]:
        return await ipam.available_prefixes(info.context, root)

    return {
        "parent": parent,
        "children": children,
        "depth": depth,
        "family": family,
        "utilisation": utilisation,
        "ip_addresses": ip_addresses,
        "available_ips": available_ips,
        "available_prefixes": available_prefixes,
    }


def ip_address_fields(types: dict[str, type]) -> dict[str, Any]:
    prefix_type = types["Prefix"]

    @strawberry.field(description="The most specific prefix of the same tenant and VRF containing this address.")
    def prefix(root: Any, info: strawberry.Info) -> Optional[prefix_type]:  # type: ignore[valid-type]
        return ipam.containing_prefix_loader(info.context).load(root.id)

    @strawberry.field(description="4 or 6.")
    def family(root: Any) -> int:
        return ipaddress.ip_interface(root.address).version

    return {"prefix": prefix, "family": family}


OVERRIDES = {"Prefix": prefix_fields, "IPAddress": ip_address_fields}
