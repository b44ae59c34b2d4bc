"""Configuration drift: what a device should run (its intended configuration, rendered
from its config template and context), what it does run (configuration snapshots posted
by a runner or collected by a job, kept as history), and whether the two agree (its
config state, with a log of every transition). Danbyte's own: NetBox keeps none of these.

Every row belongs to its device (its tenant is the device's) and is written by the
drift code only (resolvers/drift.py): the types are read-only in GraphQL, and a device
answers ``intended_config``, ``config_snapshots`` and ``config_state``."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NO_REVERSE, TenantScoped, choice, long_text, reference, text
from models.choices import prefixed

# Content types such as "extras.configsnapshot", beside config templates and contexts.
APP_LABEL = "extras"

# SHA-256 of the normalised text, in hex.
DIGEST_LENGTH = 64


@prefixed("state", name="ConfigSyncStateEnum")
class ConfigSyncState(enum.StrEnum):
    """Whether a device runs the configuration it should."""

    in_sync = "in_sync"  # the latest snapshot equals the intended configuration (normalised)
    drifted = "drifted"  # they differ
    unknown = "unknown"  # one of them is missing (never rendered, render failed, nothing posted)


def _state_column(check: str) -> Any:
    """A ``ConfigSyncState`` column whose CHECK is named ``check`` (``choice()`` names it
    after the enum, and a table with two such columns needs two names)."""
    values = lambda members: [member.value for member in members]  # noqa: E731
    return mapped_column(
        sa.Enum(ConfigSyncState, native_enum=False, create_constraint=True, length=32, values_callable=values, name=check, validate_strings=True)
    )


class IntendedConfig(TenantScoped):
    """A device's intended configuration: its config template rendered with its config
    context, as last stored (``config_render``, or a render job)."""

    __read_only__ = True
    __tagged__ = False
    __tenant_from__ = ("device",)
    __display__ = "{display:device}"

    device_id: Mapped[uuid.UUID] = reference("Device", nullable=False, ondelete="CASCADE", related_name="intended_config")
    configuration: Mapped[str] = long_text()
    """The rendered text (empty when the render failed or no template applies)."""
    digest: Mapped[str | None] = text(DIGEST_LENGTH, nullable=True)
    """SHA-256 of the normalised text (resolvers/drift.py); null when there is no text."""
    template_id: Mapped[uuid.UUID | None] = reference("ConfigTemplate", related_name=NO_REVERSE)
    """The config template it was rendered from."""
    rendered: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    """When it was last rendered (a render giving the same text only moves this)."""
    error: Mapped[str | None] = mapped_column(sa.Text(), nullable=True)
    """Why there is no text: the render failed, or no config template applies."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        # One per device: the device's one-to-one ``intended_config``.
        return (sa.UniqueConstraint("device_id"),)


class ConfigSnapshot(TenantScoped):
    """A device's running configuration as a runner posted it or a job collected it. Kept
    as history: a new row when the text changes, ``last_seen`` moved when it does not."""

    __read_only__ = True
    __tagged__ = False
    __tenant_from__ = ("device",)
    __ordering__ = ("collected",)
    __display__ = "{display:device} || ' @ ' || to_char({s}.collected AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"

    device_id: Mapped[uuid.UUID] = reference("Device", nullable=False, ondelete="CASCADE", related_name="config_snapshots")
    configuration: Mapped[str] = long_text()
    """The text as posted (normalised only to compare, never stored normalised)."""
    digest: Mapped[str] = text(DIGEST_LENGTH)
    """SHA-256 of the normalised text (resolvers/drift.py)."""
    source: Mapped[str] = text(100)
    """Who collected it (``oxidized``, ``rancid``, a runner's name)."""
    collected: Mapped[datetime] = mapped_column()
    """When this text was first collected."""
    last_seen: Mapped[datetime] = mapped_column()
    """When this text was last collected (later posts of the same text move it)."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        # The latest snapshot of a device is found by this index.
        return (sa.Index("ix_config_snapshot_device_collected", "device_id", "collected"),)


class ConfigState(TenantScoped):
    """Whether a device runs its intended configuration, recomputed whenever either side
    changes; ``diff`` shows how they differ."""

    __read_only__ = True
    __tagged__ = False
    __tenant_from__ = ("device",)
    __display__ = "{display:device} || ': ' || {s}.state"

    device_id: Mapped[uuid.UUID] = reference("Device", nullable=False, ondelete="CASCADE", related_name="config_state")
    state: Mapped[ConfigSyncState] = choice(ConfigSyncState, default=ConfigSyncState.unknown, server_default=ConfigSyncState.unknown.value)
    intended_digest: Mapped[str | None] = text(DIGEST_LENGTH, nullable=True)
    """The digest of the intended configuration compared (null: none)."""
    snapshot_id: Mapped[uuid.UUID | None] = reference("ConfigSnapshot", related_name=NO_REVERSE)
    """The snapshot compared: the device's latest."""
    changed: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    """When the state last changed."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        # One per device: the device's one-to-one ``config_state``.
        return (sa.UniqueConstraint("device_id"),)


class ConfigStateChange(TenantScoped):
    """One transition of a device's config state, and why it happened."""

    __read_only__ = True
    __tagged__ = False
    __tenant_from__ = ("config_state",)
    __ordering__ = ("time",)
    __filter_through__ = {"device": ("config_state", "device")}
    __display__ = "{s}.from_state || ' → ' || {s}.to_state"

    config_state_id: Mapped[uuid.UUID] = reference("ConfigState", nullable=False, ondelete="CASCADE", related_name="changes")
    from_state: Mapped[ConfigSyncState] = _state_column("config_state_from")
    to_state: Mapped[ConfigSyncState] = _state_column("config_state_to")
    time: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    reason: Mapped[str] = text(200)
    """What moved it (a snapshot posted, the intended configuration rendered)."""
