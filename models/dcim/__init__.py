"""DCIM: sites, racks, device types and devices with their components, cables and power.

One module per part of the domain; NetBox 4.6's field names, lengths and choices."""

# NetBox's app label for these models (content types such as "dcim.<model>").
APP_LABEL = "dcim"

from models.dcim import cables, components, devices, power, racks, sites  # noqa: E402  (declares the tables)

__all__ = ["APP_LABEL", "cables", "components", "devices", "power", "racks", "sites"]
