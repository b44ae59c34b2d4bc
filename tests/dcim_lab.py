"""A small DCIM builder for tests: objects made through the public API by field name."""

from __future__ import annotations

from typing import Any

from models.registry import specs


def _type_name(name: str) -> str:
    return next(spec.type_name for spec in specs().values() if spec.name == name)


class Lab:
    """Creates objects in one tenant (``tenant`` is added where the input takes it)."""

    def __init__(self, api: Any, tenant: Any) -> None:
        self.api, self.tenant = api, str(tenant)

    async def make(self, name: str, /, **fields: Any) -> str:
        spec = next(s for s in specs().values() if s.name == name)
        tenant_ref = spec.ref("tenant")
        if tenant_ref is not None and tenant_ref.writable:
            fields.setdefault("tenant", self.tenant)
        query = f"mutation($i: {_type_name(name)}CreateInput!) {{ {name}_create(input: $i) {{ id }} }}"
        return (await self.api.data(query, i=fields))[f"{name}_create"]["id"]

    async def refuse(self, name: str, /, **fields: Any) -> dict[str, Any]:
        """The error a create answers (it must fail)."""
        spec = next(s for s in specs().values() if s.name == name)
        tenant_ref = spec.ref("tenant")
        if tenant_ref is not None and tenant_ref.writable:
            fields.setdefault("tenant", self.tenant)
        query = f"mutation($i: {_type_name(name)}CreateInput!) {{ {name}_create(input: $i) {{ id }} }}"
        return await self.api.error(query, i=fields)

    async def update_error(self, name: str, object_id: str, /, **fields: Any) -> dict[str, Any]:
        query = f"mutation($id: ID!, $i: {_type_name(name)}UpdateInput!) {{ {name}_update(id: $id, input: $i) {{ id }} }}"
        return await self.api.error(query, id=object_id, i=fields)

    async def update(self, name: str, object_id: str, /, **fields: Any) -> None:
        query = f"mutation($id: ID!, $i: {_type_name(name)}UpdateInput!) {{ {name}_update(id: $id, input: $i) {{ id }} }}"
        await self.api.data(query, id=object_id, i=fields)

    async def catalogue(self) -> dict[str, str]:
        """A manufacturer, a role and a site: what every device needs."""
        maker = await self.make("manufacturer", name="Acme", slug="acme")
        return {
            "manufacturer": maker,
            "role": await self.make("device_role", name="Leaf", slug="leaf"),
            "site": await self.make("site", name="AMS1", slug="ams1"),
        }

    async def device_type(self, c: dict[str, str], model: str, **fields: Any) -> str:
        return await self.make("device_type", manufacturer=c["manufacturer"], model=model, slug=model.lower(), **fields)

    async def device(self, c: dict[str, str], device_type: str, name: str | None, /, **fields: Any) -> str:
        return await self.make("device", name=name, device_type=device_type, role=c["role"], site=c["site"], **fields)

    async def ids(self, query: str, **variables: Any) -> Any:
        return await self.api.data(query, **variables)
