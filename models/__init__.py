"""All models. Importing this package declares every table and wires its foreign keys."""

from models import (
    auth,
    changelog,
    circuits,
    contacts,
    custom_fields,
    dcim,
    extras,
    ipam,
    jobs,
    observations,
    saved_filters,
    saved_queries,
    tenancy,
    virtualization,
    vpn,
    webhooks,
    wireless,
)

# SNMP profiles, bound to devices, roles and device types (models/discovery.py).
from models import discovery  # isort: skip

# After the models they attach to: the schema lists types in declaration order.
from models import attachments, config_state, counters, custom_links  # isort: skip

# Checks applied to devices, addresses, services, sites, roles and prefixes.
from models import monitoring  # isort: skip

# Alerts on check states, silences and notification channels.
from models import alerts  # isort: skip
from models.base import Base, OrgModel, TenantModel, all_models, finalize

finalize()

__all__ = [
    "Base",
    "OrgModel",
    "TenantModel",
    "alerts",
    "all_models",
    "attachments",
    "auth",
    "changelog",
    "circuits",
    "config_state",
    "contacts",
    "counters",
    "custom_fields",
    "custom_links",
    "dcim",
    "discovery",
    "extras",
    "ipam",
    "jobs",
    "monitoring",
    "observations",
    "saved_filters",
    "saved_queries",
    "tenancy",
    "virtualization",
    "vpn",
    "webhooks",
    "wireless",
]
