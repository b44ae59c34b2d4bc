"""Image attachments (NetBox 4.6 ``extras.ImageAttachment``): a photo, floor plan or
diagram on an object of a type that supports them (NetBox's ``image_attachments``
feature). The object is named by type and id (models.base.AnyObject), so deleting it
deletes its images, and each such type answers ``image_attachments``.

The image's bytes live in the database, in a table of their own that no API lists
(``ImageData``): a listing of attachments never reads them, they are written in the
mutation's transaction (a rollback leaves nothing behind, no file to clean up), they are
backed up with everything else and every API process on every machine sees them. They
are read under the attachment's own view grant, by ``GET /image-attachments/<id>``
(danbyte/attachments.py). The write path checks them (resolvers/attachments.py): size,
type read from the bytes, dimensions."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import AnyObject, Base, TenantModel, text

# NetBox's app label for these models (content types such as "extras.imageattachment").
APP_LABEL = "extras"

# The models NetBox gives image attachments. RackType and VirtualMachineType are not
# declared yet: they join when they are (AnyObject skips names it does not know).
IMAGE_TARGETS = (
    "Circuit",
    "DeviceType",
    "Device",
    "ModuleType",
    "PowerPanel",
    "RackType",
    "Rack",
    "Site",
    "Location",
    "VirtualMachineType",
    "VirtualMachine",
)


class ImageAttachment(TenantModel):
    """An image attached to an object. Upload it as ``image`` in base64 (a PNG, JPEG, GIF or
    WebP file); its bytes are served by GET /image-attachments/<id> (``image.url``)."""

    __display__ = "coalesce(nullif({s}.name, ''), regexp_replace({s}.image, '^(.*/)?[^_/]*_[^_/]*_', ''))"

    __any_object__: ClassVar[AnyObject] = AnyObject(related_name="image_attachments", targets=IMAGE_TARGETS)
    __ordering__ = ("name", "numid")  # NetBox: (name, pk)

    object_type: Mapped[str] = text(100, required=True)
    """The object's type as NetBox names it (``dcim.site``)."""
    object_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = text(50)
    description: Mapped[str] = text(200)
    image: Mapped[str] = mapped_column(sa.Text(), info={"required": True})
    """In a create or update: the image file's bytes in base64 (PNG, JPEG, GIF or WebP, at
    most DANBYTE_MAX_IMAGE_BYTES). Stored: the image's file name, as NetBox names it."""
    image_height: Mapped[int] = mapped_column(sa.SmallInteger(), info={"derived": True})
    """Pixels, read from the image."""
    image_width: Mapped[int] = mapped_column(sa.SmallInteger(), info={"derived": True})
    """Pixels, read from the image."""
    image_size: Mapped[int] = mapped_column(sa.BigInteger(), info={"derived": True})
    """Bytes."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.Index("ix_image_attachment_object", "object_type", "object_id"),)


class ImageData(Base):
    """The bytes of one image attachment and their content type, read from the bytes.
    Never exposed as a type: only the image route reads it. Its rows are read under the
    attachment's view grant (``view_as``) and go with the attachment (the key cascades)."""

    __tablename__ = "image_attachment_data"

    attachment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    content_type: Mapped[str] = mapped_column(sa.String(50))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary())

    __table_args__ = (
        sa.ForeignKeyConstraint(["tenant_id", "attachment_id"], ["image_attachment.tenant_id", "image_attachment.id"], ondelete="CASCADE"),
        {"info": {"rls_kind": "tenant_scoped", "view_as": "image_attachment"}},
    )
