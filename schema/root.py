"""The root Query, Mutation and Subscription, assembled from the generated types."""

import uuid
from collections.abc import AsyncGenerator
from typing import Any, Optional

import strawberry
from strawberry.schema.config import StrawberryConfig

from resolvers import ipam, reads, writes
from resolvers.prefetch import prefetch, selected_fields, to_record, to_records
from schema import admin, alerts, config_drift, custom_links, discovery_diff, jobs, live, sweep
from schema.build import Generated, build_types, input_dict
from schema.compiled import Root, compiled_reads
from schema.extensions import extensions_for
from schema.lookups import SCALAR_MAP, OffsetPaginationInput
from schema.overrides import OVERRIDES


async def _one(info: strawberry.Info, spec: Any, row: Any) -> Any:
    """One row as a record, its selected relations prefetched like a list's."""
    record = to_record(row)
    await prefetch(info.context, spec.model.__name__, [record], info.selected_fields[0].selections, info.path.as_list())
    return record


def _get_field(gen: Generated) -> Any:
    spec, object_type = gen.spec, gen.type

    if spec.numbered:

        async def resolve(
            info: strawberry.Info,
            id: Optional[strawberry.ID] = None,
            numid: Optional[int] = None,
            tenant: Optional[strawberry.ID] = None,
        ) -> object_type:  # type: ignore[valid-type]
            return await _one(info, spec, await reads.get_one(info.context, spec, id=id, numid=numid, tenant=tenant))

    else:

        async def resolve(info: strawberry.Info, id: strawberry.ID) -> object_type:  # type: ignore[valid-type,misc]
            return await _one(info, spec, await reads.get_one(info.context, spec, id=id))

    return strawberry.field(resolver=resolve, name=spec.name)


def _list_field(gen: Generated) -> Any:
    spec, object_type, filter_type = gen.spec, gen.type, gen.filter

    async def resolve(
        info: strawberry.Info,
        filters: Optional[filter_type] = None,  # type: ignore[valid-type]
        pagination: Optional[OffsetPaginationInput] = None,
    ) -> list[object_type]:  # type: ignore[valid-type]
        selected = {field.name for field in selected_fields(info.selected_fields[0].selections)}
        rows = await reads.list_rows(info.context, spec, filters, pagination, path=info.path.as_list(), fields=selected)
        records = to_records(rows)
        await prefetch(info.context, spec.model.__name__, records, info.selected_fields[0].selections, info.path.as_list())
        return records

    return strawberry.field(resolver=resolve, name=f"{spec.name}_list")


def _mutations(gen: Generated) -> dict[str, Any]:
    spec, object_type = gen.spec, gen.type
    create_input, update_input = gen.create_input, gen.update_input

    async def create(info: strawberry.Info, input: create_input) -> object_type:  # type: ignore[valid-type]
        return await _one(info, spec, await writes.create(info.context, spec, input_dict(input)))

    async def update(info: strawberry.Info, id: strawberry.ID, input: update_input) -> object_type:  # type: ignore[valid-type]
        return await _one(info, spec, await writes.update(info.context, spec, id, input_dict(input)))

    async def delete(info: strawberry.Info, id: strawberry.ID) -> object_type:  # type: ignore[valid-type]
        return await _one(info, spec, await writes.delete(info.context, spec, id))

    # Batches: one transaction each, all or nothing; an error names the input's index.
    update_item = _update_item(spec.type_name, update_input)

    async def create_many(info: strawberry.Info, inputs: list[create_input]) -> list[object_type]:  # type: ignore[valid-type]
        return await _many(info, spec, await writes.create_many(info.context, spec, [input_dict(i) for i in inputs]))

    async def update_many(info: strawberry.Info, inputs: list[update_item]) -> list[object_type]:  # type: ignore[valid-type]
        items = [(item.id, input_dict(item.input)) for item in inputs]  # type: ignore[attr-defined]
        return await _many(info, spec, await writes.update_many(info.context, spec, items))

    async def delete_many(info: strawberry.Info, ids: list[strawberry.ID]) -> list[object_type]:  # type: ignore[valid-type]
        return await _many(info, spec, await writes.delete_many(info.context, spec, ids))

    resolvers: dict[str, Any] = {
        "create": create,
        "update": update,
        "delete": delete,
        "create_many": create_many,
        "update_many": update_many,
        "delete_many": delete_many,
    }
    return {f"{spec.name}_{verb}": strawberry.mutation(resolver=resolver, name=f"{spec.name}_{verb}") for verb, resolver in resolvers.items()}


def _update_item(type_name: str, update_input: Any) -> Any:
    """``<Type>UpdateManyInput``: one object of an ``_update_many`` batch, its id and changes."""
    item = type(f"{type_name}UpdateManyInput", (), {"__module__": __name__, "__annotations__": {"id": strawberry.ID, "input": update_input}})
    return strawberry.input(item, name=f"{type_name}UpdateManyInput")


async def _many(info: strawberry.Info, spec: Any, rows: list[Any]) -> list[Any]:
    """Rows of a batch as records, their selected relations prefetched like a list's."""
    records = to_records(rows)
    await prefetch(info.context, spec.model.__name__, records, info.selected_fields[0].selections, info.path.as_list())
    return records


