"""Custom links (NetBox 4.6 ``extras.CustomLink``): a link to another system shown on
objects of some types, its text and URL Jinja2 templates rendered with the object
(``render_custom_links``, resolvers/custom_links.py). Both templates are checked when
written, in the sandbox every user template runs in (resolvers/templates.py)."""

from __future__ import annotations

import enum
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantModel, choice, text
from models.choices import prefixed

# NetBox's app label for these models (content types such as "extras.customlink").
APP_LABEL = "extras"


@prefixed("")
class CustomLinkButtonClass(enum.StrEnum):
    """NetBox's CustomLinkButtonClassChoices: its button colours and ``ghost-dark`` (a plain link).
    (Kept beside the model rather than in models/choices.py, which others edit.)"""

    default = "default"
    blue = "blue"
    indigo = "indigo"
    purple = "purple"
    pink = "pink"
    red = "red"
    orange = "orange"
    yellow = "yellow"
    green = "green"
    teal = "teal"
    cyan = "cyan"
    gray = "gray"
    black = "black"
    white = "white"
    link = "ghost-dark"


class CustomLink(TenantModel):
    """A link to another system on objects of its types: its text and URL are Jinja2
    templates rendered with the object (``render_custom_links``)."""

    # Columns holding Jinja2 templates, checked on every write (resolvers/templates.py).
    __template_fields__: ClassVar[tuple[str, ...]] = ("link_text", "link_url")
    __ordering__ = ("group_name", "weight", "name")

    object_types: Mapped[list[str]] = mapped_column(ARRAY(sa.Text()), default=list, server_default="{}")
    """The types it applies to, as NetBox names them (``dcim.device``)."""
    name: Mapped[str] = text(100, required=True)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    link_text: Mapped[str] = mapped_column(sa.Text(), info={"required": True})
    """Jinja2 template of the link's text; a link whose text renders empty is not shown."""
    link_url: Mapped[str] = mapped_column(sa.Text(), info={"required": True})
    """Jinja2 template of the link's URL."""
    weight: Mapped[int] = mapped_column(sa.SmallInteger(), default=100, server_default="100", info={"bounds": (0, 32767)})
    group_name: Mapped[str] = text(50)
    """Links with the same group name form one drop-down menu."""
    button_class: Mapped[CustomLinkButtonClass] = choice(CustomLinkButtonClass, default=CustomLinkButtonClass.default, server_default="default")
    new_window: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)
