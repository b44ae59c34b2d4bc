"""Image attachments' files, from NetBox's media directory (``--media DIR``).

A dumpdata export names each image's file (``image-attachments/site_1_plan.png``) but
does not hold it: NetBox keeps the files under its ``MEDIA_ROOT``. Given that directory,
each imported attachment's file is read, checked as an upload is (type read from the
bytes, size and pixel limits: resolvers/attachments.py), and stored in the database with
its size and dimensions. A name that leads outside the directory is refused; a missing or
refused file leaves the attachment without its bytes, and the summary says how many.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from danbyte.settings import get_settings
from models.attachments import ImageAttachment
from models.base import table_of
from resolvers.attachments import read_image, store_image_data
from resolvers.errors import ApiError

ATTACHMENT = "ImageAttachment"


def media_file(root: Path, name: str) -> Path | None:
    """The file ``name`` under ``root``, or None if it would lie outside it."""
    base = root.resolve()
    path = (base / name).resolve()
    return path if path.is_relative_to(base) and path != base else None


async def store_images(conn: Any, rows: list[tuple[Any, Any, str]], root: Path | None) -> dict[str, int]:
    """Store the files of attachments ``(id, tenant id, file name)``: reason → how many were not."""
    missed: dict[str, int] = {}

    def miss(reason: str) -> None:
        missed[reason] = missed.get(reason, 0) + 1

    if root is None:
        if rows:
            missed["image files are in NetBox's media directory: give --media DIR to import them"] = len(rows)
        return missed
    limit = get_settings().max_image_bytes
    attachments = table_of(ImageAttachment)
    for attachment_id, tenant_id, name in rows:
        path = media_file(root, name)
        if path is None:
            miss("an image file name leading outside --media")
            continue
        try:
            if path.stat().st_size > limit:
                miss(f"an image file larger than {limit} bytes")
                continue
            raw = path.read_bytes()
        except OSError:
            miss("an image file not found under --media")
            continue
        try:
            image = read_image(base64.b64encode(raw).decode("ascii"), limit)
        except ApiError as error:
            miss(f"an image file refused: {error.message.removeprefix('image: ')}")
            continue
        await store_image_data(conn, attachment_id, tenant_id, image)
        await conn.execute(
            sa.update(attachments)
            .where(attachments.c.id == attachment_id)
            .values(image_size=len(image.data), image_width=image.width, image_height=image.height)
        )
    return missed
