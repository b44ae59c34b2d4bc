"""DCIM choice sets (racks, devices, modules, components, cables, power) and the wireless
sets interfaces use. Values, and their order, are NetBox 4.6's, so stored rows and GraphQL
arguments carry over unchanged; see ``models.choices`` for how they are named in GraphQL.

Grouped NetBox sets (connector families, Ethernet speeds, radio bands) are flattened here,
one comment per group. The interface-type sets at the end say which interfaces are virtual
or wireless and so cannot take a cable.
"""

from __future__ import annotations

import enum
from decimal import Decimal

from models.choices import prefixed

# Racks


@prefixed("status")
class RackStatus(enum.StrEnum):
    """The lifecycle status of a rack."""

    reserved = "reserved"
    available = "available"
    planned = "planned"
    active = "active"
    deprecated = "deprecated"


@prefixed("type")
class RackFormFactor(enum.StrEnum):
    """The physical form of a rack or rack type: frame, cabinet, wall-mounted."""

    two_post_frame = "2-post-frame"
    four_post_frame = "4-post-frame"
    four_post_cabinet = "4-post-cabinet"
    wall_frame = "wall-frame"
    wall_frame_vertical = "wall-frame-vertical"
    wall_cabinet = "wall-cabinet"
    wall_cabinet_vertical = "wall-cabinet-vertical"


@prefixed("width")
class RackWidth(enum.IntEnum):
    """The rail-to-rail width of a rack, in inches."""

    inches_10 = 10
    inches_19 = 19
    inches_21 = 21
    inches_23 = 23


@prefixed("unit")
class RackDimensionUnit(enum.StrEnum):
    """The unit of a rack's outer width, height and depth and mounting depth."""

    millimeter = "mm"
    inch = "in"


@prefixed("")
class RackAirflow(enum.StrEnum):
    """The direction air moves through a rack."""

    front_to_rear = "front-to-rear"
    rear_to_front = "rear-to-front"


@prefixed("status")
class RackReservationStatus(enum.StrEnum):
    """Whether a reservation of rack units is pending, in force or stale."""

    pending = "pending"
    active = "active"
    stale = "stale"


# Devices and modules


@prefixed("face")
class DeviceFace(enum.StrEnum):
    """The side of a rack a device is mounted on."""

    front = "front"
    rear = "rear"


@prefixed("status")
class ModuleStatus(enum.StrEnum):
    """The lifecycle status of an installed module."""

    offline = "offline"
    active = "active"
    planned = "planned"
    staged = "staged"
    failed = "failed"
    decommissioning = "decommissioning"


@prefixed("")
class ModuleAirflow(enum.StrEnum):
    """The direction air moves through a module type."""

    front_to_rear = "front-to-rear"
    rear_to_front = "rear-to-front"
    left_to_right = "left-to-right"
    right_to_left = "right-to-left"
    side_to_rear = "side-to-rear"
    passive = "passive"


@prefixed("status")
class InventoryItemStatus(enum.StrEnum):
    """The lifecycle status of an inventory item."""

    offline = "offline"
    active = "active"
    planned = "planned"
    staged = "staged"
    failed = "failed"
    decommissioning = "decommissioning"


# Console and power ports


@prefixed("type")
class ConsolePortType(enum.StrEnum):
    """The physical connector of a console or console server port."""

    # Serial
    de_9 = "de-9"
    db_25 = "db-25"
    rj_11 = "rj-11"
    rj_12 = "rj-12"
    rj_45 = "rj-45"
    mini_din_8 = "mini-din-8"
    # USB
    usb_a = "usb-a"
    usb_b = "usb-b"
    usb_c = "usb-c"
    usb_mini_a = "usb-mini-a"
    usb_mini_b = "usb-mini-b"
    usb_micro_a = "usb-micro-a"
    usb_micro_b = "usb-micro-b"
    usb_micro_ab = "usb-micro-ab"
    # Other
    other = "other"


@prefixed("speed")
class ConsolePortSpeed(enum.IntEnum):
    """A console port's line speed, in bits per second."""

    bps_1200 = 1200
    bps_2400 = 2400
    bps_4800 = 4800
    bps_9600 = 9600
    bps_19200 = 19200
    bps_38400 = 38400
    bps_57600 = 57600
    bps_115200 = 115200


