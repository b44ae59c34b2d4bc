"""Natural-order sort keys (models.naturalize): the orders NetBox users expect, and the exact
keys NetBox 4.6's ``utilities.ordering`` produces. Pure functions: no database, no services.

The expected keys below are NetBox's own outputs for these inputs (obtained by running its
``naturalize()`` / ``naturalize_interface()`` with ``max_length=100`` unless stated), so data
imported from NetBox sorts identically here.
"""

from __future__ import annotations

import random

import pytest

from models.naturalize import naturalize, naturalize_interface

MAX = 100  # NetBox's NaturalOrderingField max_length for Interface, InterfaceTemplate, VMInterface


def by_key(names: list[str], key) -> list[str]:
    """Sort a shuffled copy by the key compared as plain text (code-point order, like COLLATE "C")."""
    shuffled = names[:]
    random.Random(7).shuffle(shuffled)
    return sorted(shuffled, key=lambda name: key(name, MAX))


# ---------------------------------------------------------------------------------------------
# Keys identical to NetBox's


NETBOX_NATURALIZE = [
    ("", ""),
    ("vm2", "vm00000002"),
    ("vm10", "vm00000010"),
    ("site9router21", "site00000009router00000021"),
    ("abc", "abc"),
    ("123", "00000123"),
    ("a01", "a00000001"),
    ("router-1-b", "router-00000001-b"),
    ("x123456789", "x123456789"),  # wider than 8 digits: left as is
    ("Router 7", "Router 00000007"),
    ("core1.dc2", "core00000001.dc00000002"),
    ("é12ü", "é00000012ü"),
    ("²", "0000000²"),  # str.isdigit() accepts it, so it is padded although \d does not match it
    ("x1²", "x000000010000000²"),
    ("٣4", "000000٣4"),  # Arabic-Indic three is a decimal digit (\d)
]

NETBOX_INTERFACE = [
    ("", "9999999999999999.................."),
    ("Gi", "9999999999999999Gi.................."),
    ("Gi1", "9999999999999999Gi000001............"),
    ("Gi1.0", "9999999999999999Gi000001......000000"),
    ("Gi1:0", "9999999999999999Gi000001000000......"),
    ("Gi1/2/3:4.5", "0001000299999999Gi000003000004000005"),
    ("Gi1/2/3/4/5:6.7", "0001000200030004Gi000005000006000007"),
    ("GigabitEthernet0/0/2", "0000000099999999GigabitEthernet000002............"),
    ("GigabitEthernet0/0/10", "0000000099999999GigabitEthernet000010............"),
    ("TenGigabitEthernet1/0/1", "0001000099999999TenGigabitEthernet000001............"),
    ("ge-0/0/2", "0000000099999999ge-000002............"),
    ("ge-0/0/10", "0000000099999999ge-000010............"),
    ("ge-0/0/2.100", "0000000099999999ge-000002......000100"),
    ("xe-1/2/0:3", "0001000299999999xe-000000000003......"),
    ("et-0/0/0:1", "0000000099999999et-000000000001......"),
    ("ae0", "9999999999999999ae000000............"),
    ("ae0.100", "9999999999999999ae000000......000100"),
    ("lo0.0", "9999999999999999lo000000......000000"),
    ("Ethernet1/2", "0001999999999999Ethernet000002............"),
    ("Ethernet1/10", "0001999999999999Ethernet000010............"),
    ("Ethernet2/1", "0002999999999999Ethernet000001............"),
    ("Ethernet49/1", "0049999999999999Ethernet000001............"),
    ("Ethernet1", "9999999999999999Ethernet000001............"),
    ("Management1", "9999999999999999Management000001............"),
    ("Port-Channel10", "9999999999999999Port-Channel000010............"),
    ("Po1", "9999999999999999Po000001............"),
    ("Vlan100", "9999999999999999Vlan000100............"),
    ("Loopback0", "9999999999999999Loopback000000............"),
    ("Tunnel100", "9999999999999999Tunnel000100............"),
    ("mgmt0", "9999999999999999mgmt000000............"),
    ("Gi0/1.10", "0000999999999999Gi000001......000010"),
    ("Gi0/1.100", "0000999999999999Gi000001......000100"),
    ("eth0", "9999999999999999eth000000............"),
    ("eth0:1", "9999999999999999eth000000000001......"),
    ("eth0.5", "9999999999999999eth000000......000005"),
    ("eth0.5:1", "9999999999999999eth000000......000005:00000001"),  # ":1" after ".5" falls into the rest
    ("1", "9999999999999999000001............"),
    ("1/1", "0001999999999999000001............"),
    ("A12", "9999999999999999A000012............"),
    ("Interface 1 (other)", "9999999999999999Interface 000001............ (other)"),
    ("PCIe1-p99", "9999999999999999PCIe000001............-p00000099"),
    ("eth1/1/1/1/1/1", "0001000100010001eth000001............/00000001"),  # only four levels
    ("Gi1/0/1 extra 10", "0001000099999999Gi000001............ extra 00000010"),
    ("Порт3", "9999999999999999Порт000003............"),
    ("ポート10", "9999999999999999ポート000010............"),
    ("Gi１/２", "000１999999999999Gi00000２............"),  # fullwidth digits count as digits
    ("Gi\n1", "9999999999999999Gi\n000001............"),
    ("Gi1\n", "9999999999999999Gi000001............"),  # a final line break is dropped
    ("Gi1/1\nx", "Gi1/1\nx"),  # a line break inside: no match, returned as is
]

