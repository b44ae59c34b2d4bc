"""Danbyte GraphQL inventory plugin (``plugin: danbyte.sot.inventory``)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: inventory
short_description: Danbyte inventory source (GraphQL)
version_added: "0.1.0"
description:
  - Reads devices and virtual machines from Danbyte's GraphQL API (C(POST /graphql)), one
    request per kind and page, and builds hosts, groups and host variables from them.
  - Host variables are the object's fields (C(id), C(name), C(status), C(site), C(role),
    C(platform), C(tenant), C(location), C(rack), C(cluster), C(tags) as slugs,
    C(custom_fields), C(primary_ip4), C(primary_ip6), C(kind)) plus the fields of O(query).
  - A field whose name Ansible reserves for play keywords (C(name), C(tags), C(serial),
    C(environment), ...) is set as C(danbyte_<field>) instead (C(danbyte_name), C(danbyte_tags)).
  - C(ansible_host) is the primary IPv4 address, else the primary IPv6 address, without its mask.
    C(ansible_network_os) is the platform's slug, or O(platforms)' name for it.
  - Only what the token may read is listed; a token limited to some tenants sees their hosts only.
  - The inventory file's name must end in C(danbyte.yml) or C(danbyte.yaml).
requirements:
  - The C(nornir_danbyte) Python package (Danbyte's shared GraphQL client; C(pip install ./clients/nornir_danbyte)).
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin.
    required: true
    choices: ["danbyte.sot.inventory"]
  url:
    description: Danbyte's base URL (without C(/graphql)).
    type: str
    env:
      - name: DANBYTE_URL
  token:
    description: An API token, sent as C(Authorization Bearer).
    type: str
    env:
      - name: DANBYTE_TOKEN
  validate_certs:
    description: Whether to verify the server's TLS certificate.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each request.
    type: int
    default: 30
  page_size:
    description: Objects per request (at most the server's C(DANBYTE_MAX_PAGE_SIZE)); longer lists take several requests.
    type: int
    default: 1000
  devices:
    description: Whether to list devices.
    type: bool
    default: true
  virtual_machines:
    description: Whether to list virtual machines.
    type: bool
    default: true
  filters:
    description:
      - NetBox-style filters applied to both kinds, e.g. C(site), C(role), C(platform), C(tenant),
        C(location), C(rack), C(cluster), C(device_type), C(status), C(tag), C(name), C(serial),
        C(<relation>_id), C(cf_<custom field>).
      - A list of values matches any of them; different keys must all match; C(tag) with several
        tags needs all of them. A key that a kind lacks (C(rack), C(location) for virtual machines)
        lists none of that kind.
    type: dict
    default: {}
  query:
    description:
      - Extra GraphQL fields per kind, merged into host variables, under C(devices) and
        C(virtual_machines). Each is a GraphQL selection string (C(serial config_context)) or a
        mapping from field names to V(null), a subfield name or another such mapping.
    type: dict
    default: {}
  group_by:
    description:
      - Groups to make, C(<key>_<value>) - C(site), C(role), C(platform), C(tenant), C(tags),
        C(location), C(rack), C(cluster), C(status), C(cf_<custom field>). nb_inventory's plural
        names (C(sites), C(device_roles), C(platforms), ...) are accepted.
    type: list
    elements: str
    default: []
  group_names_raw:
    description: Name groups by the value alone, without the C(<key>_) prefix.
    type: bool
    default: false
  platforms:
    description: Platform slug to C(ansible_network_os), for example V(ios) to V(cisco.ios.ios); unmapped platforms keep their slug.
    type: dict
    default: {}
"""

EXAMPLES = r"""
# danbyte.yml
plugin: danbyte.sot.inventory
url: https://danbyte.example.net
# token from DANBYTE_TOKEN
filters:
  site: [ams1, fra1]
  status: active
group_by: [site, role, platform, tags, cf_environment]
query:
  devices: "serial config_context"
  virtual_machines:
    cluster: name
    vcpus:
platforms:
  ios: cisco.ios.ios
compose:
  ansible_user: custom_fields.login
keyed_groups:
  - key: tenant.slug
    prefix: tenant
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/danbyte-inventory
"""

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.vars.reserved import get_reserved_names

try:
    from nornir_danbyte import core
except ImportError:  # reported when the plugin runs, so ansible-doc still works without it
    core = None  # type: ignore[assignment]


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "danbyte.sot.inventory"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("danbyte.yml", "danbyte.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path)
        self._read_config_data(path)
        if core is None:
            raise AnsibleError("danbyte.sot.inventory needs the nornir_danbyte Python package: pip install ./clients/nornir_danbyte")
        try:
            url, token = core.settings_from_env(self.get_option("url"), self.get_option("token"))
        except core.DanbyteError as error:
            raise AnsibleParserError(str(error)) from None
        filters, query = self.get_option("filters"), self.get_option("query")
        devices, vms = self.get_option("devices"), self.get_option("virtual_machines")
        # The token is part of the key: an answer cached for one tenant is never another's.
        cache_key = f"{self.get_cache_key(path)}_{core.fingerprint(url, token, filters, query, devices, vms)}"
        use_cache = self.get_option("cache")
        items = None
        if use_cache and cache:
            try:
                items = self._cache[cache_key]
            except KeyError:
                items = None
        if items is None:
            client = core.Client(url, token, validate_certs=self.get_option("validate_certs"), timeout=self.get_option("timeout"))
            try:
                items = core.load_all(client, devices, vms, filters, query, self.get_option("page_size"))
            except (core.DanbyteError, ValueError) as error:
                raise AnsibleParserError(f"Danbyte inventory: {error}") from None
            if use_cache:
                self._cache[cache_key] = items
        self._populate(items)

    def _populate(self, items):
        strict = self.get_option("strict")
        reserved = get_reserved_names()
        compose, groups, keyed_groups = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        constructed = bool(compose or groups or keyed_groups)
        try:
            records = list(core.host_records(items, self.get_option("group_by"), self.get_option("group_names_raw"), self.get_option("platforms")))
        except ValueError as error:
            raise AnsibleParserError(f"Danbyte inventory: {error}") from None
        made: dict[str, str] = {}
        for record in records:
            host = self.inventory.add_host(record.name)
            for key, value in record.data.items():
                self.inventory.set_variable(host, f"danbyte_{key}" if key in reserved else key, value)
            if record.hostname:
                self.inventory.set_variable(host, "ansible_host", record.hostname)
            if record.platform:
                self.inventory.set_variable(host, "ansible_network_os", record.platform)
            for name in record.groups:
                group = made.get(name)
                if group is None:  # sanitised and added once per group, not once per member
                    group = made[name] = self.inventory.add_group(self._sanitize_group_name(name))
                self.inventory.add_child(group, host)
            if constructed:  # a host's variables are copied for it: only when something reads them
                hostvars = self.inventory.get_host(host).get_vars()
                self._set_composite_vars(compose, hostvars, host, strict=strict)
                self._add_host_to_composed_groups(groups, hostvars, host, strict=strict)
                self._add_host_to_keyed_groups(keyed_groups, hostvars, host, strict=strict)
