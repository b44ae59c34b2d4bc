"""Extras: journal entries on objects of any type (NetBox 4.6 ``extras/models``)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from sqlalchemy.orm import Mapped, mapped_column

from models.base import AnyObject, TenantModel, choice, long_text, text
from models.choices import JournalEntryKind

# NetBox's app label for these models (content types such as "extras.journalentry").
APP_LABEL = "extras"


class JournalEntry(TenantModel):
    """A dated note on an object: what was done, found or decided, by whom."""

    __any_object__: ClassVar[AnyObject] = AnyObject(related_name="journal_entries", field="assigned_object")
    __ordering__ = ("created", "id")

    assigned_object_type: Mapped[str] = text(100, required=True)
    """The object's type as NetBox names it (``dcim.device``)."""
    assigned_object_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[JournalEntryKind] = choice(JournalEntryKind, default=JournalEntryKind.info, server_default="info")
    comments: Mapped[str] = long_text()
    created_by: Mapped[str] = text(150, info={"derived": True})
    """Who wrote it (the writer's username, set by the write path)."""
