"""The Nornir inventory plugin: ``InitNornir(inventory={"plugin": "DanbyteInventory", "options": {...}})``."""

from __future__ import annotations

from typing import Any

from nornir.core.inventory import ConnectionOptions, Defaults, Group, Groups, Host, Hosts, Inventory, ParentGroups

from nornir_danbyte.core import GROUP_ALIASES, GROUP_BY, Client, host_records, load_all, settings_from_env


class DanbyteInventory:
    """Hosts from Danbyte's GraphQL API: every device and virtual machine the token may
    read that ``filters`` match, with ``hostname`` (primary IPv4, else IPv6), ``platform``
    (the platform's slug, or ``platform_map``'s name for it), groups by ``group_by``
    (site, role, tenant by default) and ``data`` (the object's fields and ``query``'s)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        filters: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        group_by: list[str] | None = None,
        devices: bool = True,
        virtual_machines: bool = True,
        platform_map: dict[str, str] | None = None,
        validate_certs: bool = True,
        timeout: float = 30,
        page_size: int = 1000,
    ) -> None:
        url, token = settings_from_env(url, token)
        self.client = Client(url, token, validate_certs=validate_certs, timeout=timeout)
        self.filters, self.query = filters, query
        self.group_by = ["site", "role", "tenant"] if group_by is None else group_by
        self.devices, self.virtual_machines = devices, virtual_machines
        self.platform_map, self.page_size = platform_map, page_size

    def load(self) -> Inventory:
        items = load_all(self.client, self.devices, self.virtual_machines, self.filters, self.query, self.page_size)
        groups = Groups()
        hosts = Hosts()
        for record in host_records(items, self.group_by, platform_map=self.platform_map):
            parents = []
            for name in record.groups:
                if name not in groups:
                    groups[name] = Group(name=name, data=_group_data(name, record.data))
                parents.append(groups[name])
            hosts[record.name] = Host(
                name=record.name,
                hostname=record.hostname,
                platform=record.platform,
                groups=ParentGroups(parents),
                data=record.data,
                connection_options={},
            )
        return Inventory(hosts=hosts, groups=groups, defaults=Defaults(connection_options=dict[str, ConnectionOptions]()))


def _group_data(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a group knows of itself: the related object (``{"name": …, "slug": …}``)."""
    key = GROUP_ALIASES.get(name.split("_", 1)[0], name.split("_", 1)[0])
    if key in GROUP_BY:
        related = data.get(GROUP_BY[key][0])
        if isinstance(related, dict):
            return {key: related}
    return {}
