"""Job schedules: what a write must get right (registered in resolvers/rules.py).

A schedule's kind and parameters are checked by the kind itself, with the check
``job_start`` uses (jobs/runtime.py). Its jobs run as the user who last set what they do
(kind or parameters): a user allowed to edit a schedule cannot make it run something
with someone else's grants. That user must hold what starting such a job needs."""

from __future__ import annotations

import uuid
from typing import Any

from models.registry import ModelSpec
from resolvers.errors import BadUserInput, Forbidden
from resolvers.rules import RuleBook, value_after
from resolvers.writes import Write, check_references_many


def register_rules(book: RuleBook) -> None:
    book.check("JobSchedule")(_schedule_is_runnable)


async def _schedule_is_runnable(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    # Imported here: the job runtime sits above the resolvers (it imports them).
    from jobs.runtime import ParameterError, check_parameters

    if "interval_seconds" in values:
        floor = getattr(write.ctx.settings, "job_min_interval", 10)
        if values["interval_seconds"] < floor:
            raise BadUserInput(f"interval_seconds: at least {floor} seconds (DANBYTE_JOB_MIN_INTERVAL)", field="interval_seconds")
    if old is not None and "kind" not in values and "parameters" not in values:
        return
    kind_name = value_after(values, old, "kind")
    try:
        kind, checked = check_parameters(kind_name, value_after(values, old, "parameters", {}))
    except ParameterError as error:
        field = error.field if error.field in ("kind", "parameters") else f"parameters.{error.field}"
        raise BadUserInput(f"{field}: {error.message}", field=field) from None
    principal = write.principal
    for action, object_type in (("add", "job"), *kind.requires):
        if not principal.can(action, object_type):
            raise Forbidden(f"kind: a {kind.name} job needs the '{action}' permission on {object_type}", field="kind")
    await check_references(write, kind, checked, value_after(values, old, "tenant_id"))
    values["parameters"] = checked
    values["user_id"] = principal.user_id
    values["user_name"] = principal.username


async def check_references(write: Write, kind: Any, parameters: dict[str, Any], tenant_id: uuid.UUID | None) -> None:
    """Each object a kind's checked parameters name (``JobKind.references``) is checked as
    any reference a write names (``check_references_many``): another tenant's, a hidden
    or a mistyped id is refused when the job is started or scheduled, naming
    ``parameters.<name>``, rather than failing the job when it runs."""
    for name, model in kind.references:
        value = parameters.get(name)
        if value is not None:
            ids = [uuid.UUID(str(v)) for v in (value if isinstance(value, list) else [value])]
            await check_references_many(write, model, ids, tenant_id, f"parameters.{name}")
