"""Filter lookups, one input type per kind of column (NetBox / strawberry-django names)."""

import enum
from typing import Any, NewType, Optional

import strawberry
from strawberry import UNSET
from strawberry.types.scalar import ScalarDefinition

from models.registry import Kind


@strawberry.input(description="Lookups on a text field.")
class StrFilterLookup:
    exact: Optional[str] = UNSET
    i_exact: Optional[str] = UNSET
    contains: Optional[str] = UNSET
    i_contains: Optional[str] = UNSET
    starts_with: Optional[str] = UNSET
    i_starts_with: Optional[str] = UNSET
    ends_with: Optional[str] = UNSET
    i_ends_with: Optional[str] = UNSET
    regex: Optional[str] = UNSET
    i_regex: Optional[str] = UNSET
    in_list: Optional[list[str]] = UNSET
    is_null: Optional[bool] = UNSET


def lookup_input(name: str, value: Any, operations: tuple[Any, ...], description: str, **options: Any) -> Any:
    """An input of lookups on one type of value: one definition for every such lookup,
    named as NetBox names it. An operation is a name (``exact``, ``gt``, ``in_list``,
    ``is_null``, …) or a (name, input type) pair for a nested lookup."""
    annotations: dict[str, Any] = {}
    for operation in operations:
        if isinstance(operation, tuple):
            annotations[operation[0]] = Optional[operation[1]]
        elif operation in ("in_list", "in_"):
            annotations[operation] = Optional[list[value]]
        elif operation in ("is_null", "isnull"):
            annotations[operation] = Optional[bool]
        else:
            annotations[operation] = Optional[value]
    cls = type(name, (), {"__module__": __name__, "__annotations__": annotations, **dict.fromkeys(annotations, UNSET)})
    return strawberry.input(cls, name=name, description=description, **options)


COMPARABLE = ("exact", "gt", "gte", "lt", "lte", "in_list", "is_null")
IntComparisonFilterLookup = lookup_input("IntComparisonFilterLookup", int, COMPARABLE, "Comparisons of an integer.")
IntRangeLookup = lookup_input("IntRangeLookup", int, ("start", "end"), "An integer between start and end, both included.")


def _nested(comparison: Any, between: Any) -> tuple[Any, ...]:
    """NetBox's IntegerLookup shape (``vid: {filter_lookup: {exact: 100}}``, or a range or a
    comparison lookup), taken beside the flat lookups (``vid: {exact: 100}``)."""
    return (*COMPARABLE, ("filter_lookup", comparison), ("range_lookup", between), ("comparison_lookup", comparison))


IntFilterLookup = lookup_input("IntFilterLookup", int, _nested(IntComparisonFilterLookup, IntRangeLookup), "Lookups on a number.")

BigInt = NewType("BigInt", int)

# Registered through StrawberryConfig.scalar_map (schema.root).
SCALAR_MAP: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="An integer beyond 32 bits (AS numbers), as NetBox's BigInt.",
        serialize=int,
        parse_value=int,
    )
}


@strawberry.input(description="An object type as NetBox names it: app label and model (dcim, site).")
class ContentTypeFilter:
    app_label: Optional[StrFilterLookup] = UNSET
    model: Optional[StrFilterLookup] = UNSET


@strawberry.input(description="One object of several possible types: its type as NetBox names it ('dcim.site') and its id.")
class ObjectReferenceInput:
    type: str
    id: strawberry.ID


BigIntComparisonFilterLookup = lookup_input("BigIntComparisonFilterLookup", BigInt, COMPARABLE, "Comparisons of a large number.")
BigIntRangeLookup = lookup_input("BigIntRangeLookup", BigInt, ("start", "end"), "A large number between start and end, both included.")
BigIntFilterLookup = lookup_input("BigIntFilterLookup", BigInt, _nested(BigIntComparisonFilterLookup, BigIntRangeLookup), "Lookups on a large number.")
# Decimals (coordinates, weights) filter the way NetBox's FloatLookup does: one of a plain,
# a comparison or a range lookup, e.g. `latitude: {comparison_lookup: {gt: 50}}`.
FloatFilterLookup = lookup_input("FloatFilterLookup", float, ("exact", "in_list", "is_null"), "Plain lookups on a decimal.")
FloatComparisonFilterLookup = lookup_input(
    "FloatComparisonFilterLookup", float, ("exact", "in_list", "is_null", "gt", "gte", "lt", "lte"), "Comparisons of a decimal."
)
FloatRangeLookup = lookup_input("FloatRangeLookup", float, ("start", "end"), "A decimal between start and end, both included.")
FloatLookup = lookup_input(
    "FloatLookup",
    float,
    (("filter_lookup", FloatFilterLookup), ("range_lookup", FloatRangeLookup), ("comparison_lookup", FloatComparisonFilterLookup)),
    "Lookup for decimal fields. Only one of the lookup fields can be set.",
    one_of=True,
)


