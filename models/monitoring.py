"""Monitoring: what to check (templates), where (assignments to objects of the graph), and
what was found (per-check state, its transitions and a compact result series).

A CheckTemplate says how to probe (a kind of checks/ probe and its parameters, timing, the
rise / fall counts and degraded thresholds); a CheckAssignment applies it to a device, an
IP address, a service, a site, a device role or a prefix. Which (template, address, port)
checks follow from the assignments is resolved in SQL by ``resolvers.monitoring.checks_for``
(docs/monitoring.md). CheckState, StateTransition and CheckResult are written by the
scheduler only: read-only through the API. Danbyte's own: NetBox has no monitoring."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NO_REVERSE, Base, NamedModel, OneOf, TenantModel, TenantScoped, choice, inet_column, long_text, reference, text
from models.choices import prefixed

APP_LABEL = "monitoring"


@prefixed("kind", name="CheckKindEnum")
class CheckKind(enum.StrEnum):
    """The checks/ probe kinds (checks.probes.PROBE_TYPES; tests/test_monitoring_model.py
    checks the two agree)."""

    icmp = "icmp"
    tcp = "tcp"
    udp = "udp"
    http = "http"
    snmp = "snmp"
    ssh = "ssh"
    dns = "dns"


@prefixed("op", name="CheckComparisonEnum")
class CheckComparison(enum.StrEnum):
    """checks.Comparison's operators, named (resolvers.monitoring.COMPARISON_OPS maps them
    to its symbols: GraphQL enum members cannot be ``<``)."""

    eq = "eq"
    ne = "ne"
    lt = "lt"
    le = "le"
    gt = "gt"
    ge = "ge"
    contains = "contains"
    matches = "matches"


@prefixed("state", name="CheckHealthEnum")
class CheckHealth(enum.StrEnum):
    """A check's state (checks.HealthState, in lower case)."""

    up = "up"
    degraded = "degraded"
    down = "down"
    unknown = "unknown"


def _health_column(check: str, **kwargs: Any) -> Any:
    # Two such columns on one table need two constraint names.
    values = lambda members: [member.value for member in members]  # noqa: E731
    return mapped_column(
        sa.Enum(CheckHealth, native_enum=False, create_constraint=True, length=32, values_callable=values, name=check, validate_strings=True), **kwargs
    )


class CheckTemplate(NamedModel):
    """How to check something: a probe kind and its parameters (validated against what
    checks/ needs, resolvers/monitoring.py), how often and for how long, and when a
    result counts as degraded. The host comes from what the template is assigned to."""

    kind: Mapped[CheckKind] = choice(CheckKind)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))
    """The probe's settings by kind (port, path and expected status, OID and comparison, DNS
    name and answers, …): see docs/monitoring.md."""
    interval_seconds: Mapped[int] = mapped_column(default=60, server_default="60", info={"bounds": (5, 86400)})
    timeout_seconds: Mapped[int] = mapped_column(default=5, server_default="5", info={"bounds": (1, 300)})
    """Seconds a probe may take; less than the interval."""
    rise: Mapped[int] = mapped_column(sa.SmallInteger(), default=2, server_default="2", info={"bounds": (1, 100)})
    """Consecutive better results before the state improves."""
    fall: Mapped[int] = mapped_column(sa.SmallInteger(), default=3, server_default="3", info={"bounds": (1, 100)})
    """Consecutive worse results before the state worsens."""
    degraded_latency_ms: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (1, 300_000)})
    """An up result slower than this counts as degraded."""
    degraded_value_op: Mapped[CheckComparison | None] = choice(CheckComparison, nullable=True)
    degraded_value: Mapped[str] = text(200)
    """An up result whose value satisfies ``degraded_value_op degraded_value`` counts as
    degraded (numbers compare as numbers)."""
    snmp_profile_id: Mapped[uuid.UUID | None] = reference("SnmpProfile", related_name="check_templates")
    """SNMP checks: the credentials; none: the device's own profile (its binding)."""


class CheckAssignment(TenantModel):
    """A template applied to one object: a device (its management address), an IP address,
    a service (its addresses and ports), every device of a site or a device role, or every
    IP address inside a prefix. For one template and address the most specific assignment
    wins, so a disabled one switches the check off below a broader enabled one."""

    __tagged__ = False
    __display__ = "{display:template} || ' → ' || {display:assigned_object}"
    __ordering__ = ("numid",)
    __one_of__: ClassVar[dict[str, OneOf]] = {
        "assigned_object": OneOf(
            ("Device", "IPAddress", "Service", "Site", "DeviceRole", "Prefix"),
            nullable=False,
            ondelete="CASCADE",
            related_name="check_assignments",
            unique_with=(("template_id",),),  # a template is applied to an object once
            union="CheckAssignmentObjectType",
        )
    }

    template_id: Mapped[uuid.UUID] = reference("CheckTemplate", nullable=False, ondelete="CASCADE", related_name="assignments")
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    description: Mapped[str] = text(200)


