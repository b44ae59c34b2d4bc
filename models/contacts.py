"""Contacts: groups, roles, contacts and their assignments to any object (NetBox 4.6
``tenancy/models/contacts.py``). An assignment names its object by type and id
(models.base.AnyObject); every tenant-scoped type answers its assignments as
``contacts``."""

from __future__ import annotations

import uuid
from typing import ClassVar

from sqlalchemy.orm import Mapped, mapped_column

from models.base import AnyObject, ManyToMany, NestedGroupModel, OrganizationalModel, TenantModel, Through, choice, long_text, natural_key, reference, text
from models.choices import ContactPriority
from models.display import PRIORITY_LABELS, choice_label, parenthesised

# NetBox's app label for these models (content types such as "tenancy.contact").
APP_LABEL = "tenancy"


class ContactGroup(NestedGroupModel):
    """A nested grouping of contacts."""


class ContactRole(OrganizationalModel):
    """What a contact is for an object (owner, NOC, billing)."""


class Contact(TenantModel):
    """A person or team to reach about objects."""

    __ordering__ = ("_name",)
    _name: Mapped[str | None] = natural_key()
    __many__: ClassVar[dict[str, ManyToMany]] = {"groups": ManyToMany("ContactGroup", related_name="contacts")}

    name: Mapped[str] = text(100, required=True)
    title: Mapped[str] = text(100)
    phone: Mapped[str] = text(50)
    email: Mapped[str] = text(254)
    address: Mapped[str] = text(200)
    link: Mapped[str] = text(200)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()


class ContactAssignment(TenantModel):
    """A contact's role for one object of any type, with a priority."""

    __display__ = f"{parenthesised('{display:contact}', choice_label('priority', PRIORITY_LABELS))} || ' -> ' || {{object:object}}"

    __any_object__: ClassVar[AnyObject] = AnyObject(related_name="contacts")
    __ordering__ = (Through("contact"), "priority", Through("role"), "numid")  # NetBox: (contact, priority, role, pk)

    object_type: Mapped[str] = text(100, required=True)
    """The object's type as NetBox names it (``dcim.site``)."""
    object_id: Mapped[uuid.UUID] = mapped_column(index=True)
    contact_id: Mapped[uuid.UUID] = reference("Contact", nullable=False, ondelete="CASCADE", related_name="assignments")
    role_id: Mapped[uuid.UUID | None] = reference("ContactRole", related_name="assignments")
    priority: Mapped[ContactPriority | None] = choice(ContactPriority, nullable=True)
