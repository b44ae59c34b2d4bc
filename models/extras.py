"""Extras: journal entries on objects of any type, config contexts, config templates
(NetBox 4.6 ``extras/models``)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NO_REVERSE, AnyObject, ManyToMany, Ordering, TenantModel, choice, long_text, text
from models.choices import JournalEntryKind
from models.display import choice_label

# NetBox's app label for these models (content types such as "extras.journalentry").
APP_LABEL = "extras"


class JournalEntry(TenantModel):
    """A dated note on an object: what was done, found or decided, by whom."""

    __display__ = f"to_char({{s}}.created AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' (' || {choice_label('kind', {'info': 'Info', 'success': 'Success', 'warning': 'Warning', 'danger': 'Danger'})} || ')'"

    __any_object__: ClassVar[AnyObject] = AnyObject(related_name="journal_entries", field="assigned_object")
    __ordering__ = ("created", "id")

    assigned_object_type: Mapped[str] = text(100, required=True)
    """The object's type as NetBox names it (``dcim.device``)."""
    assigned_object_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[JournalEntryKind] = choice(JournalEntryKind, default=JournalEntryKind.info, server_default="info")
    comments: Mapped[str] = long_text()
    created_by: Mapped[str] = text(150, info={"derived": True})
    """Who wrote it (the writer's username, set by the write path)."""


# What a config context may be assigned to, by field: NetBox's dimensions, each the model
# it names. (A context applies inside its own tenant only: its ``tenants`` can narrow it to
# objects of that tenant and no other.)
CONTEXT_DIMENSIONS = {
    "regions": "Region",
    "site_groups": "SiteGroup",
    "sites": "Site",
    "locations": "Location",
    "device_types": "DeviceType",
    "roles": "DeviceRole",
    "platforms": "Platform",
    "cluster_types": "ClusterType",
    "cluster_groups": "ClusterGroup",
    "clusters": "Cluster",
    "tenant_groups": "TenantGroup",
    "tenants": "Tenant",
    "tags": "Tag",
}


class ConfigContext(TenantModel):
    """Configuration data for the devices and virtual machines it is assigned to: every
    dimension given must match (a nested one at any level), an empty one matches all.
    Devices and VMs answer the contexts that apply merged, lightest weight first, their
    own ``local_context_data`` on top (``config_context``)."""

    __ordering__ = ("weight", "name")
    __many__: ClassVar[dict[str, ManyToMany]] = {field: ManyToMany(target, related_name=NO_REVERSE) for field, target in CONTEXT_DIMENSIONS.items()}
    # Its ``tags`` choose the objects it applies to (NetBox's): it is not itself tagged.
    __tagged__ = False

    name: Mapped[str] = text(100, required=True)
    weight: Mapped[int] = mapped_column(sa.SmallInteger(), default=1000, server_default="1000", info={"bounds": (0, 32767)})
    description: Mapped[str] = text(200)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    data: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)


class RenderedTemplate:
    """A Jinja2 template users write, rendered in a sandbox (no file, include or import;
    resolvers/templates.py), and how its output is served."""

    # Models with these fields have their template checked on every write.
    __template_fields__: ClassVar[tuple[str, ...]] = ("template_code",)
    __ordering__: ClassVar[Ordering] = ("name",)

    name: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)
    template_code: Mapped[str] = long_text()
    environment_params: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))
    """Jinja2 environment options: trim_blocks, lstrip_blocks, keep_trailing_newline."""
    mime_type: Mapped[str] = text(50)
    file_name: Mapped[str] = text(200)
    file_extension: Mapped[str] = text(15)
    as_attachment: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)


class ConfigTemplate(RenderedTemplate, TenantModel):
    """Renders a device's or VM's configuration from the object and its config context.
    Bound to a device or VM, else to its role, else to its platform."""


class ExportTemplate(RenderedTemplate, TenantModel):
    """Renders a list of objects of its types (``queryset``) as a file: a CSV, a hosts
    file, an inventory (``GET /export/<id>?type=dcim.device``)."""

    object_types: Mapped[list[str]] = mapped_column(ARRAY(sa.Text()), default=list, server_default="{}")
    """The types it renders, as NetBox names them (``dcim.device``)."""