LONG_TYPE = "GigabitEthernet" * 5

NETBOX_TRUNCATED = [
    # (value, max_length, naturalize, naturalize_interface)
    ("abc123def456", 10, "abc0000012", "9999999999"),
    ("Gi1/2/3", 20, "Gi00000001/00000002/", "0001000299999999Gi00"),
    ("x" * 150, 100, "x" * 100, "9999999999999999" + "x" * 84),
    ("1" * 150, 100, "1" * 100, "9999999999999999" + "1" * 84),
    (
        LONG_TYPE + "0/0/1",
        100,
        LONG_TYPE + "00000000/00000000/0000000",
        "0000000099999999" + LONG_TYPE + "000001...",
    ),
    ("Gi1/0/1 port 12345", 40, "Gi00000001/00000000/00000001 port 000123", "0001000099999999Gi000001............ por"),
    ("Gi1", 0, "", ""),
    ("Gi1\n2", 5, "Gi000", "Gi1\n2"),  # unmatched names come back uncut, as in NetBox
]


@pytest.mark.parametrize(("value", "expected"), NETBOX_NATURALIZE)
def test_naturalize_matches_netbox(value, expected):
    assert naturalize(value, max_length=MAX) == expected


@pytest.mark.parametrize(("value", "expected"), NETBOX_INTERFACE)
def test_naturalize_interface_matches_netbox(value, expected):
    assert naturalize_interface(value, max_length=MAX) == expected


@pytest.mark.parametrize(("value", "max_length", "plain", "interface"), NETBOX_TRUNCATED)
def test_truncation_matches_netbox(value, max_length, plain, interface):
    assert naturalize(value, max_length) == plain
    assert naturalize_interface(value, max_length) == interface