class CheckState(TenantModel):
    """The state of one check: a template probing one address (and port), as the scheduler
    last judged it, with the objects it was resolved for."""

    __read_only__ = True
    __tagged__ = False
    __ordering__ = ("address", "port")
    __display__ = "{display:template} || ' @ ' || host({s}.address) || coalesce(':' || {s}.port, '')"

    template_id: Mapped[uuid.UUID] = reference("CheckTemplate", nullable=False, ondelete="CASCADE", related_name="states")
    assignment_id: Mapped[uuid.UUID | None] = reference("CheckAssignment", ondelete="SET NULL", related_name=NO_REVERSE)
    """The assignment that won when the check last ran."""
    device_id: Mapped[uuid.UUID | None] = reference("Device", ondelete="CASCADE", related_name=NO_REVERSE)
    ip_address_id: Mapped[uuid.UUID | None] = reference("IPAddress", ondelete="CASCADE", related_name=NO_REVERSE)
    service_id: Mapped[uuid.UUID | None] = reference("Service", ondelete="CASCADE", related_name=NO_REVERSE)
    address: Mapped[str] = inet_column()
    """The host probed."""
    port: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (1, 65535)})
    state: Mapped[CheckHealth] = _health_column("check_state_state", default=CheckHealth.unknown, server_default=CheckHealth.unknown.value)
    since: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    """When the state last changed."""
    flapping: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_checked: Mapped[datetime | None] = mapped_column(nullable=True)
    last_latency_ms: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 3), nullable=True)
    last_value: Mapped[str] = text(200)
    message: Mapped[str] = long_text()
    # The scheduler's own columns (jobs/monitoring.py), not in the API: when the check is
    # due next (null: it no longer resolves and is not run), until when a worker holds
    # its run, and the state machine between runs (checks.MachineState.to_dict()).
    next_due_at: Mapped[datetime | None] = mapped_column(nullable=True, info={"hidden": True})
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True, info={"hidden": True})
    machine: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"), info={"hidden": True})

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            # One state per check: the scheduler's key (resolvers.monitoring.checks_for's).
            sa.UniqueConstraint("tenant_id", "template_id", "address", "port", postgresql_nulls_not_distinct=True),
            # The claim's scan: due rows in due order; retired rows (null) are not in it.
            sa.Index("ix_check_state_next_due_at", "next_due_at", postgresql_where=sa.text("next_due_at IS NOT NULL")),
        )


class StateTransition(TenantScoped):
    """A change of a check's state."""

    __read_only__ = True
    __tagged__ = False
    __tenant_from__ = ("check_state",)
    __ordering__ = ("at",)
    __display__ = "{s}.previous || ' → ' || {s}.current"

    check_state_id: Mapped[uuid.UUID] = reference("CheckState", nullable=False, ondelete="CASCADE", related_name="transitions")
    previous: Mapped[CheckHealth] = _health_column("state_transition_previous")
    current: Mapped[CheckHealth] = _health_column("state_transition_current")
    at: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    reason: Mapped[str] = text(200)
    flapping: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.Index("ix_state_transition_check_state_at", "check_state_id", "at"),)


class CheckResult(Base):
    """One probe result of a check, compact (no generated type): read under the check
    state's view grant and deleted with it; kept ``DANBYTE_CHECK_RETENTION_DAYS``.
    ``status``: 0 up, 1 degraded, 2 down (checks.CheckStatus's order)."""

    __tablename__ = "check_result"

    check_state_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[int] = mapped_column(sa.SmallInteger())
    latency_ms: Mapped[float | None] = mapped_column(sa.REAL(), nullable=True)
    value: Mapped[float | None] = mapped_column(sa.REAL(), nullable=True)
    """The measured value when numeric (loss, a status code, an SNMP counter)."""

    __table_args__ = (
        sa.ForeignKeyConstraint(["tenant_id", "check_state_id"], ["check_state.tenant_id", "check_state.id"], ondelete="CASCADE"),
        sa.CheckConstraint("status BETWEEN 0 AND 2", name="status"),
        # Retention deletes by age across every check (as interface_counter_sample).
        sa.Index("ix_check_result_at", "at", postgresql_using="brin"),
        {"info": {"rls_kind": "tenant_scoped", "view_as": "check_state"}},
    )