@prefixed("type")
class PowerPortType(enum.StrEnum):
    """The inlet of a power port: IEC, NEMA, national and proprietary plugs."""

    # IEC 60320
    iec_60320_c6 = "iec-60320-c6"
    iec_60320_c8 = "iec-60320-c8"
    iec_60320_c14 = "iec-60320-c14"
    iec_60320_c16 = "iec-60320-c16"
    iec_60320_c18 = "iec-60320-c18"
    iec_60320_c20 = "iec-60320-c20"
    iec_60320_c22 = "iec-60320-c22"
    # IEC 60309
    iec_60309_p_n_e_4h = "iec-60309-p-n-e-4h"
    iec_60309_p_n_e_6h = "iec-60309-p-n-e-6h"
    iec_60309_p_n_e_9h = "iec-60309-p-n-e-9h"
    iec_60309_2p_e_4h = "iec-60309-2p-e-4h"
    iec_60309_2p_e_6h = "iec-60309-2p-e-6h"
    iec_60309_2p_e_9h = "iec-60309-2p-e-9h"
    iec_60309_3p_e_4h = "iec-60309-3p-e-4h"
    iec_60309_3p_e_6h = "iec-60309-3p-e-6h"
    iec_60309_3p_e_9h = "iec-60309-3p-e-9h"
    iec_60309_3p_n_e_4h = "iec-60309-3p-n-e-4h"
    iec_60309_3p_n_e_6h = "iec-60309-3p-n-e-6h"
    iec_60309_3p_n_e_9h = "iec-60309-3p-n-e-9h"
    # IEC 60906-1
    iec_60906_1 = "iec-60906-1"
    nbr_14136_10a = "nbr-14136-10a"
    nbr_14136_20a = "nbr-14136-20a"
    # NEMA (Non-locking)
    nema_1_15p = "nema-1-15p"
    nema_5_15p = "nema-5-15p"
    nema_5_20p = "nema-5-20p"
    nema_5_30p = "nema-5-30p"
    nema_5_50p = "nema-5-50p"
    nema_6_15p = "nema-6-15p"
    nema_6_20p = "nema-6-20p"
    nema_6_30p = "nema-6-30p"
    nema_6_50p = "nema-6-50p"
    nema_10_30p = "nema-10-30p"
    nema_10_50p = "nema-10-50p"
    nema_14_20p = "nema-14-20p"
    nema_14_30p = "nema-14-30p"
    nema_14_50p = "nema-14-50p"
    nema_14_60p = "nema-14-60p"
    nema_15_15p = "nema-15-15p"
    nema_15_20p = "nema-15-20p"
    nema_15_30p = "nema-15-30p"
    nema_15_50p = "nema-15-50p"
    nema_15_60p = "nema-15-60p"
    # NEMA (Locking)
    nema_l1_15p = "nema-l1-15p"
    nema_l5_15p = "nema-l5-15p"
    nema_l5_20p = "nema-l5-20p"
    nema_l5_30p = "nema-l5-30p"
    nema_l5_50p = "nema-l5-50p"
    nema_l6_15p = "nema-l6-15p"
    nema_l6_20p = "nema-l6-20p"
    nema_l6_30p = "nema-l6-30p"
    nema_l6_50p = "nema-l6-50p"
    nema_l10_30p = "nema-l10-30p"
    nema_l14_20p = "nema-l14-20p"
    nema_l14_30p = "nema-l14-30p"
    nema_l14_50p = "nema-l14-50p"
    nema_l14_60p = "nema-l14-60p"
    nema_l15_20p = "nema-l15-20p"
    nema_l15_30p = "nema-l15-30p"
    nema_l15_50p = "nema-l15-50p"
    nema_l15_60p = "nema-l15-60p"
    nema_l21_20p = "nema-l21-20p"
    nema_l21_30p = "nema-l21-30p"
    nema_l22_20p = "nema-l22-20p"
    nema_l22_30p = "nema-l22-30p"
    # California Style
    cs6361c = "cs6361c"
    cs6365c = "cs6365c"
    cs8165c = "cs8165c"
    cs8265c = "cs8265c"
    cs8365c = "cs8365c"
    cs8465c = "cs8465c"
    # International/ITA
    ita_c = "ita-c"
    ita_e = "ita-e"
    ita_f = "ita-f"
    ita_ef = "ita-ef"
    ita_g = "ita-g"
    ita_h = "ita-h"
    ita_i = "ita-i"
    ita_j = "ita-j"
    ita_k = "ita-k"
    ita_l = "ita-l"
    ita_m = "ita-m"
    ita_n = "ita-n"
    ita_o = "ita-o"
    # USB
    usb_a = "usb-a"
    usb_b = "usb-b"
    usb_c = "usb-c"
    usb_mini_a = "usb-mini-a"
    usb_mini_b = "usb-mini-b"
    usb_micro_a = "usb-micro-a"
    usb_micro_b = "usb-micro-b"
    usb_micro_ab = "usb-micro-ab"
    usb_3_b = "usb-3-b"
    usb_3_micro_b = "usb-3-micro-b"
    # Molex
    molex_micro_fit_1x2 = "molex-micro-fit-1x2"
    molex_micro_fit_2x2 = "molex-micro-fit-2x2"
    molex_micro_fit_2x3 = "molex-micro-fit-2x3"
    molex_micro_fit_2x4 = "molex-micro-fit-2x4"
    # DC
    dc_terminal = "dc-terminal"
    # Proprietary
    saf_d_grid = "saf-d-grid"
    neutrik_powercon_20 = "neutrik-powercon-20"
    neutrik_powercon_32 = "neutrik-powercon-32"
    neutrik_powercon_true1 = "neutrik-powercon-true1"
    neutrik_powercon_true1_top = "neutrik-powercon-true1-top"
    ubiquiti_smartpower = "ubiquiti-smartpower"
    # Other
    hardwired = "hardwired"
    other = "other"


