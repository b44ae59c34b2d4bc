"""Image attachments and custom links: the rules of their writes (registered in
resolvers/rules.py).

An image arrives in the mutation's input as base64 (GraphQL has no files here). Before
the row is written it is decoded and checked: its size against DANBYTE_MAX_IMAGE_BYTES,
its type from the bytes themselves (Pillow identifies PNG, JPEG, GIF or WebP from their
content and nothing else is tried, so SVG, HTML or a script named ``x.png`` is refused),
its dimensions read from its header. The pixels are never decoded: an image claiming
more than MAX_PIXELS (a decompression bomb waiting for whoever displays it) is refused
from its header. The row keeps the image's name, dimensions and size; after it is
written, the bytes go to ``image_attachment_data`` in the same transaction."""

from __future__ import annotations

import base64
import binascii
import io
import re
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError
from sqlalchemy.dialects.postgresql import insert

from models.attachments import ImageData
from models.base import table_of
from models.registry import ModelSpec
from resolvers.errors import BadUserInput
from resolvers.rules import RuleBook
from resolvers.writes import Write

# Pillow's formats accepted → (content type, file extension). MPO is how Pillow names a
# JPEG carrying extra pictures (what many phone cameras write); it is served as JPEG.
FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# Pillow's own decompression-bomb threshold; an image claiming more pixels is refused.
MAX_PIXELS = 89_478_485
# image_height and image_width are small integers, as in NetBox.
MAX_SIDE = 32_767


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def read_image(encoded: Any, limit: int, field: str = "image") -> CheckedImage:
    """A base64 image checked: at most ``limit`` bytes, a PNG, JPEG, GIF or WebP by its
    content, with sane dimensions. Anything else is BAD_USER_INPUT naming ``field`` (the
    message never repeats the value)."""
    if not isinstance(encoded, str):
        raise BadUserInput(f"{field}: give the image's bytes in base64", field=field)
    # Line breaks and spaces (base64 wrapped at 76 columns) are not part of the data.
    compact = "".join(encoded.split())
    # Judged on the text before decoding it: a huge value costs no decoding.
    if len(compact) > 4 * -(-limit // 3):
        raise BadUserInput(f"{field}: the image is larger than {limit} bytes", field=field)
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise BadUserInput(f"{field}: not valid base64", field=field) from None
    if len(data) > limit:
        raise BadUserInput(f"{field}: the image is {len(data)} bytes; at most {limit} are allowed", field=field)
    if not data:
        raise BadUserInput(f"{field}: the image is empty", field=field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[name for name in FORMATS if name != "MPO"]) as image:
                kind, (width, height) = image.format, image.size
                if width * height > MAX_PIXELS or width > MAX_SIDE or height > MAX_SIDE:
                    raise BadUserInput(f"{field}: {width}×{height} pixels is too large an image", field=field)
                image.verify()  # the structure (a PNG's chunk checksums), not the pixels
    except BadUserInput:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise BadUserInput(f"{field}: the image claims too many pixels", field=field) from None
    except UnidentifiedImageError:
        raise BadUserInput(f"{field}: not a PNG, JPEG, GIF or WebP image", field=field) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:  # Pillow's ways of saying "broken"
        raise BadUserInput(f"{field}: a damaged image ({type(error).__name__})", field=field) from None
    if kind not in FORMATS or not width or not height:
        raise BadUserInput(f"{field}: not a PNG, JPEG, GIF or WebP image", field=field)
    content_type, extension = FORMATS[kind]
    return CheckedImage(data, content_type, extension, width, height)


def file_name(object_type: str, object_id: Any, name: str, extension: str) -> str:
    """The image's name as NetBox makes it: ``image-attachments/<model>_<object id>_<name>.<ext>``,
    the name reduced to letters, digits, ``-`` and ``_``."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name.strip()).strip("_") or "unnamed"
    model = object_type.rpartition(".")[2]
    return f"image-attachments/{model}_{object_id}_{stem}.{extension}"


def register_rules(book: RuleBook) -> None:
    book.check("ImageAttachment")(_image_from_upload)
    book.maintain_after("ImageAttachment")(_store_image)


def _pending(object_id: Any) -> tuple[str, Any]:
    return ("image upload", object_id)


async def _image_from_upload(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """An uploaded image checked; the row gets its name, dimensions and size."""
    if "image" not in values:
        return
    image = read_image(values["image"], write.ctx.settings.max_image_bytes)
    # The id is chosen here on a create, so that the bytes can be stored under it once the
    # row exists (_store_image).
    object_id = old.id if old is not None else values.setdefault("id", uuid.uuid4())
    given = {name: values.get(name, getattr(old, name, None)) for name in ("object_type", "object_id", "name")}
    values["image"] = file_name(given["object_type"] or "", given["object_id"], given["name"] or "", image.extension)
    values.update(image_height=image.height, image_width=image.width, image_size=len(image.data))
    write.notes[_pending(object_id)] = image


async def _store_image(write: Write, spec: ModelSpec, row: sa.Row, old: sa.Row | None) -> sa.Row:
    image: CheckedImage | None = write.notes.pop(_pending(row.id), None)
    if image is not None:
        await store_image_data(write.conn, row.id, row.tenant_id, image)
    return row


async def store_image_data(conn: Any, attachment_id: Any, tenant_id: Any, image: CheckedImage) -> None:
    """Keep a checked image's bytes for its attachment (replacing any it had)."""
    table = table_of(ImageData)
    statement = insert(table).values(attachment_id=attachment_id, tenant_id=tenant_id, content_type=image.content_type, data=image.data)
    replaced = {"content_type": statement.excluded.content_type, "data": statement.excluded.data}
    await conn.execute(statement.on_conflict_do_update(index_elements=[table.c.attachment_id], set_=replaced))