@strawberry.input(description="Lookups on a true/false field.")
class BoolFilterLookup:
    exact: Optional[bool] = UNSET
    is_null: Optional[bool] = UNSET


@strawberry.input(description="Lookups on an id.")
class IDFilterLookup:
    exact: Optional[strawberry.ID] = UNSET
    in_list: Optional[list[strawberry.ID]] = UNSET
    is_null: Optional[bool] = UNSET


@strawberry.enum(name="TreeNodeMatch", description="Which nodes of a tree, around the one named, a tree filter matches.")
class TreeNodeMatch(enum.Enum):
    EXACT = "exact"  # the node itself
    DESCENDANTS = "descendants"  # everything below it, not itself
    SELF_AND_DESCENDANTS = "self_and_descendants"
    CHILDREN = "children"  # one level below
    SIBLINGS = "siblings"  # the same parent, not itself (a top-level node has none)
    ANCESTORS = "ancestors"  # everything above it, not itself
    PARENT = "parent"


@strawberry.input(description="NetBox's tree filter: objects in, under or above one node of a nested model (regions, locations, groups).")
class TreeNodeFilter:
    id: strawberry.ID
    match_type: TreeNodeMatch


@strawberry.input(description="Lookups on a timestamp or date (ISO 8601).")
class DateTimeFilterLookup:
    exact: Optional[str] = UNSET
    gt: Optional[str] = UNSET
    gte: Optional[str] = UNSET
    lt: Optional[str] = UNSET
    lte: Optional[str] = UNSET
    is_null: Optional[bool] = UNSET


@strawberry.input(description="Lookups on a prefix or address, textual and by containment.")
class NetFilterLookup:
    exact: Optional[str] = UNSET
    i_exact: Optional[str] = UNSET
    contains: Optional[str] = UNSET
    i_contains: Optional[str] = UNSET
    starts_with: Optional[str] = UNSET
    in_list: Optional[list[str]] = UNSET
    is_null: Optional[bool] = UNSET
    net_contains: Optional[str] = strawberry.field(default=UNSET, description="contains this address or prefix (>>)")
    net_contains_or_equals: Optional[str] = UNSET
    net_contained: Optional[str] = strawberry.field(default=UNSET, description="inside this prefix (<<)")
    net_contained_or_equal: Optional[str] = UNSET
    family: Optional[int] = strawberry.field(default=UNSET, description="4 or 6")


@strawberry.input(description="Page by offset, or by keyset: start after the id of the previous page's last row.")
class OffsetPaginationInput:
    offset: Optional[int] = UNSET
    limit: Optional[int] = UNSET
    start: Optional[strawberry.ID] = UNSET


# NetBox's ``custom_field_data`` filter: a path into the JSON (segments joined by ``__``)
# and one lookup on the value found there, e.g.
# `custom_field_data: {path: "circuit_ref", lookup: {string_lookup: {exact: "X-1"}}}`.
JSONStringLookup = lookup_input(
    "JSONStringLookup",
    str,
    ("exact", "i_exact", "contains", "i_contains", "starts_with", "i_starts_with", "ends_with", "i_ends_with", "in_", "isnull", "regex", "i_regex"),
    "String lookups for JSON field values.",
)
StrDateFilterLookup = lookup_input("StrDateFilterLookup", str, COMPARABLE, "Comparisons of an ISO 8601 date held as text.")
StrDatetimeFilterLookup = lookup_input("StrDatetimeFilterLookup", str, COMPARABLE, "Comparisons of an ISO 8601 date and time held as text.")
JSONLookup = lookup_input(
    "JSONLookup",
    str,
    (
        ("string_lookup", JSONStringLookup),
        ("int_range_lookup", IntRangeLookup),
        ("int_comparison_lookup", IntComparisonFilterLookup),
        ("float_range_lookup", FloatRangeLookup),
        ("float_comparison_lookup", FloatComparisonFilterLookup),
        ("date_lookup", StrDateFilterLookup),
        ("datetime_lookup", StrDatetimeFilterLookup),
        ("boolean_lookup", BoolFilterLookup),
    ),
    "Lookup for JSON field. Only one of the lookup fields can be set.",
    one_of=True,
)


@strawberry.input(description="A lookup on the value at a path inside a JSON field (segments joined by '__').")
class JSONFilter:
    path: str
    lookup: JSONLookup  # type: ignore[valid-type]


LOOKUP_BY_KIND = {
    Kind.string: StrFilterLookup,
    Kind.integer: IntFilterLookup,
    Kind.big_integer: BigIntFilterLookup,
    Kind.decimal: FloatLookup,
    Kind.boolean: BoolFilterLookup,
    Kind.uuid: IDFilterLookup,
    Kind.datetime: DateTimeFilterLookup,
    Kind.date: DateTimeFilterLookup,
    Kind.network: NetFilterLookup,
    Kind.interface: NetFilterLookup,
}
