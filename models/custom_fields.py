"""Custom fields: typed, validated fields users add to object types, their choice sets and
groups (NetBox 4.6 ``extras/models/customfields.py``).

Values live in each object's ``custom_fields`` JSON, one key per field that applies to its
type (kept by resolvers/custom_fields.py: a field's key is added to every object of its
types when it is created, renamed with it, removed with it), so reads answer the stored
JSON as it is, and NetBox's ``custom_field_data`` filters run on it in SQL.

NetBox groups fields by a free-text ``group_name``; here a group is an object
(CustomFieldGroup: a name, a description, an order) and ``group_name`` is kept from it, so
NetBox-style queries still read it."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantModel, choice, json_value, long_text, reference, text
from models.choices import CustomFieldChoiceSetBase, CustomFieldFilterLogic, CustomFieldType, CustomFieldUIEditable, CustomFieldUIVisible
from models.display import capitalised, col, given

# NetBox's app label for these models (content types such as "extras.customfield").
APP_LABEL = "extras"

_WEIGHT = {"bounds": (0, 32767)}


class CustomFieldChoiceSet(TenantModel):
    """The values a selection field offers: extra choices as [value, label] pairs, and
    optionally a base set (airport, country or location codes)."""

    __ordering__ = ("name",)

    name: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)
    base_choices: Mapped[CustomFieldChoiceSetBase | None] = choice(CustomFieldChoiceSetBase, nullable=True)
    extra_choices: Mapped[Any] = json_value()
    """[[value, label], …]."""
    choice_colors: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))
    order_alphabetically: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)


class CustomFieldGroup(TenantModel):
    """A named group of custom fields, shown together in that order."""

    __ordering__ = ("weight", "name")

    name: Mapped[str] = text(50, required=True)
    description: Mapped[str] = text(200)
    weight: Mapped[int] = mapped_column(sa.SmallInteger(), default=100, server_default="100", info=_WEIGHT)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)


SPACED_NAME = "replace({s}.name, '_', ' ')"


class CustomField(TenantModel):
    """A field added to the object types listed, with its type, default and validation."""

    # NetBox: the label, else the name with spaces for underscores, capitalised.
    __display__ = f"coalesce({given(col('label'))}, {capitalised(SPACED_NAME)})"

    __ordering__ = ("weight", "name")
    # A tenant's ``custom_fields`` are its own values; its field definitions list here.
    __tenant_related_name__ = "custom_field_definitions"

    object_types: Mapped[list[str]] = mapped_column(ARRAY(sa.Text()), default=list, server_default="{}")
    """The types it applies to, as NetBox names them (``dcim.device``)."""
    type: Mapped[CustomFieldType] = choice(CustomFieldType, default=CustomFieldType.text, server_default="text")
    related_object_type: Mapped[str] = text(100, info={"format": "object_type_or_blank"})
    """For object and multiple-object fields: the type their values point at (``dcim.site``)."""
    name: Mapped[str] = text(50, required=True, info={"format": "identifier"})
    """The key of the value in each object's ``custom_fields`` (letters, digits, underscores)."""
    label: Mapped[str] = text(50)
    group_id: Mapped[uuid.UUID | None] = reference("CustomFieldGroup", related_name="fields")
    group_name: Mapped[str] = text(50, info={"derived": True})
    """The group's name (kept from ``group``)."""
    description: Mapped[str] = text(200)
    required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    unique: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """No two objects of one type may hold the same value."""
    search_weight: Mapped[int] = mapped_column(sa.SmallInteger(), default=1000, server_default="1000", info=_WEIGHT)
    filter_logic: Mapped[CustomFieldFilterLogic] = choice(CustomFieldFilterLogic, default=CustomFieldFilterLogic.loose, server_default="loose")
    default: Mapped[Any] = json_value()
    """The value a new object gets when none is given (checked like any value)."""
    related_object_filter: Mapped[Any] = json_value()
    """Query parameters narrowing the objects a form offers (NetBox's UI; stored for it)."""
    weight: Mapped[int] = mapped_column(sa.SmallInteger(), default=100, server_default="100", info=_WEIGHT)
    validation_minimum: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 4), nullable=True)
    validation_maximum: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 4), nullable=True)
    validation_regex: Mapped[str] = text(500)
    """Text, long text and URL values must match it from their start (Python's re.match)."""
    validation_schema: Mapped[Any] = json_value()
    """A JSON Schema that JSON values must satisfy."""
    choice_set_id: Mapped[uuid.UUID | None] = reference("CustomFieldChoiceSet", ondelete="RESTRICT", related_name="choices_for")
    ui_visible: Mapped[CustomFieldUIVisible] = choice(CustomFieldUIVisible, default=CustomFieldUIVisible.always, server_default="always")
    ui_editable: Mapped[CustomFieldUIEditable] = choice(CustomFieldUIEditable, default=CustomFieldUIEditable.yes, server_default="yes")
    is_cloneable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)