@prefixed("type")
class PowerOutletType(enum.StrEnum):
    """The receptacle of a power outlet: IEC, NEMA, national and proprietary sockets."""

    # IEC 60320
    iec_60320_c5 = "iec-60320-c5"
    iec_60320_c7 = "iec-60320-c7"
    iec_60320_c13 = "iec-60320-c13"
    iec_60320_c15 = "iec-60320-c15"
    iec_60320_c17 = "iec-60320-c17"
    iec_60320_c19 = "iec-60320-c19"
    iec_60320_c21 = "iec-60320-c21"
    # IEC 60309
    iec_60309_p_n_e_4h = "iec-60309-p-n-e-4h"
    iec_60309_p_n_e_6h = "iec-60309-p-n-e-6h"
    iec_60309_p_n_e_9h = "iec-60309-p-n-e-9h"
    iec_60309_2p_e_4h = "iec-60309-2p-e-4h"
    iec_60309_2p_e_6h = "iec-60309-2p-e-6h"
    iec_60309_2p_e_9h = "iec-60309-2p-e-9h"
    iec_60309_3p_e_4h = "iec-60309-3p-e-4h"
    iec_60309_3p_e_6h = "iec-60309-3p-e-6h"
    iec_60309_3p_e_9h = "iec-60309-3p-e-9h"
    iec_60309_3p_n_e_4h = "iec-60309-3p-n-e-4h"
    iec_60309_3p_n_e_6h = "iec-60309-3p-n-e-6h"
    iec_60309_3p_n_e_9h = "iec-60309-3p-n-e-9h"
    # IEC 60906-1
    iec_60906_1 = "iec-60906-1"
    nbr_14136_10a = "nbr-14136-10a"
    nbr_14136_20a = "nbr-14136-20a"
    # NEMA (Non-locking)
    nema_1_15r = "nema-1-15r"
    nema_5_15r = "nema-5-15r"
    nema_5_20r = "nema-5-20r"
    nema_5_30r = "nema-5-30r"
    nema_5_50r = "nema-5-50r"
    nema_6_15r = "nema-6-15r"
    nema_6_20r = "nema-6-20r"
    nema_6_30r = "nema-6-30r"
    nema_6_50r = "nema-6-50r"
    nema_10_30r = "nema-10-30r"
    nema_10_50r = "nema-10-50r"
    nema_14_20r = "nema-14-20r"
    nema_14_30r = "nema-14-30r"
    nema_14_50r = "nema-14-50r"
    nema_14_60r = "nema-14-60r"
    nema_15_15r = "nema-15-15r"
    nema_15_20r = "nema-15-20r"
    nema_15_30r = "nema-15-30r"
    nema_15_50r = "nema-15-50r"
    nema_15_60r = "nema-15-60r"
    # NEMA (Locking)
    nema_l1_15r = "nema-l1-15r"
    nema_l5_15r = "nema-l5-15r"
    nema_l5_20r = "nema-l5-20r"
    nema_l5_30r = "nema-l5-30r"
    nema_l5_50r = "nema-l5-50r"
    nema_l6_15r = "nema-l6-15r"
    nema_l6_20r = "nema-l6-20r"
    nema_l6_30r = "nema-l6-30r"
    nema_l6_50r = "nema-l6-50r"
    nema_l10_30r = "nema-l10-30r"
    nema_l14_20r = "nema-l14-20r"
    nema_l14_30r = "nema-l14-30r"
    nema_l14_50r = "nema-l14-50r"
    nema_l14_60r = "nema-l14-60r"
    nema_l15_20r = "nema-l15-20r"
    nema_l15_30r = "nema-l15-30r"
    nema_l15_50r = "nema-l15-50r"
    nema_l15_60r = "nema-l15-60r"
    nema_l21_20r = "nema-l21-20r"
    nema_l21_30r = "nema-l21-30r"
    nema_l22_20r = "nema-l22-20r"
    nema_l22_30r = "nema-l22-30r"
    # California Style
    cs6360c = "CS6360C"
    cs6364c = "CS6364C"
    cs8164c = "CS8164C"
    cs8264c = "CS8264C"
    cs8364c = "CS8364C"
    cs8464c = "CS8464C"
    # ITA/International
    ita_e = "ita-e"
    ita_f = "ita-f"
    ita_g = "ita-g"
    ita_h = "ita-h"
    ita_i = "ita-i"
    ita_j = "ita-j"
    ita_k = "ita-k"
    ita_l = "ita-l"
    ita_m = "ita-m"
    ita_n = "ita-n"
    ita_o = "ita-o"
    ita_multistandard = "ita-multistandard"
    # USB
    usb_a = "usb-a"
    usb_micro_b = "usb-micro-b"
    usb_c = "usb-c"
    # Molex
    molex_micro_fit_1x2 = "molex-micro-fit-1x2"
    molex_micro_fit_2x2 = "molex-micro-fit-2x2"
    molex_micro_fit_2x3 = "molex-micro-fit-2x3"
    molex_micro_fit_2x4 = "molex-micro-fit-2x4"
    # DC
    dc_terminal = "dc-terminal"
    # Proprietary
    eaton_c39 = "eaton-c39"
    hdot_cx = "hdot-cx"
    saf_d_grid = "saf-d-grid"
    neutrik_powercon_20a = "neutrik-powercon-20a"
    neutrik_powercon_32a = "neutrik-powercon-32a"
    neutrik_powercon_true1 = "neutrik-powercon-true1"
    neutrik_powercon_true1_top = "neutrik-powercon-true1-top"
    ubiquiti_smartpower = "ubiquiti-smartpower"
    # Other
    hardwired = "hardwired"
    other = "other"


@prefixed("feed_leg")
class PowerOutletFeedLeg(enum.StrEnum):
    """The phase of a three-phase feed a power outlet draws from."""

    a = "A"
    b = "B"
    c = "C"


@prefixed("status")
class PowerOutletStatus(enum.StrEnum):
    """Whether a power outlet is enabled, disabled or faulty."""

    enabled = "enabled"
    disabled = "disabled"
    faulty = "faulty"


# Interfaces


@prefixed("kind")
class InterfaceKind(enum.StrEnum):
    """A filter over interface types (not stored): physical, virtual or wireless."""

    physical = "physical"
    virtual = "virtual"
    wireless = "wireless"


