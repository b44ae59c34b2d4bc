"""Wireless: LAN groups, wireless LANs (SSIDs) and point-to-point wireless links between
two interfaces (NetBox 4.6 ``wireless/models``). A LAN's or a link's pre-shared key is a
secret: sealed at rest, write-only. A wireless link joins its interfaces as a cable does:
each answers the other as its link peer and connected endpoint (resolvers/cables.py)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NO_REVERSE, NestedGroupModel, OneOf, TenantModel, choice, long_text, reference, secret, text
from models.choices import DistanceUnit, WirelessAuthCipher, WirelessAuthType, WirelessLANStatus
from models.choices_dcim import LinkStatus
from models.display import col, given, numbered

# NetBox's app label for these models (content types such as "wireless.<model>").
APP_LABEL = "wireless"

SSID_LENGTH = 32  # IEEE 802.11-2007
PSK_LENGTH = 64


class WirelessAuthentication:
    """How stations authenticate: type, cipher and pre-shared key (a secret)."""

    auth_type: Mapped[WirelessAuthType | None] = choice(WirelessAuthType, nullable=True)
    auth_cipher: Mapped[WirelessAuthCipher | None] = choice(WirelessAuthCipher, nullable=True)
    auth_psk: Mapped[str | None] = secret(PSK_LENGTH)


class WirelessLANGroup(NestedGroupModel):
    """A nested grouping of wireless LANs."""

    # NetBox's Meta.ordering (name, pk); its lists are a tree (TreeNode).
    __ordering_through__ = ("_name", "numid")


class WirelessLAN(WirelessAuthentication, TenantModel):
    """A wireless network (an SSID) where it is served, the VLAN behind it."""

    __display__ = col("ssid")
    __ordering__ = ("ssid", "numid")  # NetBox: (ssid, pk)
    __one_of__: ClassVar[dict[str, OneOf]] = {"scope": OneOf(("Region", "SiteGroup", "Site", "Location"))}

    ssid: Mapped[str] = text(SSID_LENGTH, required=True)
    group_id: Mapped[uuid.UUID | None] = reference("WirelessLANGroup", related_name="wireless_lans")
    status: Mapped[WirelessLANStatus] = choice(WirelessLANStatus, default=WirelessLANStatus.active, server_default="active")
    vlan_id: Mapped[uuid.UUID | None] = reference("VLAN", related_name=NO_REVERSE)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()


class WirelessLink(WirelessAuthentication, TenantModel):
    """A point-to-point wireless connection between two interfaces, each on one link."""

    __display__ = f"coalesce({given(col('ssid'))}, {numbered('#')})"
    __ordering__ = ("numid",)  # NetBox: its id
    # Joins its two interfaces as a cable does: paths cross it (resolvers/cables.py).
    __joins__: ClassVar[tuple[str, str]] = ("interface_a", "interface_b")

    interface_a_id: Mapped[uuid.UUID] = reference("Interface", nullable=False, ondelete="CASCADE", related_name=NO_REVERSE)
    interface_b_id: Mapped[uuid.UUID] = reference("Interface", nullable=False, ondelete="CASCADE", related_name=NO_REVERSE)
    ssid: Mapped[str] = text(SSID_LENGTH)
    status: Mapped[LinkStatus] = choice(LinkStatus, default=LinkStatus.connected, server_default="connected")
    distance: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2), nullable=True, info={"bounds": (0, 999999)})
    distance_unit: Mapped[DistanceUnit | None] = choice(DistanceUnit, nullable=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("interface_a_id"), sa.UniqueConstraint("interface_b_id"))
