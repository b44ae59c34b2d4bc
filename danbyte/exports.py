"""``GET /export/<template id>?type=<object type>``: an export template rendered over every
object of the type the caller may see, served as a file (NetBox's export templates).

Authenticated as GraphQL is (``Authorization: Bearer <token>``); the template and the
objects are read through the request role, so row-level security decides what is in the
file. Errors answer JSON in the API's shape, with a code and the field."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from models.registry import spec_by_content_type, spec_for
from resolvers import reads
from resolvers.context import RequestContext
from resolvers.errors import ApiError, BadUserInput
from resolvers.loaders import fetch
from resolvers.templates import render

STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404}


def error_response(error: ApiError) -> Response:
    """An API error as the JSON body /graphql answers, with the HTTP status of its code."""
    code = (error.extensions or {}).get("code", "BAD_USER_INPUT")
    body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
    return Response(json.dumps(body), status_code=STATUS.get(code, 400), media_type="application/json")


async def export(request: Request, ctx: RequestContext) -> Response:
    try:
        return await _export(request, ctx)
    except ApiError as error:
        return error_response(error)
    finally:
        await ctx.close()


async def _export(request: Request, ctx: RequestContext) -> Response:
    ctx.require_principal()
    template = await reads.get_one(ctx, spec_for("ExportTemplate"), id=request.path_params["template"])
    kinds = list(template.object_types or [])
    kind = request.query_params.get("type") or (kinds[0] if len(kinds) == 1 else "")
    if kind not in kinds:
        raise BadUserInput(f"type: give one of the template's object types ({', '.join(kinds) or 'none'})", field="type")
    spec = spec_by_content_type(kind)
    assert spec is not None  # object types are checked when the template is written
    reads.require_view(ctx, spec)
    columns = [c for c in spec.table.columns if c.name not in spec.secret_names and not c.name.startswith("_")]
    rows = await fetch(ctx, sa.select(*columns).order_by(*spec.ordering))
    text = render(template.template_code, template.environment_params, {"queryset": [dict(row._mapping) for row in rows]})
    headers: dict[str, Any] = {}
    if template.as_attachment:
        name = template.file_name or template.name
        extension = f".{template.file_extension}" if template.file_extension else ""
        headers["Content-Disposition"] = f'attachment; filename="{name}{extension}"'
    return Response(text, media_type=template.mime_type or "text/plain; charset=utf-8", headers=headers)