@prefixed("type")
class InterfaceType(enum.StrEnum):
    """The kind of an interface: virtual, Ethernet by speed and medium, transceivers, wireless, and more."""

    # Virtual interfaces
    virtual = "virtual"
    bridge = "bridge"
    lag = "lag"
    # FastEthernet (100 Mbps)
    type_100base_fx = "100base-fx"
    type_100base_lfx = "100base-lfx"
    type_100base_tx = "100base-tx"
    type_100base_t1 = "100base-t1"
    # GigabitEthernet (1 Gbps)
    type_1000base_bx10_d = "1000base-bx10-d"
    type_1000base_bx10_u = "1000base-bx10-u"
    type_1000base_cwdm = "1000base-cwdm"
    type_1000base_cx = "1000base-cx"
    type_1000base_dwdm = "1000base-dwdm"
    type_1000base_ex = "1000base-ex"
    type_1000base_lsx = "1000base-lsx"
    type_1000base_lx = "1000base-lx"
    type_1000base_lx10 = "1000base-lx10"
    type_1000base_sx = "1000base-sx"
    type_1000base_t = "1000base-t"
    type_1000base_tx = "1000base-tx"
    type_1000base_zx = "1000base-zx"
    # 2.5/5 Gbps Ethernet
    type_2_5gbase_t = "2.5gbase-t"
    type_5gbase_t = "5gbase-t"
    # 10 Gbps Ethernet
    type_10gbase_br_d = "10gbase-br-d"
    type_10gbase_br_u = "10gbase-br-u"
    type_10gbase_cu = "10gbase-cu"
    type_10gbase_cx4 = "10gbase-cx4"
    type_10gbase_er = "10gbase-er"
    type_10gbase_lr = "10gbase-lr"
    type_10gbase_lrm = "10gbase-lrm"
    type_10gbase_lx4 = "10gbase-lx4"
    type_10gbase_sr = "10gbase-sr"
    type_10gbase_t = "10gbase-t"
    type_10gbase_zr = "10gbase-zr"
    # 25 Gbps Ethernet
    type_25gbase_cr = "25gbase-cr"
    type_25gbase_er = "25gbase-er"
    type_25gbase_lr = "25gbase-lr"
    type_25gbase_sr = "25gbase-sr"
    type_25gbase_t = "25gbase-t"
    # 40 Gbps Ethernet
    type_40gbase_cr4 = "40gbase-cr4"
    type_40gbase_er4 = "40gbase-er4"
    type_40gbase_fr4 = "40gbase-fr4"
    type_40gbase_lr4 = "40gbase-lr4"
    type_40gbase_sr4 = "40gbase-sr4"
    type_40gbase_sr4_bd = "40gbase-sr4-bd"
    # 50 Gbps Ethernet
    type_50gbase_cr = "50gbase-cr"
    type_50gbase_er = "50gbase-er"
    type_50gbase_fr = "50gbase-fr"
    type_50gbase_lr = "50gbase-lr"
    type_50gbase_sr = "50gbase-sr"
    # 100 Gbps Ethernet
    type_100gbase_cr1 = "100gbase-cr1"
    type_100gbase_cr2 = "100gbase-cr2"
    type_100gbase_cr4 = "100gbase-cr4"
    type_100gbase_cr10 = "100gbase-cr10"
    type_100gbase_cwdm4 = "100gbase-cwdm4"
    type_100gbase_dr = "100gbase-dr"
    type_100gbase_er4 = "100gbase-er4"
    type_100gbase_fr1 = "100gbase-fr1"
    type_100gbase_lr1 = "100gbase-lr1"
    type_100gbase_lr4 = "100gbase-lr4"
    type_100gbase_sr1 = "100gbase-sr1"
    type_100gbase_sr1_2 = "100gbase-sr1.2"
    type_100gbase_sr2 = "100gbase-sr2"
    type_100gbase_sr4 = "100gbase-sr4"
    type_100gbase_sr10 = "100gbase-sr10"
    type_100gbase_zr = "100gbase-zr"
    # 200 Gbps Ethernet
    type_200gbase_cr2 = "200gbase-cr2"
    type_200gbase_cr4 = "200gbase-cr4"
    type_200gbase_dr4 = "200gbase-dr4"
    type_200gbase_er4 = "200gbase-er4"
    type_200gbase_fr4 = "200gbase-fr4"
    type_200gbase_lr4 = "200gbase-lr4"
    type_200gbase_sr2 = "200gbase-sr2"
    type_200gbase_sr4 = "200gbase-sr4"
    type_200gbase_vr2 = "200gbase-vr2"
    # 400 Gbps Ethernet
    type_400gbase_cr4 = "400gbase-cr4"
    type_400gbase_dr4 = "400gbase-dr4"
    type_400gbase_er8 = "400gbase-er8"
    type_400gbase_fr4 = "400gbase-fr4"
    type_400gbase_fr8 = "400gbase-fr8"
    type_400gbase_lr4 = "400gbase-lr4"
    type_400gbase_lr8 = "400gbase-lr8"
    type_400gbase_sr4 = "400gbase-sr4"
    type_400gbase_sr4_2 = "400gbase-sr4_2"
    type_400gbase_sr8 = "400gbase-sr8"
    type_400gbase_sr16 = "400gbase-sr16"
    type_400gbase_vr4 = "400gbase-vr4"
    type_400gbase_zr = "400gbase-zr"
    # 800 Gbps Ethernet
    type_800gbase_cr8 = "800gbase-cr8"
    type_800gbase_dr8 = "800gbase-dr8"
    type_800gbase_sr8 = "800gbase-sr8"
    type_800gbase_vr8 = "800gbase-vr8"
    # 1.6 Tbps Ethernet
    type_1_6tbase_cr8 = "1.6tbase-cr8"
    type_1_6tbase_dr8 = "1.6tbase-dr8"
    type_1_6tbase_dr8_2 = "1.6tbase-dr8-2"
    # Pluggable transceivers
    type_100base_x_sfp = "100base-x-sfp"
    type_1000base_x_gbic = "1000base-x-gbic"
    type_1000base_x_sfp = "1000base-x-sfp"
    type_2_5gbase_x_sfp = "2.5gbase-x-sfp"
    type_10gbase_x_sfpp = "10gbase-x-sfpp"
    type_10gbase_x_xenpak = "10gbase-x-xenpak"
    type_10gbase_x_xfp = "10gbase-x-xfp"
    type_10gbase_x_x2 = "10gbase-x-x2"
    type_25gbase_x_sfp28 = "25gbase-x-sfp28"
    type_40gbase_x_qsfpp = "40gbase-x-qsfpp"
    type_50gbase_x_sfp28 = "50gbase-x-sfp28"
    type_50gbase_x_sfp56 = "50gbase-x-sfp56"
    type_100gbase_x_cfp = "100gbase-x-cfp"
    type_100gbase_x_cfp2 = "100gbase-x-cfp2"
    type_100gbase_x_cfp4 = "100gbase-x-cfp4"
    type_100gbase_x_cxp = "100gbase-x-cxp"
    type_100gbase_x_cpak = "100gbase-x-cpak"
    type_100gbase_x_dsfp = "100gbase-x-dsfp"
    type_100gbase_x_qsfp28 = "100gbase-x-qsfp28"
    type_100gbase_x_qsfpdd = "100gbase-x-qsfpdd"
    type_100gbase_x_sfp112 = "100gbase-x-sfp112"
    type_100gbase_x_sfpdd = "100gbase-x-sfpdd"
    type_200gbase_x_cfp2 = "200gbase-x-cfp2"
    type_200gbase_x_qsfp56 = "200gbase-x-qsfp56"
    type_200gbase_x_qsfpdd = "200gbase-x-qsfpdd"
    type_400gbase_x_qsfp112 = "400gbase-x-qsfp112"
    type_400gbase_x_qsfpdd = "400gbase-x-qsfpdd"
    type_400gbase_x_cdfp = "400gbase-x-cdfp"
    type_400gbase_x_cfp2 = "400gbase-x-cfp2"
    type_400gbase_x_cfp8 = "400gbase-x-cfp8"
    type_400gbase_x_osfp = "400gbase-x-osfp"
    type_400gbase_x_osfp_rhs = "400gbase-x-osfp-rhs"
    type_800gbase_x_osfp = "800gbase-x-osfp"
    type_800gbase_x_qsfpdd = "800gbase-x-qsfpdd"
    type_1_6tbase_x_osfp1600 = "1.6tbase-x-osfp1600"
    type_1_6tbase_x_osfp1600_rhs = "1.6tbase-x-osfp1600-rhs"
    type_1_6tbase_x_qsfpdd1600 = "1.6tbase-x-qsfpdd1600"
    # Backplane Ethernet
    type_1000base_kx = "1000base-kx"
    type_2_5gbase_kx = "2.5gbase-kx"
    type_5gbase_kr = "5gbase-kr"
    type_10gbase_kr = "10gbase-kr"
    type_10gbase_kx4 = "10gbase-kx4"
    type_25gbase_kr = "25gbase-kr"
    type_40gbase_kr4 = "40gbase-kr4"
    type_50gbase_kr = "50gbase-kr"
    type_100gbase_kp4 = "100gbase-kp4"
    type_100gbase_kr2 = "100gbase-kr2"
    type_100gbase_kr4 = "100gbase-kr4"
    type_1_6tbase_kr8 = "1.6tbase-kr8"
    # Wireless
    ieee802_11a = "ieee802.11a"
    ieee802_11g = "ieee802.11g"
    ieee802_11n = "ieee802.11n"
    ieee802_11ac = "ieee802.11ac"
    ieee802_11ad = "ieee802.11ad"
    ieee802_11ax = "ieee802.11ax"
    ieee802_11ay = "ieee802.11ay"
    ieee802_11be = "ieee802.11be"
    ieee802_15_1 = "ieee802.15.1"
    ieee802_15_4 = "ieee802.15.4"
    other_wireless = "other-wireless"
    # Cellular
    gsm = "gsm"
    cdma = "cdma"
    lte = "lte"
    type_4g = "4g"
    type_5g = "5g"
    # SONET
    sonet_oc3 = "sonet-oc3"
    sonet_oc12 = "sonet-oc12"
    sonet_oc48 = "sonet-oc48"
    sonet_oc192 = "sonet-oc192"
    sonet_oc768 = "sonet-oc768"
    sonet_oc1920 = "sonet-oc1920"
    sonet_oc3840 = "sonet-oc3840"
    # FibreChannel
    type_1gfc_sfp = "1gfc-sfp"
    type_2gfc_sfp = "2gfc-sfp"
    type_4gfc_sfp = "4gfc-sfp"
    type_8gfc_sfpp = "8gfc-sfpp"
    type_16gfc_sfpp = "16gfc-sfpp"
    type_32gfc_sfp28 = "32gfc-sfp28"
    type_32gfc_sfpp = "32gfc-sfpp"
    type_64gfc_qsfpp = "64gfc-qsfpp"
    type_64gfc_sfpdd = "64gfc-sfpdd"
    type_64gfc_sfpp = "64gfc-sfpp"
    type_128gfc_qsfp28 = "128gfc-qsfp28"
    # InfiniBand
    infiniband_sdr = "infiniband-sdr"
    infiniband_ddr = "infiniband-ddr"
    infiniband_qdr = "infiniband-qdr"
    infiniband_fdr10 = "infiniband-fdr10"
    infiniband_fdr = "infiniband-fdr"
    infiniband_edr = "infiniband-edr"
    infiniband_hdr = "infiniband-hdr"
    infiniband_ndr = "infiniband-ndr"
    infiniband_xdr = "infiniband-xdr"
    # Serial
    t1 = "t1"
    e1 = "e1"
    t3 = "t3"
    e3 = "e3"
    # ATM
    xdsl = "xdsl"
    # Coaxial
    docsis = "docsis"
    moca = "moca"
    # PON
    bpon = "bpon"
    epon = "epon"
    type_10g_epon = "10g-epon"
    gpon = "gpon"
    xg_pon = "xg-pon"
    xgs_pon = "xgs-pon"
    ng_pon2 = "ng-pon2"
    type_25g_pon = "25g-pon"
    type_50g_pon = "50g-pon"
    # Stacking
    cisco_stackwise = "cisco-stackwise"
    cisco_stackwise_plus = "cisco-stackwise-plus"
    cisco_flexstack = "cisco-flexstack"
    cisco_flexstack_plus = "cisco-flexstack-plus"
    cisco_stackwise_80 = "cisco-stackwise-80"
    cisco_stackwise_160 = "cisco-stackwise-160"
    cisco_stackwise_320 = "cisco-stackwise-320"
    cisco_stackwise_480 = "cisco-stackwise-480"
    cisco_stackwise_1t = "cisco-stackwise-1t"
    juniper_vcp = "juniper-vcp"
    extreme_summitstack = "extreme-summitstack"
    extreme_summitstack_128 = "extreme-summitstack-128"
    extreme_summitstack_256 = "extreme-summitstack-256"
    extreme_summitstack_512 = "extreme-summitstack-512"
    # Other
    other = "other"


