"""Interface counters: each device's last raw sample (hidden) and a compact time series of
per-interface rates, written by the ``counter_poll`` job (jobs/counters.py) and read as an
interface's ``utilisation`` and ``counter_samples`` (schema/counters.py).

Neither table is a generated type. Rows are read under the view grant of the object they
belong to (``view_as``: the device for its state, the interface for its samples) and go
with it (the keys cascade). Rates are ``real``: a sample is 40 bytes of figures, and the
precision of a 32-bit float is far finer than a counter poll's timing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class DeviceCounterState(Base):
    """A device's last counter sample as the agent gave it (``snmp.CounterSample`` as JSON),
    the ifIndex → interface mapping it was stored under, and when it was polled: the
    earlier side of the next poll's rates."""

    __tablename__ = "device_counter_state"

    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    sample: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # {"<ifIndex>": "<interface id>"}: a poll finding an ifIndex now mapped to another
    # interface (renumbered after a reload) computes no rate for it.
    interfaces: Mapped[dict[str, str]] = mapped_column(JSONB)
    polled_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.ForeignKeyConstraint(["tenant_id", "device_id"], ["device.tenant_id", "device.id"], ondelete="CASCADE"),
        {"info": {"rls_kind": "tenant_scoped", "view_as": "device"}},
    )


class InterfaceCounterSample(Base):
    """One interface's rates between two polls, at the later poll's time. A rate is NULL
    where it cannot be known (a counter missing, reset by a restart, or a wrap faster than
    the link): never a false spike."""

    __tablename__ = "interface_counter_sample"

    interface_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    in_bps: Mapped[float | None] = mapped_column(sa.REAL(), nullable=True)
    out_bps: Mapped[float | None] = mapped_column(sa.REAL(), nullable=True)
    in_errors_per_second: Mapped[float | None] = mapped_column(sa.REAL(), nullable=True)
    out_errors_per_second: Mapped[float | None] = mapped_column(sa.REAL(), nullable=True)
    in_discards_per_second: Mapped[float | None] = mapped_column(sa.REAL(), nullable=True)
    out_discards_per_second: Mapped[float | None] = mapped_column(sa.REAL(), nullable=True)

    __table_args__ = (
        sa.ForeignKeyConstraint(["tenant_id", "interface_id"], ["interface.tenant_id", "interface.id"], ondelete="CASCADE"),
        # Retention deletes by age across every interface: BRIN suits an append-mostly
        # table whose rows arrive in time order, and costs a few pages.
        sa.Index("ix_interface_counter_sample_taken_at", "taken_at", postgresql_using="brin"),
        {"info": {"rls_kind": "tenant_scoped", "view_as": "interface"}},
    )
