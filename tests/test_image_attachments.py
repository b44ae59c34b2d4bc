"""Image attachments: uploaded through the create/update mutation in base64, checked by
their bytes (size, type, dimensions), kept in the database and served by
``GET /image-attachments/<id>`` under the caller's permissions and row-level security;
deleted with their object."""

from __future__ import annotations

import base64
import io
import random
import struct
import zlib

import pytest
import sqlalchemy as sa
from dcim_lab import Lab
from factories import change_settings
from PIL import Image

from models.attachments import ImageData
from models.base import table_of

CREATE = """mutation($i: ImageAttachmentCreateInput!) { image_attachment_create(input: $i) {
  id name image_height image_width image_size image { name path size url width height } } }"""
UPDATE = """mutation($id: ID!, $i: ImageAttachmentUpdateInput!) { image_attachment_update(id: $id, input: $i) {
  name image_height image_width image_size image { name url } } }"""


def picture(kind: str, size: tuple[int, int] = (3, 2), noise: bool = False) -> bytes:
    """A real image file made by Pillow (``noise``: random pixels, which do not compress)."""
    width, height = size
    image = Image.frombytes("RGB", size, random.Random(7).randbytes(width * height * 3)) if noise else Image.new("RGB", size, (200, 30, 60))
    out = io.BytesIO()
    image.save(out, format=kind)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_of_size(total: int) -> bytes:
    """A valid PNG of exactly ``total`` bytes: a small image padded with a private ancillary
    chunk (which every reader skips) before its end."""
    small = picture("PNG")
    end = small.rindex(b"IEND") - 4
    padding = total - len(small) - 12  # a chunk's length, type and checksum
    return small[:end] + png_chunk(b"prVt", b"\0" * padding) + small[end:]


def corrupted(png: bytes) -> bytes:
    """The PNG with one byte of its pixel data flipped."""
    changed = bytearray(png)
    changed[png.index(b"IDAT") + 6] ^= 0xFF
    return bytes(changed)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims these dimensions, with a few bytes of pixel data: what a
    decompression bomb looks like before anyone decodes it."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b"")


async def stored_images(db) -> int:
    """Rows of image bytes, all tenants (read as the owner, so a leftover cannot hide)."""
    async with db.system_transaction() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table_of(ImageData)))).scalar_one()


async def get_image(api, url: str, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return await api.client.get(url, headers=headers)


@pytest.mark.parametrize(
    ("kind", "content_type", "extension"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("GIF", "image/gif", "gif"), ("WEBP", "image/webp", "webp")],
)
async def test_an_image_goes_up_in_base64_and_comes_back_as_it_was(api, org, db, kind, content_type, extension):
    lab = Lab(api, org.tenant_ids[0])
    site = await lab.make("site", name="AMS1", slug="ams1")
    data = picture(kind, (7, 5))
    created = (
        await api.data(CREATE, i={"object_type": "dcim.site", "object_id": site, "name": "Rack row 3", "image": b64(data), "tenant": str(org.tenant_ids[0])})
    )["image_attachment_create"]
    url = f"/image-attachments/{created['id']}"
    assert created == {
        "id": created["id"],
        "name": "Rack row 3",
        "image_height": 5,
        "image_width": 7,
        "image_size": len(data),
        "image": {"name": f"image-attachments/site_{site}_Rack_row_3.{extension}", "path": url, "size": len(data), "url": url, "width": 7, "height": 5},
    }
    response = await get_image(api, url, api.key)
    assert response.status_code == 200, response.text
    assert response.content == data
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["content-disposition"] == f'inline; filename="site_{site}_Rack_row_3.{extension}"'
    # The site lists it; the change log keeps its name, never the bytes.
    listed = await api.data("query($id: ID!) { site(id: $id) { image_attachments { name image_size image { url } } } }", id=site)
    assert listed["site"]["image_attachments"] == [{"name": "Rack row 3", "image_size": len(data), "image": {"url": url}}]
    log = await api.data('{ changelog_list(filters: {object_type: {exact: "image_attachment"}}) { postchange_data } }')
    [entry] = log["changelog_list"]
    assert entry["postchange_data"]["image"] == created["image"]["name"] and b64(data) not in str(entry)
    assert await stored_images(db) == 1


async def test_an_update_replaces_the_image_or_keeps_it(api, org):
    lab = Lab(api, org.tenant_ids[0])
    rack = await lab.make("rack", name="R1", site=await lab.make("site", name="AMS1", slug="ams1"))
    first = await lab.make("image_attachment", object_type="dcim.rack", object_id=rack, image=b64(picture("PNG")))
    renamed = (await api.data(UPDATE, id=first, i={"name": "front"}))["image_attachment_update"]
    assert (renamed["name"], renamed["image_width"], renamed["image"]["name"]) == ("front", 3, f"image-attachments/rack_{rack}_unnamed.png")
    jpeg = picture("JPEG", (16, 9))
    replaced = (await api.data(UPDATE, id=first, i={"image": b64(jpeg)}))["image_attachment_update"]
    assert replaced == {
        "name": "front",
        "image_height": 9,
        "image_width": 16,
        "image_size": len(jpeg),
        "image": {"name": f"image-attachments/rack_{rack}_front.jpg", "url": f"/image-attachments/{first}"},
    }
    response = await get_image(api, f"/image-attachments/{first}", api.key)
    assert (response.content, response.headers["content-type"]) == (jpeg, "image/jpeg")


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>'
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (b64(SVG), "not a PNG, JPEG, GIF or WebP"),
        (b64(HTML), "not a PNG, JPEG, GIF or WebP"),
        (b64(b"GIF89a" + HTML), "not a PNG, JPEG, GIF or WebP"),  # a GIF's signature before a page
        (b64(picture("BMP")), "not a PNG, JPEG, GIF or WebP"),  # an image, of a kind not served
        (b64(picture("TIFF")), "not a PNG, JPEG, GIF or WebP"),
        (b64(picture("PNG")[:-20]), "damaged"),  # cut short
        (b64(corrupted(picture("PNG"))), "damaged"),  # a byte of the pixel data changed: its checksum fails
        ("not base64 at all!", "not valid base64"),
        ("iVBORw0KGgo=" + "A", "not valid base64"),
        (b64(b""), "may not be blank"),
        ("   ", "may not be blank"),
    ],
    ids=["svg", "html", "gif-signature-then-html", "bmp", "tiff", "truncated", "bad-checksum", "not-base64", "bad-padding", "empty", "blank"],
)
async def test_what_is_not_an_image_we_serve_is_refused(api, org, db, value, words):
    lab = Lab(api, org.tenant_ids[0])
    site = await lab.make("site", name="AMS1", slug="ams1")
    error = await lab.refuse("image_attachment", object_type="dcim.site", object_id=site, image=value)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "image"), error
    assert words in error["message"], error
    assert value.strip()[:40] not in error["message"] or not value.strip()  # the value is not echoed
    assert await api.count("image_attachment") == 0
    assert await stored_images(db) == 0