def test_keys_never_exceed_max_length():
    rng = random.Random(3)
    alphabet = "0123456789/.:-_ abcGiEthé中"
    for _ in range(2000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        for max_length in (1, 20, 34, 64, 100):
            assert len(naturalize(value, max_length)) <= max_length
            assert len(naturalize_interface(value, max_length)) <= max_length


# ---------------------------------------------------------------------------------------------
# Orders


def test_device_names_numbers_compare_as_numbers():
    assert by_key(["vm10", "vm2", "vm1", "vm20", "vm3"], naturalize) == ["vm1", "vm2", "vm3", "vm10", "vm20"]
    assert by_key(["site10router4", "site9router21", "site10router19"], naturalize) == ["site9router21", "site10router4", "site10router19"]
    assert by_key(["sw-2-b", "sw-10-a", "sw-2-a"], naturalize) == ["sw-2-a", "sw-2-b", "sw-10-a"]


def test_naturalize_limits_inherited_from_netbox():
    # Only up to eight digits compare by value; leading zeros are lost; case compares by code point.
    assert naturalize("x123456789", MAX) < naturalize("x99999999", MAX)
    assert naturalize("a01", MAX) == naturalize("a1", MAX)
    assert naturalize("Z1", MAX) < naturalize("a1", MAX)


def test_names_without_numbers_keep_their_text():
    assert naturalize("core", MAX) == "core"
    assert by_key(["mgmt", "Management", "console"], naturalize) == ["Management", "console", "mgmt"]
    assert by_key(["mgmt", "Management", "console"], naturalize_interface) == ["Management", "console", "mgmt"]


def test_empty_string():
    assert naturalize("", MAX) == ""
    # An empty interface name sorts after every name with a location, among the unlocated ones by text.
    assert by_key(["Gi1", "", "Gi0/1"], naturalize_interface) == ["Gi0/1", "", "Gi1"]


def test_interface_numbers_compare_as_numbers():
    assert by_key(["GigabitEthernet0/0/10", "GigabitEthernet0/0/2", "GigabitEthernet0/0/1"], naturalize_interface) == [
        "GigabitEthernet0/0/1",
        "GigabitEthernet0/0/2",
        "GigabitEthernet0/0/10",
    ]
    assert by_key(["ge-0/0/10", "ge-0/0/2", "ge-0/0/1"], naturalize_interface) == ["ge-0/0/1", "ge-0/0/2", "ge-0/0/10"]
    assert by_key(["Ethernet2/1", "Ethernet1/10", "Ethernet1/2"], naturalize_interface) == ["Ethernet1/2", "Ethernet1/10", "Ethernet2/1"]


def test_subinterfaces():
    assert by_key(["Gi0/1.100", "Gi0/1.10", "Gi0/1", "Gi0/2", "Gi0/1.2"], naturalize_interface) == [
        "Gi0/1",
        "Gi0/1.2",
        "Gi0/1.10",
        "Gi0/1.100",
        "Gi0/2",
    ]
    assert by_key(["ge-0/0/2.100", "ge-0/0/10", "ge-0/0/2", "ge-0/0/2.20"], naturalize_interface) == [
        "ge-0/0/2",
        "ge-0/0/2.20",
        "ge-0/0/2.100",
        "ge-0/0/10",
    ]


def test_channels_eth0_colon_style():
    # A missing part sorts before a present one, and ".unit" is compared only after ":channel".
    assert by_key(["eth0:10", "eth0:1", "eth0", "eth0:2", "eth1", "eth0.5", "eth0:0", "eth0:1.5"], naturalize_interface) == [
        "eth0",
        "eth0.5",
        "eth0:0",
        "eth0:1",
        "eth0:1.5",
        "eth0:2",
        "eth0:10",
        "eth1",
    ]


def test_location_comes_before_type():
    # Every name with an "N/" level sorts before every name without one: port-channels, LAGs,
    # loopbacks and VLAN interfaces follow the physical ports. Within a location, the type text
    # decides before the port number, so Te1/0/1 is between Gi1/0/48 and Gi2/0/1.
    cisco = ["Vlan10", "Po1", "Gi1/0/1", "Gi1/0/2", "Gi1/0/48", "Te1/0/1", "Gi2/0/1", "Loopback0", "Po2", "Po10"]
    assert by_key(cisco, naturalize_interface) == ["Gi1/0/1", "Gi1/0/2", "Gi1/0/48", "Te1/0/1", "Gi2/0/1", "Loopback0", "Po1", "Po2", "Po10", "Vlan10"]

    junos = ["ae0", "ge-0/0/1", "lo0.0", "xe-0/1/0", "ge-0/0/10", "ae1", "ge-1/0/0", "irb.100"]
    assert by_key(junos, naturalize_interface) == ["ge-0/0/1", "ge-0/0/10", "xe-0/1/0", "ge-1/0/0", "ae0", "ae1", "irb.100", "lo0.0"]


def test_names_without_location_order_by_type_text_case_sensitively():
    arista = ["Vlan100", "Ethernet10", "Port-Channel1", "Ethernet2", "Management1", "Ethernet1", "Loopback0"]
    assert by_key(arista, naturalize_interface) == ["Ethernet1", "Ethernet2", "Ethernet10", "Loopback0", "Management1", "Port-Channel1", "Vlan100"]
    # Code-point order puts every uppercase letter before every lowercase one.
    assert by_key(["eth0", "Port-Channel1", "bond0"], naturalize_interface) == ["Port-Channel1", "bond0", "eth0"]


def test_modular_ports_before_fixed_ports_of_the_same_type():
    assert by_key(["Ethernet1", "Ethernet1/1", "Ethernet2", "Ethernet49/1"], naturalize_interface) == ["Ethernet1/1", "Ethernet49/1", "Ethernet1", "Ethernet2"]


def test_remainder_is_naturalized():
    assert by_key(["PCIe1-p10", "PCIe1-p2", "PCIe1-p1"], naturalize_interface) == ["PCIe1-p1", "PCIe1-p2", "PCIe1-p10"]
    assert by_key(["Interface 10", "Interface 9 (b)", "Interface 9"], naturalize_interface) == ["Interface 9", "Interface 9 (b)", "Interface 10"]


def test_unicode_names():
    assert by_key(["ポート10", "ポート2"], naturalize_interface) == ["ポート2", "ポート10"]
    assert by_key(["Порт10", "Порт3"], naturalize_interface) == ["Порт3", "Порт10"]
    assert by_key(["сервер10", "сервер9", "édge2", "édge10"], naturalize) == ["édge2", "édge10", "сервер9", "сервер10"]


def test_long_names_are_cut_but_still_order():
    long_type = "GigabitEthernet" * 5
    names = [f"{long_type}0/0/{n}" for n in (10, 2, 1)]
    keys = [naturalize_interface(name, MAX) for name in names]
    assert all(len(key) == MAX for key in keys)
    assert by_key(names, naturalize_interface) == [f"{long_type}0/0/{n}" for n in (1, 2, 10)]
    assert naturalize("y" * 500, 64) == "y" * 64


def test_order_depends_on_code_point_collation():
    # The "......" fillers rely on '.' < '0'. A collation that skips punctuation (en_US, ICU
    # defaults) would compare the digits that follow instead and flip these pairs, which is why
    # SQL must order the key with COLLATE "C".
    def punctuation_blind(key: str) -> str:
        return key.replace(".", "")

    first, second = naturalize_interface("Gi1.5", MAX), naturalize_interface("Gi1:0", MAX)
    assert first < second
    assert punctuation_blind(first) > punctuation_blind(second)
