"""Jobs over GraphQL, beside the generated ``job`` / ``job_list`` (read-only) and the
generated ``job_schedule`` CRUD: ``job_start`` (any registered kind), ``job_cancel`` and
the ``job_updated`` subscription. Running them is jobs/runtime.py."""

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Optional

import sqlalchemy as sa
import strawberry
from strawberry.scalars import JSON

from jobs.runtime import INSERT_JOB, ParameterError, check_parameters, job_event, job_message, job_values
from models.base import table_of
from models.jobs import FINISHED, Job, JobStatus
from models.registry import specs
from permissions.principal import Principal
from resolvers import reads
from resolvers.errors import BadUserInput, Conflict, Forbidden, NotFound
from resolvers.jobs import check_references
from resolvers.validation import parse_id
from resolvers.writes import resolve_tenant, run_write

One = Callable[[strawberry.Info, Any, Any], Awaitable[Any]]


def _require(principal: Principal, action: str, object_type: str, doing: str) -> None:
    if not principal.can(action, object_type):
        raise Forbidden(f"{doing} needs the '{action}' permission on {object_type}")


async def _announce(ctx: Any, row: Any, *, send: bool) -> None:
    """After commit: send the job to the workers, tell subscribers."""
    if ctx.events is None:
        return  # the scheduler's reaper sends queued jobs whose message never went out
    if send:
        await ctx.events.enqueue(job_message(row.id, row.kind))
    await ctx.events.publish([job_event(row, ctx.require_principal().org_id)])


def mutation_fields(generated: dict[str, Any], one: One) -> dict[str, Any]:
    job_type = generated["Job"].type
    spec = specs()["Job"]

    async def job_start(
        info: strawberry.Info,
        kind: str,
        parameters: Optional[JSON] = None,
        tenant: Optional[strawberry.ID] = None,
    ) -> job_type:  # type: ignore[valid-type]
        """Start a job of a registered kind (such as prune_jobs) in a tenant; it runs on a worker."""
        ctx = info.context
        principal = ctx.require_principal()
        _require(principal, "add", "job", "starting a job")
        try:
            job_kind, checked = check_parameters(kind, parameters)
        except ParameterError as error:
            field = error.field if error.field in ("kind", "parameters") else f"parameters.{error.field}"
            raise BadUserInput(f"{field}: {error.message}", field=field) from None
        for action, object_type in job_kind.requires:
            _require(principal, action, object_type, f"a {kind} job")
        tenant_id = resolve_tenant(principal, {"tenant_id": parse_id(tenant, "tenant") if tenant is not None else None})

        async def work(write: Any) -> Any:
            await check_references(write, job_kind, checked, tenant_id)
            created = (await write.conn.execute(INSERT_JOB, job_values(tenant_id, job_kind.name, checked, principal))).one()
            return (await write.conn.execute(sa.select(table_of(Job)).where(table_of(Job).c.id == created.id))).one()

        row = await run_write(ctx, work)
        await _announce(ctx, row, send=True)
        return await one(info, spec, await reads.get_one(ctx, spec, id=row.id))

    async def job_cancel(info: strawberry.Info, id: strawberry.ID) -> job_type:  # type: ignore[valid-type]
        """Cancel a job: a queued one fails at once; a running one is asked to stop (its
        handler stops between two units of work, and the job fails)."""
        ctx = info.context
        principal = ctx.require_principal()
        _require(principal, "change", "job", "cancelling a job")
        job_id = parse_id(id, "id")
        job = table_of(Job)

        async def work(write: Any) -> Any:
            # Row-level security hides another tenant's job: not found, like an unknown id.
            row = (await write.conn.execute(sa.select(job).where(job.c.id == job_id).with_for_update())).one_or_none()
            if row is None:
                raise NotFound(f"no job with id {id}", field="id")
            if row.status in FINISHED:
                raise Conflict(f"job #{row.numid} has already finished ({row.status.value}): there is nothing to cancel", field="id")
            reason = f"cancelled by {principal.username}"
            values: dict[str, Any] = {"cancel_requested": True, "error": reason, "last_updated": sa.func.now()}
            if row.status == JobStatus.queued:
                values.update(status=JobStatus.failed, finished=sa.func.now())
            return (await write.conn.execute(sa.update(job).where(job.c.id == job_id).values(**values).returning(job))).one()

        row = await run_write(ctx, work)
        await _announce(ctx, row, send=False)
        return await one(info, spec, await reads.get_one(ctx, spec, id=row.id))

    return {
        "job_start": strawberry.mutation(resolver=job_start),
        "job_cancel": strawberry.mutation(resolver=job_cancel),
    }


@strawberry.type(description="A job's status or progress changed.")
class JobUpdatedEvent:
    id: strawberry.ID
    numid: Optional[int]
    kind: str
    status: str
    progress: JSON
    error: str
    tenant: strawberry.ID


def job_updated_field(visible: Callable[[Principal, dict[str, Any]], bool]) -> Any:
    async def job_updated(
        info: strawberry.Info,
        id: Optional[strawberry.ID] = None,
        tenant: Optional[strawberry.ID] = None,
        kinds: Optional[list[str]] = None,
    ) -> AsyncGenerator[JobUpdatedEvent, None]:
        """Status and progress of the jobs you may see: one job (``id``), or a tenant's, or
        all; optionally only some kinds."""
        ctx = info.context
        principal = ctx.require_principal()
        job_id = str(parse_id(id, "id")) if id is not None else None
        tenant_id = str(parse_id(tenant, "tenant")) if tenant is not None else None
        wanted = set(kinds or [])
        async for event in ctx.events.subscribe():
            if event.get("kind") != "job":
                continue
            if (job_id and event["id"] != job_id) or (tenant_id and event["tenant_id"] != tenant_id) or (wanted and event["job_kind"] not in wanted):
                continue
            if not visible(principal, event):
                continue
            yield JobUpdatedEvent(
                id=event["id"],
                numid=event.get("numid"),
                kind=event["job_kind"],
                status=event["status"],
                progress=event.get("progress") or {},  # type: ignore[arg-type]
                error=event.get("error") or "",
                tenant=event["tenant_id"],
            )

    return strawberry.subscription(resolver=job_updated, description="Status and progress of jobs you may see.")