async def test_the_type_is_read_from_the_bytes_not_from_a_name(api, org):
    lab = Lab(api, org.tenant_ids[0])
    site = await lab.make("site", name="AMS1", slug="ams1")
    # Named like a PNG, it is a JPEG, and is served as one.
    made = await lab.make("image_attachment", object_type="dcim.site", object_id=site, name="photo.png", image=b64(picture("JPEG")))
    response = await get_image(api, f"/image-attachments/{made}", api.key)
    assert response.headers["content-type"] == "image/jpeg"
    got = await api.data("query($id: ID!) { image_attachment(id: $id) { image { name } } }", id=made)
    assert got["image_attachment"]["image"]["name"] == f"image-attachments/site_{site}_photo_png.jpg"


async def test_an_oversized_image_is_refused_naming_the_field(api, app, org, db, monkeypatch):
    lab = Lab(api, org.tenant_ids[0])
    site = await lab.make("site", name="AMS1", slug="ams1")
    change_settings(app, monkeypatch, max_image_bytes=2000)
    big = picture("PNG", (40, 40), noise=True)
    assert len(big) > 2000
    error = await lab.refuse("image_attachment", object_type="dcim.site", object_id=site, image=b64(big))
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "image"), error
    assert "at most 2000" in error["message"] or "larger than 2000" in error["message"], error
    # Far too large: refused from the text's length, before decoding it.
    error = await lab.refuse("image_attachment", object_type="dcim.site", object_id=site, image="A" * 100_000)
    assert (error["extensions"]["field"], "larger than 2000 bytes" in error["message"]) == ("image", True), error
    # At the limit exactly, it is taken.
    await lab.make("image_attachment", object_type="dcim.site", object_id=site, image=b64(png_of_size(2000)))
    assert await api.count("image_attachment") == 1
    assert await stored_images(db) == 1


async def test_the_largest_image_gets_through_the_request_body_limit(api, app, org):
    """With the default settings an image of DANBYTE_MAX_IMAGE_BYTES fits the request body
    (base64 and the rest of the request); one byte more is refused as an image, not as a body."""
    settings = app.state.danbyte.settings
    lab = Lab(api, org.tenant_ids[0])
    site = await lab.make("site", name="AMS1", slug="ams1")
    largest = png_of_size(settings.max_image_bytes)
    made = await lab.make("image_attachment", object_type="dcim.site", object_id=site, name="floor plan", image=b64(largest))
    response = await get_image(api, f"/image-attachments/{made}", api.key)
    assert response.content == largest
    error = await lab.refuse("image_attachment", object_type="dcim.site", object_id=site, image=b64(png_of_size(settings.max_image_bytes + 1)))
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "image"), error


