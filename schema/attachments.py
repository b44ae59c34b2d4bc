"""An image attachment's ``image``: NetBox answers it as strawberry-django's
``DjangoImageType`` (name, path, size, url, width, height), so a NetBox query such as
``image_attachment_list { image { name url } }`` runs unchanged. ``url`` is where the
bytes are served (``GET /image-attachments/<id>``, authenticated like /graphql); there is
no file on disk, so ``path`` is that same address.

Computed on the resolver path from the attachment's columns (loaded, one statement per
level, when a list read only some of them)."""

from typing import Any

import strawberry

from models.registry import spec_for
from resolvers import loaders

OWNER = "ImageAttachment"


def image_url(attachment_id: Any) -> str:
    """Where an attachment's bytes are served (danbyte/attachments.py)."""
    return f"/image-attachments/{attachment_id}"


@strawberry.type(name="DjangoImageType", description="An image file: its name, size, dimensions and where to get it.")
class DjangoImage:
    name: str = strawberry.field(description="The file's name (image-attachments/<model>_<object id>_<name>.<ext>).")
    path: str = strawberry.field(description="Where the bytes are served (they are kept in the database, not in a file).")
    size: int = strawberry.field(description="Bytes.")
    url: str = strawberry.field(description="Where the bytes are served: GET it with the API token, as /graphql is called.")
    width: int
    height: int


# The columns ``image`` is made of; a list that read only some of them loads the rest.
COLUMNS = ("id", "image", "image_size", "image_width", "image_height")


def _image_of(row: Any) -> DjangoImage:
    url = image_url(row.id)
    return DjangoImage(name=row.image, path=url, size=row.image_size, url=url, width=row.image_width, height=row.image_height)


def image_fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = spec_for(OWNER)

    def image(root: Any, info: strawberry.Info) -> DjangoImage:
        if all(name in root.__dict__ for name in COLUMNS):
            return _image_of(root)

        async def load() -> DjangoImage:
            # Batched: the rows of one level are loaded with one statement.
            return _image_of(await loaders.by_id(info.context, spec=spec).load(root.id))

        return load()  # type: ignore[return-value]  # graphql-core awaits it

    return {"image": DjangoImage}, {"image": strawberry.field(resolver=image, description="The image: its name, size, dimensions and URL.")}
