"""Which Danbyte tenant each imported object lands in: the declared part of the policy.

NetBox tenants are labels on some objects; here every object but tenants, tenant groups
and tags belongs to exactly one tenant and references never leave it. The policy
(``POLICY``, printed before an import writes anything):

1. An object whose NetBox record names a tenant lands in that tenant.
2. One without takes the tenant of its parent: the first of ``INHERIT[model]`` that has
   one (components their device, addresses their interface or VRF, …); rows owned by
   another (``__tenant_from__``: components, templates, terminations) always their owner's.
   A cable takes the tenant of what its terminations attach to (``INHERIT_FROM_CHILD``).
3. Whatever an object references must exist in the object's tenant. A catalog object
   (manufacturers, device types with their templates, roles, platforms, RIRs, regions, …)
   has no tenant of its own and is created in every tenant that uses it; an object of
   another tenant that is referenced (a prefix in another tenant's VRF) is copied into the
   referring tenant, and the summary lists every copy.
4. Definitions that apply to every object of a type (``EVERYWHERE``: custom fields, custom
   links, export templates, saved filters, event rules, webhooks) land in every tenant the
   import fills.
   Assignments (``SPREAD``: config contexts) land in every tenant holding one of the
   objects they name (sites, roles, tenants, …), each copy naming that tenant's objects;
   one naming nothing lands in every tenant.
5. Anything still without a tenant lands in the default tenant (``--default-tenant``).
"""

from __future__ import annotations

POLICY = __doc__.split("(``POLICY``, printed before an import writes anything):", 1)[1].strip() if __doc__ else ""

# Danbyte model → its fields whose target's tenant an object without one takes, in order.
INHERIT: dict[str, tuple[str, ...]] = {
    "Aggregate": ("rir",),
    "ASN": ("rir",),
    "Circuit": ("provider",),
    "Cluster": ("scope", "group"),
    "ConfigContext": (),
    "ContactAssignment": ("object",),
    "Device": ("rack", "location", "site", "cluster"),
    "FHRPGroupAssignment": ("interface",),
    "ImageAttachment": ("object",),
    "IPAddress": ("assigned_object", "vrf", "nat_inside"),
    "IPRange": ("vrf",),
    "JournalEntry": ("assigned_object",),
    "L2VPNTermination": ("assigned_object",),
    "Location": ("parent", "site"),
    "MACAddress": ("assigned_object",),
    "Module": ("device",),
    "PowerFeed": ("power_panel", "rack"),
    "PowerPanel": ("location", "site"),
    "Prefix": ("vrf", "vlan", "scope", "site"),
    "Rack": ("location", "site"),
    "RackReservation": ("rack",),
    "Service": ("parent",),
    "TunnelTermination": ("termination",),
    "VirtualChassis": ("master",),
    "VirtualMachine": ("cluster", "device", "site"),
    "VLAN": ("group", "qinq_svlan", "site"),
    "VLANGroup": ("scope",),
    "WirelessLAN": ("scope", "group"),
    "WirelessLink": ("interface_a", "interface_b"),
}

# An owned model whose owner takes the tenant of what the owned rows point at:
# owned model → (its field naming the owner, its field whose target gives the tenant).
INHERIT_FROM_CHILD: dict[str, tuple[str, str]] = {
    "CableTermination": ("cable", "termination"),
}

# Definitions that apply by type: one copy in every tenant the import fills.
EVERYWHERE = frozenset({"CustomField", "CustomFieldChoiceSet", "CustomLink", "ExportTemplate", "SavedFilter", "EventRule", "Webhook"})

# Assignments by many-to-many lists: in every tenant holding one of the objects they name.
SPREAD = frozenset({"ConfigContext"})