@pytest.mark.parametrize(("width", "height"), [(30_000, 30_000), (40_000, 1), (1, 40_000)], ids=["bomb", "too-wide", "too-tall"])
async def test_an_image_claiming_too_many_pixels_is_refused_from_its_header(api, org, db, width, height):
    lab = Lab(api, org.tenant_ids[0])
    site = await lab.make("site", name="AMS1", slug="ams1")
    error = await lab.refuse("image_attachment", object_type="dcim.site", object_id=site, image=b64(png_claiming(width, height)))
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "image"), error
    assert await stored_images(db) == 0


async def test_only_types_netbox_gives_images_take_them(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "edge-1")
    interface = await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    error = await lab.refuse("image_attachment", object_type="dcim.interface", object_id=interface, image=b64(picture("PNG")))
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "object_type"), error
    # A device takes them, and answers them; an interface has no such field.
    await lab.make("image_attachment", object_type="dcim.device", object_id=device, image=b64(picture("PNG")))
    assert len((await api.data("query($id: ID!) { device(id: $id) { image_attachments { id } } }", id=device))["device"]["image_attachments"]) == 1
    error = await api.error("query($id: ID!) { interface(id: $id) { image_attachments { id } } }", id=interface)
    assert "image_attachments" in error["message"]


async def test_another_tenants_image_is_not_found_anywhere(api, org):
    tenant_a, tenant_b = org.tenant_ids
    lab = Lab(api, tenant_a)
    site = await lab.make("site", name="AMS1", slug="ams1")
    made = await lab.make("image_attachment", object_type="dcim.site", object_id=site, image=b64(picture("PNG")))
    grants = {"image_attachment": ["view", "add", "change", "delete"], "site": ["view"]}
    outsider = api.as_key(await org.user_key(tenant_ids=[tenant_b], grants=grants))
    response = await get_image(api, f"/image-attachments/{made}", outsider.key)
    assert response.status_code == 404 and response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # Answered exactly as an id that names nothing.
    missing = await get_image(api, "/image-attachments/6a1c3f3e-0000-4000-8000-000000000000", outsider.key)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["message"].replace("6a1c3f3e-0000-4000-8000-000000000000", made) == response.json()["errors"][0]["message"]
    error = await outsider.error("query($id: ID!) { image_attachment(id: $id) { id } }", id=made)
    assert error["extensions"]["code"] == "NOT_FOUND"
    # Nor can one be pointed at their site, replaced or deleted.
    error = await Lab(outsider, tenant_b).refuse("image_attachment", object_type="dcim.site", object_id=site, image=b64(picture("PNG")))
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "object_id"), error
    error = await outsider.error(UPDATE, id=made, i={"image": b64(picture("GIF"))})
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = await outsider.error("mutation($id: ID!) { image_attachment_delete(id: $id) { id } }", id=made)
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await get_image(api, f"/image-attachments/{made}", api.key)).content == picture("PNG")


async def test_without_the_view_grant_or_a_token_the_image_is_refused(api, org):
    tenant_a, _ = org.tenant_ids
    lab = Lab(api, tenant_a)
    site = await lab.make("site", name="AMS1", slug="ams1")
    made = await lab.make("image_attachment", object_type="dcim.site", object_id=site, image=b64(picture("GIF")))
    url = f"/image-attachments/{made}"
    no_grant = await org.user_key(tenant_ids=[tenant_a], grants={"site": ["view"]})
    response = await get_image(api, url, no_grant)
    assert response.status_code == 403 and response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await get_image(api, url, None)
    assert anonymous.status_code == 401 and anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bad_id = await get_image(api, "/image-attachments/nope", api.key)
    assert bad_id.status_code == 400 and bad_id.json()["errors"][0]["extensions"]["field"] == "id"
    # The view grant on image attachments is what it takes (the site's grant is not).
    viewer = await org.user_key(tenant_ids=[tenant_a], grants={"image_attachment": ["view"]})
    assert (await get_image(api, url, viewer)).content == picture("GIF")
    # A writer without the view grant may add one (as for any type) but not read it back.
    blind = await org.user_key(tenant_ids=[tenant_a], grants={"image_attachment": ["add"], "site": ["view"]})
    added = (await api.as_key(blind).data(CREATE, i={"object_type": "dcim.site", "object_id": site, "image": b64(picture("PNG"))}))["image_attachment_create"]
    assert added["image"]["url"] == f"/image-attachments/{added['id']}"
    assert (await get_image(api, added["image"]["url"], blind)).status_code == 403


