"""All models. Importing this package declares every table and wires its foreign keys."""

from models import auth, changelog, circuits, contacts, dcim, extras, ipam, tenancy, virtualization, vpn, webhooks, wireless
from models.base import Base, OrgModel, TenantModel, all_models, finalize

finalize()

__all__ = [
    "Base",
    "OrgModel",
    "TenantModel",
    "all_models",
    "auth",
    "changelog",
    "circuits",
    "contacts",
    "dcim",
    "extras",
    "ipam",
    "tenancy",
    "virtualization",
    "vpn",
    "webhooks",
    "wireless",
]
