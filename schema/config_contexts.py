"""``config_context`` and ``render_config`` on devices and virtual machines: the active
config contexts that apply merged as NetBox merges them, and the configuration rendered
from the object's config template. Both are computed by resolvers/config_render.py (which
works outside a request too: jobs render with it)."""

from typing import Any, Optional

import strawberry
from strawberry.scalars import JSON

from models.extras import CONTEXT_DIMENSIONS
from models.registry import spec_for
from resolvers.config_render import CONTEXT, deepmerge, merged_context, render_object

__all__ = ["RenderedConfig", "config_fields", "deepmerge"]


@strawberry.type(name="RenderedConfigType", description="A configuration rendered from a config template.")
class RenderedConfig:
    configuration: str
    template: str = strawberry.field(description="The config template's name.")
    context: JSON = strawberry.field(description="The config context it was rendered with.")


def config_fields(owner: str, types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``config_context`` and ``render_config`` of a device or virtual machine (``owner``)."""
    assert set(CONTEXT_DIMENSIONS) == {m.name for m in spec_for(CONTEXT).many}
    type_key = spec_for(owner).type_key

    async def config_context(root: Any, info: strawberry.Info) -> Optional[JSON]:
        """The config contexts that apply, merged, with this object's local context data on top."""
        return JSON(await merged_context(info.context, root, type_key))

    async def render_config(root: Any, info: strawberry.Info) -> Optional[RenderedConfig]:
        """The configuration rendered from this object's config template (null without one):
        its config context, and the object itself as ``device`` / ``virtualmachine``."""
        rendered = await render_object(info.context, root, type_key)
        if rendered is None:
            return None
        return RenderedConfig(configuration=rendered.configuration, template=rendered.template.name, context=JSON(rendered.context))

    return {}, {
        "config_context": strawberry.field(resolver=config_context, description=config_context.__doc__),
        "render_config": strawberry.field(resolver=render_config, description=render_config.__doc__),
    }
