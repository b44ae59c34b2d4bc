"""``render_custom_links(object: {type, id})``: the custom links of one object, rendered
(resolvers/custom_links.py), for a client drawing an object's page as NetBox does."""

from typing import Any, Optional

import strawberry

from resolvers.custom_links import render_links
from schema.lookups import ObjectReferenceInput


@strawberry.type(name="RenderedCustomLinkType", description="A custom link rendered for one object.")
class RenderedCustomLink:
    name: str = strawberry.field(description="The custom link's name.")
    text: str = strawberry.field(description="The rendered link text (plain text: escape it when writing HTML).")
    url: str = strawberry.field(description="The rendered URL, percent-encoded; empty when its scheme is not allowed (javascript:, data:, …).")
    group_name: str = strawberry.field(description="Links with the same group name form one drop-down menu.")
    button_class: str
    new_window: bool
    weight: int
    error: Optional[str] = strawberry.field(description="Why the link could not be rendered (then text is its name and url is empty).")


async def render_custom_links(info: strawberry.Info, object: ObjectReferenceInput) -> list[RenderedCustomLink]:
    """Every enabled custom link of the object's tenant that applies to its type, rendered
    with the object (``object``) and you (``user``), in NetBox's order (group, weight,
    name). A link whose text renders empty is left out."""
    links = await render_links(info.context, object.type, object.id)
    return [RenderedCustomLink(**vars(link)) for link in links]


def query_fields() -> dict[str, Any]:
    return {"render_custom_links": strawberry.field(resolver=render_custom_links, description=render_custom_links.__doc__)}