@prefixed("duplex")
class InterfaceDuplex(enum.StrEnum):
    """An interface's duplex setting."""

    half = "half"
    full = "full"
    auto = "auto"


@prefixed("mode")
class InterfaceMode(enum.StrEnum):
    """How an interface carries VLANs (802.1Q mode)."""

    access = "access"
    tagged = "tagged"
    tagged_all = "tagged-all"
    q_in_q = "q-in-q"


@prefixed("mode")
class InterfacePoEMode(enum.StrEnum):
    """Whether an interface supplies power over Ethernet (PSE) or draws it (PD)."""

    pd = "pd"
    pse = "pse"


@prefixed("")
class InterfacePoEType(enum.StrEnum):
    """The power-over-Ethernet standard of an interface: an IEEE type or passive power."""

    # IEEE Standard
    type1_ieee802_3af = "type1-ieee802.3af"
    type2_ieee802_3at = "type2-ieee802.3at"
    type3_ieee802_3bt = "type3-ieee802.3bt"
    type4_ieee802_3bt = "type4-ieee802.3bt"
    # Passive
    passive_24v_2pair = "passive-24v-2pair"
    passive_24v_4pair = "passive-24v-4pair"
    passive_48v_2pair = "passive-48v-2pair"
    passive_48v_4pair = "passive-48v-4pair"


# Front and rear ports