async def test_images_go_with_their_object_and_a_failed_batch_leaves_none(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    site = await lab.make("site", name="AMS1", slug="ams1")
    kept = await lab.make("site", name="AMS2", slug="ams2")
    for name in ("one", "two"):
        await lab.make("image_attachment", object_type="dcim.site", object_id=site, name=name, image=b64(picture("PNG")))
    survivor = await lab.make("image_attachment", object_type="dcim.site", object_id=kept, image=b64(picture("PNG")))
    assert await stored_images(db) == 3
    await api.data("mutation($id: ID!) { site_delete(id: $id) { id } }", id=site)
    assert [a["id"] for a in (await api.data("{ image_attachment_list { id } }"))["image_attachment_list"]] == [survivor]
    assert await stored_images(db) == 1
    deleted = await api.data('{ changelog_list(filters: {object_type: {exact: "image_attachment"}, action: {exact: ACTION_DELETE}}) { id } }')
    assert len(deleted["changelog_list"]) == 2  # each through the write path, logged
    # A batch whose second image is bad writes neither, bytes included.
    good = {"object_type": "dcim.site", "object_id": kept, "image": b64(picture("PNG")), "tenant": str(org.tenant_ids[0])}
    query = "mutation($i: [ImageAttachmentCreateInput!]!) { image_attachment_create_many(inputs: $i) { id } }"
    error = await api.error(query, i=[good, {**good, "image": b64(SVG)}])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "inputs.1.image"), error
    assert await stored_images(db) == 1
    # Deleting the attachment itself takes its bytes along.
    await api.data("mutation($id: ID!) { image_attachment_delete(id: $id) { id } }", id=survivor)
    assert await stored_images(db) == 0


async def test_a_list_reading_only_the_image_loads_the_rest_of_its_columns(api, org):
    lab = Lab(api, org.tenant_ids[0])
    site = await lab.make("site", name="AMS1", slug="ams1")
    data = picture("PNG", (4, 6))
    made = await lab.make("image_attachment", object_type="dcim.site", object_id=site, name="b", image=b64(data))
    await lab.make("image_attachment", object_type="dcim.site", object_id=site, name="a", image=b64(picture("GIF", (2, 2))))
    got = await api.data("{ image_attachment_list { image { name size url width height } } }")
    assert got["image_attachment_list"][1]["image"] == {
        "name": f"image-attachments/site_{site}_b.png",
        "size": len(data),
        "url": f"/image-attachments/{made}",
        "width": 4,
        "height": 6,
    }
    assert [row["image"]["width"] for row in got["image_attachment_list"]] == [2, 4]  # NetBox's order: by name


def test_the_default_body_limit_makes_room_for_the_largest_image(monkeypatch):
    from danbyte.settings import Settings, base64_length

    monkeypatch.delenv("DANBYTE_MAX_BODY_BYTES", raising=False)
    monkeypatch.delenv("DANBYTE_MAX_IMAGE_BYTES", raising=False)
    default = Settings()
    assert default.max_image_bytes == 5 * 1024 * 1024
    assert default.max_body_bytes == base64_length(default.max_image_bytes) + 65_536 == 7_056_044
    monkeypatch.setenv("DANBYTE_MAX_IMAGE_BYTES", "1000")
    assert Settings().max_body_bytes == 1_048_576  # never less than 1 MiB
    monkeypatch.setenv("DANBYTE_MAX_BODY_BYTES", "5000")
    assert Settings().max_body_bytes == 5000  # said outright, it wins


async def test_a_long_query_text_is_not_kept_by_the_document_caches(api, org, monkeypatch):
    """An image written inline makes a text of megabytes: kept, a thousand of them would
    hold gigabytes. Long texts are parsed each time and not kept as persisted queries."""
    import hashlib

    import strawberry.schema.schema as strawberry_schema

    from danbyte.documents import KEEP_AT_MOST

    parses: list[str] = []
    real_parse = strawberry_schema.parse

    def parsing(text, **options):
        parses.append(text)
        return real_parse(text, **options)

    monkeypatch.setattr(strawberry_schema, "parse", parsing)
    text = '{ site_list(filters: {name: {exact: "%s"}}) { id } }' % ("x" * KEEP_AT_MOST)
    for _ in range(2):
        assert await api.data(text) == {"site_list": []}
    assert len(parses) == 2
    digest = hashlib.sha256(text.encode()).hexdigest()
    sent = {"query": text, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    headers = {"Authorization": f"Bearer {api.key}"}
    assert (await api.client.post("/graphql", json=sent, headers=headers)).json() == {"data": {"site_list": []}}
    again = (await api.client.post("/graphql", json={"extensions": sent["extensions"]}, headers=headers)).json()
    assert again["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
