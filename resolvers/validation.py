"""Input checks by column kind, so every model gets them from its declaration."""

from __future__ import annotations

import ipaddress
import re
import uuid
from decimal import Decimal
from typing import Any

from models.registry import Kind, ModelSpec, ScalarSpec
from resolvers.errors import BadUserInput

_HEX_COLOR = re.compile(r"^[0-9a-fA-F]{6}$")


def _hex_color(value: str, field: str) -> str:
    if not _HEX_COLOR.match(value):
        raise BadUserInput(f"{field} '{value}' is not a hex colour like 'ff8800'", field=field)
    return value.lower()


def _hex_color_or_blank(value: str, field: str) -> str:
    return value if value == "" else _hex_color(value, field)


def _octets(count: int, name: str, example: str) -> Any:
    """Colon-separated hex octets, any common spelling in (``001a.2b3c.4d5e``, dashes,
    lower case), NetBox's upper-case colon form out."""

    def parse(value: str, field: str) -> str:
        digits = re.sub(r"[:.\-]", "", value.strip())
        if len(digits) != 2 * count or not re.fullmatch(r"[0-9a-fA-F]+", digits):
            raise BadUserInput(f"{field} '{value}' is not a {name} like '{example}'", field=field)
        return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2)).upper()

    return parse


def _object_type_or_blank(value: str, field: str) -> str:
    """A type as NetBox names it (``dcim.site``), or nothing."""
    from models.registry import spec_by_content_type

    if value and spec_by_content_type(value) is None:
        raise BadUserInput(f"{field}: '{value}' names no type (such as dcim.site)", field=field)
    return value


def _identifier(value: str, field: str) -> str:
    """A name that becomes a key, a filter path and a template variable (a custom field's):
    lower-case letters, digits and single underscores."""
    if not re.fullmatch(r"[a-z0-9_]+", value) or "__" in value:
        raise BadUserInput(f"{field}: '{value}' may hold only lower-case letters, digits and single underscores", field=field)
    return value


# NetBox's default ALLOWED_URL_SCHEMES: what a URL a user writes (a URL custom field, a
# rendered custom link) may start with.
ALLOWED_URL_SCHEMES = frozenset({"file", "ftp", "ftps", "http", "https", "irc", "mailto", "sftp", "ssh", "tel", "telnet", "tftp", "vnc", "xmpp"})


# Declared string shapes (``info={"format": ...}`` on a column): each checks and normalises.
_FORMATS = {
    "hex_color": _hex_color,
    "hex_color_or_blank": _hex_color_or_blank,
    "mac": _octets(6, "MAC address", "00:1A:2B:3C:4D:5E"),
    "wwn": _octets(8, "World Wide Name", "50:01:43:80:12:34:56:78"),
    "object_type_or_blank": _object_type_or_blank,
    "identifier": _identifier,
}


def parse_id(value: Any, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadUserInput(f"{field}: '{value}' is not a valid id", field=field) from None


def _refuse_zone(value: Any, field: str) -> None:
    """Python's ipaddress accepts a scoped IPv6 address ('fe80::1%eth0', RFC 4007) and keeps
    the zone in its text; PostgreSQL's inet and cidr reject it. Refuse it here, naming the field."""
    if not isinstance(value, str) or "%" not in value:
        return
    address, slash, mask = value.partition("/")
    try:
        zone = ipaddress.IPv6Address(address).scope_id
    except ValueError:
        return  # not a scoped address at all: the caller's own parse error says what is wrong
    if zone is not None:
        unscoped = address.split("%", 1)[0] + slash + mask
        raise BadUserInput(
            f"{field}: '{value}' is a scoped IPv6 address (zone %{zone}); zones cannot be stored or compared, give '{unscoped}' instead",
            field=field,
            suggestion=unscoped,
        )


def parse_network(value: str, field: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    _refuse_zone(value, field)
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as strict_error:
        try:
            meant = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise BadUserInput(f"{field}: '{value}' is not a valid CIDR prefix ({strict_error})", field=field) from None
        raise BadUserInput(f"{field}: '{value}' has host bits set; did you mean {meant}?", field=field, suggestion=str(meant)) from None


def parse_interface(value: str, field: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    _refuse_zone(value, field)
    try:
        return ipaddress.ip_interface(value)
    except ValueError:
        raise BadUserInput(f"{field}: '{value}' is not a valid IP address", field=field) from None


def check_scalar(scalar: ScalarSpec, value: Any) -> Any:
    """Return the value to store, or raise BadUserInput naming the field."""
    field = scalar.name
    if value is None:
        if not scalar.nullable:
            raise BadUserInput(f"{field} may not be null", field=field)
        return None
    if scalar.kind is Kind.string:
        if scalar.required and not value.strip():
            raise BadUserInput(f"{field} may not be blank", field=field)
        if scalar.max_length is not None and len(value) > scalar.max_length:
            raise BadUserInput(
                f"{field} is {len(value)} characters long; at most {scalar.max_length} are allowed",
                field=field,
            )
        if scalar.format is not None:
            return _FORMATS[scalar.format](value, field)
    elif scalar.kind is Kind.integer and scalar.choices is not None:
        if value not in scalar.choices:
            raise BadUserInput(f"{field}: {value} is not one of {', '.join(map(str, scalar.choices))}", field=field)
    elif scalar.kind is Kind.decimal and not Decimal(str(value)).is_finite():
        # GraphQL's Decimal takes 'NaN', which compares with nothing (and numeric stores it).
        raise BadUserInput(f"{field}: '{value}' is not a number", field=field)
    elif scalar.kind in (Kind.integer, Kind.big_integer, Kind.decimal) and scalar.bounds is not None:
        low, high = scalar.bounds
        if not low <= value <= high:
            raise BadUserInput(f"{field} {value} is out of range {low}..{high}", field=field)
    elif scalar.kind is Kind.integers:
        if scalar.required and not value:
            raise BadUserInput(f"{field} may not be empty", field=field)
        low, high = scalar.bounds or (1, 32767)
        wrong = [v for v in value if not low <= v <= high]
        if wrong:
            raise BadUserInput(f"{field}: {wrong[0]} is out of range {low}..{high}", field=field)
        return sorted(set(value))
    elif scalar.kind is Kind.strings:
        if scalar.required and not value:
            raise BadUserInput(f"{field} may not be empty", field=field)
    elif scalar.kind is Kind.network:
        return str(parse_network(value, field))
    elif scalar.kind is Kind.interface:
        return str(parse_interface(value, field))
    elif scalar.kind is Kind.choice and scalar.enum is not None:
        try:
            return scalar.enum(value)
        except ValueError:
            allowed = ", ".join(m.value for m in scalar.enum)
            raise BadUserInput(f"{field}: '{value}' is not one of {allowed}", field=field) from None
    elif scalar.kind is Kind.json and not scalar.any_json and not isinstance(value, dict):
        raise BadUserInput(f"{field} must be a JSON object", field=field)
    return value


def check_values(spec: ModelSpec, values: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for name, value in values.items():
        scalar = spec.scalar(name)
        checked[name] = check_scalar(scalar, value) if scalar is not None else value
    return checked