@prefixed("type")
class PortType(enum.StrEnum):
    """The connector of a front or rear port: copper, fibre optic, USB."""

    # Copper
    type_8p8c = "8p8c"
    type_8p6c = "8p6c"
    type_8p4c = "8p4c"
    type_8p2c = "8p2c"
    type_6p6c = "6p6c"
    type_6p4c = "6p4c"
    type_6p2c = "6p2c"
    type_4p4c = "4p4c"
    type_4p2c = "4p2c"
    gg45 = "gg45"
    tera_4p = "tera-4p"
    tera_2p = "tera-2p"
    tera_1p = "tera-1p"
    type_110_punch = "110-punch"
    bnc = "bnc"
    f = "f"
    n = "n"
    mrj21 = "mrj21"
    # Fiber Optic
    fc = "fc"
    fc_pc = "fc-pc"
    fc_upc = "fc-upc"
    fc_apc = "fc-apc"
    lc = "lc"
    lc_pc = "lc-pc"
    lc_upc = "lc-upc"
    lc_apc = "lc-apc"
    mu = "mu"
    mu_pc = "mu-pc"
    mu_upc = "mu-upc"
    mu_apc = "mu-apc"
    lsh = "lsh"
    lsh_pc = "lsh-pc"
    lsh_upc = "lsh-upc"
    lsh_apc = "lsh-apc"
    lx5 = "lx5"
    lx5_pc = "lx5-pc"
    lx5_upc = "lx5-upc"
    lx5_apc = "lx5-apc"
    mpo = "mpo"
    mtrj = "mtrj"
    sc = "sc"
    sc_pc = "sc-pc"
    sc_upc = "sc-upc"
    sc_apc = "sc-apc"
    st = "st"
    cs = "cs"
    sn = "sn"
    mdc = "mdc"
    sma_905 = "sma-905"
    sma_906 = "sma-906"
    urm_p2 = "urm-p2"
    urm_p4 = "urm-p4"
    urm_p8 = "urm-p8"
    splice = "splice"
    # USB
    usb_a = "usb-a"
    usb_b = "usb-b"
    usb_c = "usb-c"
    usb_mini_a = "usb-mini-a"
    usb_mini_b = "usb-mini-b"
    usb_micro_a = "usb-micro-a"
    usb_micro_b = "usb-micro-b"
    usb_micro_ab = "usb-micro-ab"
    # Other
    other = "other"


# Cables


@prefixed("type")
class CableType(enum.StrEnum):
    """The medium of a cable: twisted pair, twinax, coaxial, fibre, power, USB."""

    # Copper - Twisted Pair (UTP/STP)
    cat3 = "cat3"
    cat5 = "cat5"
    cat5e = "cat5e"
    cat6 = "cat6"
    cat6a = "cat6a"
    cat7 = "cat7"
    cat7a = "cat7a"
    cat8 = "cat8"
    mrj21_trunk = "mrj21-trunk"
    # Copper - Twinax (DAC)
    dac_active = "dac-active"
    dac_passive = "dac-passive"
    # Copper - Coaxial
    coaxial = "coaxial"
    rg_6 = "rg-6"
    rg_8 = "rg-8"
    rg_11 = "rg-11"
    rg_59 = "rg-59"
    rg_62 = "rg-62"
    rg_213 = "rg-213"
    lmr_100 = "lmr-100"
    lmr_200 = "lmr-200"
    lmr_400 = "lmr-400"
    # Fiber - Multimode
    mmf = "mmf"
    mmf_om1 = "mmf-om1"
    mmf_om2 = "mmf-om2"
    mmf_om3 = "mmf-om3"
    mmf_om4 = "mmf-om4"
    mmf_om5 = "mmf-om5"
    # Fiber - Single-mode
    smf = "smf"
    smf_os1 = "smf-os1"
    smf_os2 = "smf-os2"
    # Fiber - Other
    aoc = "aoc"
    # Power
    power = "power"
    # USB
    usb = "usb"


class CableProfile(enum.StrEnum):
    """How a cable's connectors and positions map end to end (single, trunk, breakout).

    NetBox declares no GraphQL enum for it (its filters do not take a profile), hence no prefix."""

    # Single
    single_1c1p = "single-1c1p"
    single_1c2p = "single-1c2p"
    single_1c4p = "single-1c4p"
    single_1c6p = "single-1c6p"
    single_1c8p = "single-1c8p"
    single_1c12p = "single-1c12p"
    single_1c16p = "single-1c16p"
    # Trunk
    trunk_2c1p = "trunk-2c1p"
    trunk_2c2p = "trunk-2c2p"
    trunk_2c4p = "trunk-2c4p"
    trunk_2c4p_shuffle = "trunk-2c4p-shuffle"
    trunk_2c6p = "trunk-2c6p"
    trunk_2c8p = "trunk-2c8p"
    trunk_2c12p = "trunk-2c12p"
    trunk_4c1p = "trunk-4c1p"
    trunk_4c2p = "trunk-4c2p"
    trunk_4c4p = "trunk-4c4p"
    trunk_4c4p_shuffle = "trunk-4c4p-shuffle"
    trunk_4c6p = "trunk-4c6p"
    trunk_4c8p = "trunk-4c8p"
    trunk_8c4p = "trunk-8c4p"
    # Breakout
    breakout_1c2p_2c1p = "breakout-1c2p-2c1p"
    breakout_1c4p_4c1p = "breakout-1c4p-4c1p"
    breakout_1c6p_6c1p = "breakout-1c6p-6c1p"
    breakout_1c8p_8c1p = "breakout-1c8p-8c1p"
    breakout_2c4p_8c1p_shuffle = "breakout-2c4p-8c1p-shuffle"


@prefixed("status")
class LinkStatus(enum.StrEnum):
    """The status of a cable or wireless link."""

    connected = "connected"
    planned = "planned"
    decommissioning = "decommissioning"


@prefixed("unit")
class CableLengthUnit(enum.StrEnum):
    """The unit of a cable's length."""

    kilometer = "km"
    meter = "m"
    centimeter = "cm"
    mile = "mi"
    foot = "ft"
    inch = "in"


@prefixed("side")
class CableEnd(enum.StrEnum):
    """The end of a cable a termination (or a cabled component) sits on."""

    a = "A"
    b = "B"


# Power feeds


@prefixed("status")
class PowerFeedStatus(enum.StrEnum):
    """The lifecycle status of a power feed."""

    offline = "offline"
    active = "active"
    planned = "planned"
    failed = "failed"


@prefixed("type")
class PowerFeedType(enum.StrEnum):
    """Whether a power feed is a primary or a redundant supply."""

    primary = "primary"
    redundant = "redundant"


@prefixed("supply")
class PowerFeedSupply(enum.StrEnum):
    """Whether a power feed carries alternating or direct current."""

    ac = "ac"
    dc = "dc"


@prefixed("phase")
class PowerFeedPhase(enum.StrEnum):
    """Whether a power feed is single-phase or three-phase."""

    single_phase = "single-phase"
    three_phase = "three-phase"


# Wireless (interface radio settings)


@prefixed("role")
class WirelessRole(enum.StrEnum):
    """The radio role of a wireless interface: access point or station."""

    ap = "ap"
    station = "station"


