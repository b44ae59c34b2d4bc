"""``GET /image-attachments/<id>``: an image attachment's bytes, with the content type
read from them when they were uploaded (resolvers/attachments.py).

Authenticated as GraphQL is (``Authorization: Bearer <token>``); the attachment and its
bytes are read through the request role, so row-level security decides: another
tenant's attachment is not found (404), and a principal without the view grant on image
attachments is refused (403). The answer tells the browser to take it for nothing but
the image it is: ``nosniff``, and a sandboxing content security policy should it be
opened as a page."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from danbyte.exports import error_response
from models.attachments import ImageData
from models.base import table_of
from models.registry import spec_for
from resolvers import reads
from resolvers.context import RequestContext
from resolvers.errors import ApiError, NotFound
from resolvers.loaders import fetch

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    # The answer depends on who asks: no shared cache may keep it.
    "Cache-Control": "private, no-cache",
}


async def image(request: Request, ctx: RequestContext) -> Response:
    try:
        ctx.require_principal()
        attachment = await reads.get_one(ctx, spec_for("ImageAttachment"), id=request.path_params["attachment"])
        table = table_of(ImageData)
        rows = await fetch(ctx, sa.select(table.c.content_type, table.c.data).where(table.c.attachment_id == attachment.id))
        if not rows:
            raise NotFound(f"image attachment {attachment.id} has no image", field="id")
        file_name = attachment.image.rpartition("/")[2]
        headers = {**HEADERS, "Content-Disposition": f'inline; filename="{file_name}"'}
        return Response(rows[0].data, media_type=rows[0].content_type, headers=headers)
    except ApiError as error:
        return error_response(error)
    finally:
        await ctx.close()