def _allocation_mutations(generated: dict[str, Generated]) -> dict[str, Any]:
    prefix_type, ip_type = generated["Prefix"].type, generated["IPAddress"].type
    ip_input, prefix_input = generated["IPAddress"].update_input, generated["Prefix"].update_input

    async def prefix_allocate_ip(
        info: strawberry.Info,
        prefix: strawberry.ID,
        input: Optional[ip_input] = None,  # type: ignore[valid-type]
    ) -> ip_type:  # type: ignore[valid-type]
        """Create the lowest free IP address of a prefix; safe under concurrent callers."""
        return await _one(info, generated["IPAddress"].spec, await ipam.allocate_ip(info.context, prefix, input_dict(input)))

    async def prefix_allocate_prefix(
        info: strawberry.Info,
        prefix: strawberry.ID,
        prefix_length: int,
        input: Optional[prefix_input] = None,  # type: ignore[valid-type]
    ) -> prefix_type:  # type: ignore[valid-type]
        """Create the first free child prefix of the given length; safe under concurrent callers."""
        row = await ipam.allocate_prefix(info.context, prefix, prefix_length, input_dict(input))
        return await _one(info, generated["Prefix"].spec, row)

    return {
        "prefix_allocate_ip": strawberry.mutation(resolver=prefix_allocate_ip),
        "prefix_allocate_prefix": strawberry.mutation(resolver=prefix_allocate_prefix),
    }


@strawberry.type(description="A committed create, update or delete.")
class ObjectChangedEvent:
    type: str
    id: strawberry.ID
    numid: Optional[int]
    action: str
    changed_fields: list[str]
    tenant: Optional[strawberry.ID]
    event_id: Optional[str] = strawberry.field(
        default=None, description="The event's place in the retained log: pass the last one seen as after to resume after a reconnect."
    )


async def object_changed(info: strawberry.Info, types: Optional[list[str]] = None, after: Optional[str] = None) -> AsyncGenerator[ObjectChangedEvent, None]:
    """Committed changes to objects you may see; optionally only of some types. With after
    (an event_id seen before), first every retained change since that event, then live ones:
    a client that reconnects loses none (docs/scaling.md)."""
    from danbyte import event_log
    from resolvers.errors import BadUserInput, Conflict

    ctx = info.context
    principal = ctx.require_principal()
    wanted = set(types or [])
    if after is not None and not event_log.valid_id(after):
        raise BadUserInput("after: an event_id (digits-digits) from an earlier event", field="after")
    try:
        async for event in ctx.events.subscribe(after=after) if after is not None else ctx.events.subscribe():
            if event.get("kind", "change") != "change" or "action" not in event:
                continue
            if wanted and event["type"] not in wanted:
                continue
            if not _visible(principal, event):
                continue
            yield ObjectChangedEvent(
                type=event["type"],
                id=event["id"],
                numid=event.get("numid"),
                action=event["action"],
                changed_fields=event["changed_fields"],
                tenant=event.get("tenant_id"),
                event_id=event.get("event_id"),
            )
    except event_log.EventsExpired as expired:
        raise Conflict(
            f"after: the events since {after} are no longer all retained (oldest {expired}); read the current state again and subscribe without after",
            field="after",
        ) from None


def _subscription(generated: dict[str, Generated]) -> type:
    fields: dict[str, Any] = {
        "job_updated": jobs.job_updated_field(lambda principal, event: _visible(principal, event)),
        "object_changed": strawberry.subscription(resolver=object_changed, description=object_changed.__doc__),
        "config_drift_changed": strawberry.subscription(resolver=config_drift.config_drift_changed, description=config_drift.config_drift_changed.__doc__),
    }
    # The current set, then changes (schema/live.py): check_state_changed, …
    fields.update(live.subscription_fields(generated))
    return strawberry.type(type("Subscription", (), {"__module__": __name__, **fields}))


def _visible(principal: Any, event: dict[str, Any]) -> bool:
    if event.get("org_id") != str(principal.org_id):
        return False
    tenant = event.get("tenant_id")
    return principal.may_see_change(event["object_type"], uuid.UUID(tenant) if tenant else None, event.get("audience", ""))


class DanbyteSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        # Client errors are answers, not incidents: only unexpected ones reach the log
        # (CodedErrors logs those with their traceback when it masks them).
        return None


def build_schema(settings: Any) -> strawberry.Schema:
    generated = build_types(OVERRIDES)
    query_fields: dict[str, Any] = {}
    mutation_fields: dict[str, Any] = {}
    for gen in generated.values():
        query_fields[gen.spec.name] = _get_field(gen)
        query_fields[f"{gen.spec.name}_list"] = _list_field(gen)
        if not gen.spec.read_only and gen.create_input is not None:
            mutation_fields.update(_mutations(gen))
    mutation_fields.update(_allocation_mutations(generated))
    # The generated root fields the SQL compiler may answer (not those admin replaces).
    roots = {name: Root(gen.spec, many) for gen in generated.values() for name, many in ((gen.spec.name, False), (f"{gen.spec.name}_list", True))}
    admin_fields = admin.query_fields()
    roots = {name: root for name, root in roots.items() if name not in admin_fields}
    query_fields.update(admin_fields)
    query_fields.update(custom_links.query_fields())
    types = {name: gen.type for name, gen in generated.items()}
    query_fields.update(discovery_diff.query_fields(types))
    mutation_fields.update(admin.mutation_fields(generated))
    mutation_fields.update(config_drift.mutation_fields(generated))
    mutation_fields.update(jobs.mutation_fields(generated, _one))
    mutation_fields.update(discovery_diff.mutation_fields(types))
    mutation_fields.update(sweep.mutation_fields(generated))
    mutation_fields.update(alerts.mutation_fields(generated))
    query = strawberry.type(type("Query", (), {"__module__": __name__, **query_fields}))
    mutation = strawberry.type(type("Mutation", (), {"__module__": __name__, **mutation_fields}))
    return DanbyteSchema(
        query=query,
        mutation=mutation,
        subscription=_subscription(generated),
        config=StrawberryConfig(auto_camel_case=False, scalar_map=SCALAR_MAP),
        extensions=extensions_for(settings, compiled_reads(roots)),
    )