@prefixed("channel")
class WirelessChannel(enum.StrEnum):
    """A radio channel, named ``<band>-<channel>-<centre MHz>-<width MHz>`` (``5g-36-5180-20``).

    The value carries the centre frequency and width NetBox copies into an interface's
    ``rf_channel_frequency`` and ``rf_channel_width``; ``frequency`` and ``width`` read them."""

    # 2.4 GHz (802.11b/g/n/ax)
    ch_2_4g_1 = "2.4g-1-2412-22"
    ch_2_4g_2 = "2.4g-2-2417-22"
    ch_2_4g_3 = "2.4g-3-2422-22"
    ch_2_4g_4 = "2.4g-4-2427-22"
    ch_2_4g_5 = "2.4g-5-2432-22"
    ch_2_4g_6 = "2.4g-6-2437-22"
    ch_2_4g_7 = "2.4g-7-2442-22"
    ch_2_4g_8 = "2.4g-8-2447-22"
    ch_2_4g_9 = "2.4g-9-2452-22"
    ch_2_4g_10 = "2.4g-10-2457-22"
    ch_2_4g_11 = "2.4g-11-2462-22"
    ch_2_4g_12 = "2.4g-12-2467-22"
    ch_2_4g_13 = "2.4g-13-2472-22"
    # 5 GHz (802.11a/n/ac/ax)
    ch_5g_32 = "5g-32-5160-20"
    ch_5g_34 = "5g-34-5170-40"
    ch_5g_36 = "5g-36-5180-20"
    ch_5g_38 = "5g-38-5190-40"
    ch_5g_40 = "5g-40-5200-20"
    ch_5g_42 = "5g-42-5210-80"
    ch_5g_44 = "5g-44-5220-20"
    ch_5g_46 = "5g-46-5230-40"
    ch_5g_48 = "5g-48-5240-20"
    ch_5g_50 = "5g-50-5250-160"
    ch_5g_52 = "5g-52-5260-20"
    ch_5g_54 = "5g-54-5270-40"
    ch_5g_56 = "5g-56-5280-20"
    ch_5g_58 = "5g-58-5290-80"
    ch_5g_60 = "5g-60-5300-20"
    ch_5g_62 = "5g-62-5310-40"
    ch_5g_64 = "5g-64-5320-20"
    ch_5g_100 = "5g-100-5500-20"
    ch_5g_102 = "5g-102-5510-40"
    ch_5g_104 = "5g-104-5520-20"
    ch_5g_106 = "5g-106-5530-80"
    ch_5g_108 = "5g-108-5540-20"
    ch_5g_110 = "5g-110-5550-40"
    ch_5g_112 = "5g-112-5560-20"
    ch_5g_114 = "5g-114-5570-160"
    ch_5g_116 = "5g-116-5580-20"
    ch_5g_118 = "5g-118-5590-40"
    ch_5g_120 = "5g-120-5600-20"
    ch_5g_122 = "5g-122-5610-80"
    ch_5g_124 = "5g-124-5620-20"
    ch_5g_126 = "5g-126-5630-40"
    ch_5g_128 = "5g-128-5640-20"
    ch_5g_132 = "5g-132-5660-20"
    ch_5g_134 = "5g-134-5670-40"
    ch_5g_136 = "5g-136-5680-20"
    ch_5g_138 = "5g-138-5690-80"
    ch_5g_140 = "5g-140-5700-20"
    ch_5g_142 = "5g-142-5710-40"
    ch_5g_144 = "5g-144-5720-20"
    ch_5g_149 = "5g-149-5745-20"
    ch_5g_151 = "5g-151-5755-40"
    ch_5g_153 = "5g-153-5765-20"
    ch_5g_155 = "5g-155-5775-80"
    ch_5g_157 = "5g-157-5785-20"
    ch_5g_159 = "5g-159-5795-40"
    ch_5g_161 = "5g-161-5805-20"
    ch_5g_163 = "5g-163-5815-160"
    ch_5g_165 = "5g-165-5825-20"
    ch_5g_167 = "5g-167-5835-40"
    ch_5g_169 = "5g-169-5845-20"
    ch_5g_171 = "5g-171-5855-80"
    ch_5g_173 = "5g-173-5865-20"
    ch_5g_175 = "5g-175-5875-40"
    ch_5g_177 = "5g-177-5885-20"
    # 6 GHz (802.11ax)
    ch_6g_1 = "6g-1-5955-20"
    ch_6g_3 = "6g-3-5965-40"
    ch_6g_5 = "6g-5-5975-20"
    ch_6g_7 = "6g-7-5985-80"
    ch_6g_9 = "6g-9-5995-20"
    ch_6g_11 = "6g-11-6005-40"
    ch_6g_13 = "6g-13-6015-20"
    ch_6g_15 = "6g-15-6025-160"
    ch_6g_17 = "6g-17-6035-20"
    ch_6g_19 = "6g-19-6045-40"
    ch_6g_21 = "6g-21-6055-20"
    ch_6g_23 = "6g-23-6065-80"
    ch_6g_25 = "6g-25-6075-20"
    ch_6g_27 = "6g-27-6085-40"
    ch_6g_29 = "6g-29-6095-20"
    ch_6g_31 = "6g-31-6105-320"
    ch_6g_33 = "6g-33-6115-20"
    ch_6g_35 = "6g-35-6125-40"
    ch_6g_37 = "6g-37-6135-20"
    ch_6g_39 = "6g-39-6145-80"
    ch_6g_41 = "6g-41-6155-20"
    ch_6g_43 = "6g-43-6165-40"
    ch_6g_45 = "6g-45-6175-20"
    ch_6g_47 = "6g-47-6185-160"
    ch_6g_49 = "6g-49-6195-20"
    ch_6g_51 = "6g-51-6205-40"
    ch_6g_53 = "6g-53-6215-20"
    ch_6g_55 = "6g-55-6225-80"
    ch_6g_57 = "6g-57-6235-20"
    ch_6g_59 = "6g-59-6245-40"
    ch_6g_61 = "6g-61-6255-20"
    ch_6g_65 = "6g-65-6275-20"
    ch_6g_67 = "6g-67-6285-40"
    ch_6g_69 = "6g-69-6295-20"
    ch_6g_71 = "6g-71-6305-80"
    ch_6g_73 = "6g-73-6315-20"
    ch_6g_75 = "6g-75-6325-40"
    ch_6g_77 = "6g-77-6335-20"
    ch_6g_79 = "6g-79-6345-160"
    ch_6g_81 = "6g-81-6355-20"
    ch_6g_83 = "6g-83-6365-40"
    ch_6g_85 = "6g-85-6375-20"
    ch_6g_87 = "6g-87-6385-80"
    ch_6g_89 = "6g-89-6395-20"
    ch_6g_91 = "6g-91-6405-40"
    ch_6g_93 = "6g-93-6415-20"
    ch_6g_95 = "6g-95-6425-320"
    ch_6g_97 = "6g-97-6435-20"
    ch_6g_99 = "6g-99-6445-40"
    ch_6g_101 = "6g-101-6455-20"
    ch_6g_103 = "6g-103-6465-80"
    ch_6g_105 = "6g-105-6475-20"
    ch_6g_107 = "6g-107-6485-40"
    ch_6g_109 = "6g-109-6495-20"
    ch_6g_111 = "6g-111-6505-160"
    ch_6g_113 = "6g-113-6515-20"
    ch_6g_115 = "6g-115-6525-40"
    ch_6g_117 = "6g-117-6535-20"
    ch_6g_119 = "6g-119-6545-80"
    ch_6g_121 = "6g-121-6555-20"
    ch_6g_123 = "6g-123-6565-40"
    ch_6g_125 = "6g-125-6575-20"
    ch_6g_129 = "6g-129-6595-20"
    ch_6g_131 = "6g-131-6605-40"
    ch_6g_133 = "6g-133-6615-20"
    ch_6g_135 = "6g-135-6625-80"
    ch_6g_137 = "6g-137-6635-20"
    ch_6g_139 = "6g-139-6645-40"
    ch_6g_141 = "6g-141-6655-20"
    ch_6g_143 = "6g-143-6665-160"
    ch_6g_145 = "6g-145-6675-20"
    ch_6g_147 = "6g-147-6685-40"
    ch_6g_149 = "6g-149-6695-20"
    ch_6g_151 = "6g-151-6705-80"
    ch_6g_153 = "6g-153-6715-20"
    ch_6g_155 = "6g-155-6725-40"
    ch_6g_157 = "6g-157-6735-20"
    ch_6g_159 = "6g-159-6745-320"
    ch_6g_161 = "6g-161-6755-20"
    ch_6g_163 = "6g-163-6765-40"
    ch_6g_165 = "6g-165-6775-20"
    ch_6g_167 = "6g-167-6785-80"
    ch_6g_169 = "6g-169-6795-20"
    ch_6g_171 = "6g-171-6805-40"
    ch_6g_173 = "6g-173-6815-20"
    ch_6g_175 = "6g-175-6825-160"
    ch_6g_177 = "6g-177-6835-20"
    ch_6g_179 = "6g-179-6845-40"
    ch_6g_181 = "6g-181-6855-20"
    ch_6g_183 = "6g-183-6865-80"
    ch_6g_185 = "6g-185-6875-20"
    ch_6g_187 = "6g-187-6885-40"
    ch_6g_189 = "6g-189-6895-20"
    ch_6g_193 = "6g-193-6915-20"
    ch_6g_195 = "6g-195-6925-40"
    ch_6g_197 = "6g-197-6935-20"
    ch_6g_199 = "6g-199-6945-80"
    ch_6g_201 = "6g-201-6955-20"
    ch_6g_203 = "6g-203-6965-40"
    ch_6g_205 = "6g-205-6975-20"
    ch_6g_207 = "6g-207-6985-160"
    ch_6g_209 = "6g-209-6995-20"
    ch_6g_211 = "6g-211-7005-40"
    ch_6g_213 = "6g-213-7015-20"
    ch_6g_215 = "6g-215-7025-80"
    ch_6g_217 = "6g-217-7035-20"
    ch_6g_219 = "6g-219-7045-40"
    ch_6g_221 = "6g-221-7055-20"
    ch_6g_225 = "6g-225-7075-20"
    ch_6g_227 = "6g-227-7085-40"
    ch_6g_229 = "6g-229-7095-20"
    ch_6g_233 = "6g-233-7115-20"
    # 60 GHz (802.11ad/ay)
    ch_60g_1 = "60g-1-58320-2160"
    ch_60g_2 = "60g-2-60480-2160"
    ch_60g_3 = "60g-3-62640-2160"
    ch_60g_4 = "60g-4-64800-2160"
    ch_60g_5 = "60g-5-66960-2160"
    ch_60g_6 = "60g-6-69120-2160"
    ch_60g_9 = "60g-9-59400-4320"
    ch_60g_10 = "60g-10-61560-4320"
    ch_60g_11 = "60g-11-63720-4320"
    ch_60g_12 = "60g-12-65880-4320"
    ch_60g_13 = "60g-13-68040-4320"
    ch_60g_17 = "60g-17-60480-6480"
    ch_60g_18 = "60g-18-62640-6480"
    ch_60g_19 = "60g-19-64800-6480"
    ch_60g_20 = "60g-20-66960-6480"
    ch_60g_25 = "60g-25-61560-6480"
    ch_60g_26 = "60g-26-63720-6480"
    ch_60g_27 = "60g-27-65880-6480"

    @property
    def frequency(self) -> Decimal:
        """The centre frequency, in MHz."""
        return Decimal(self.value.split("-")[2])

    @property
    def width(self) -> Decimal:
        """The channel width, in MHz."""
        return Decimal(self.value.split("-")[3])


# Interface types that are not a physical port: no cable, no link peer.
VIRTUAL_INTERFACE_TYPES: frozenset[InterfaceType] = frozenset(
    (
        InterfaceType.virtual,
        InterfaceType.lag,
        InterfaceType.bridge,
    )
)

# Radio interface types (Wi-Fi, Bluetooth, 802.15.4, cellular): wireless links, never cables.
WIRELESS_INTERFACE_TYPES: frozenset[InterfaceType] = frozenset(
    (
        InterfaceType.ieee802_11a,
        InterfaceType.ieee802_11g,
        InterfaceType.ieee802_11n,
        InterfaceType.ieee802_11ac,
        InterfaceType.ieee802_11ad,
        InterfaceType.ieee802_11ax,
        InterfaceType.ieee802_11ay,
        InterfaceType.ieee802_11be,
        InterfaceType.ieee802_15_1,
        InterfaceType.ieee802_15_4,
        InterfaceType.other_wireless,
        InterfaceType.gsm,
        InterfaceType.cdma,
        InterfaceType.lte,
        InterfaceType.type_4g,
        InterfaceType.type_5g,
    )
)

# The interface types a cable cannot attach to.
NONCONNECTABLE_INTERFACE_TYPES: frozenset[InterfaceType] = VIRTUAL_INTERFACE_TYPES | WIRELESS_INTERFACE_TYPES
