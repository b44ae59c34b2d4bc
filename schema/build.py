"""Generate Strawberry types, filters and inputs from the model registry.

Every class is first created empty, so that types can refer to each other (a site's
prefixes, a prefix's site), then filled and decorated. Per-type extras (computed fields,
trees) come from ``schema.overrides``; nothing here names a particular model.

This module deliberately does not use ``from __future__ import annotations``: resolver
annotations must be the real classes at definition time.
"""

import builtins
import dataclasses
import enum
import ipaddress
import math
import re
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Optional, Union

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON

from models.choices import IPAddressFamily
from models.registry import Kind, ModelSpec, ScalarSpec, spec_for, specs
from resolvers import loaders
from resolvers.filters import assigned_filter, network_list_filter
from resolvers.prefetch import MISSING, RELATIONS, TYPE_MARK, Arc, Relation, filtered_list, prefetched, register
from resolvers.reads import nested_window
from schema.lookups import LOOKUP_BY_KIND, BigInt, ContentTypeFilter, JSONFilter, ObjectReferenceInput, OffsetPaginationInput, TreeNodeFilter, lookup_input


@dataclasses.dataclass
class Generated:
    """The classes generated for one model."""

    # builtins.type: inside this class body, a bare ``type`` would name the field below.
    spec: ModelSpec
    type: builtins.type
    filter: builtins.type
    create_input: Optional[builtins.type] = None
    update_input: Optional[builtins.type] = None


# Per model: the fields its override adds or replaces (computed in Python). The SQL
# compiler (resolvers/compiled.py) leaves a selection with one of them to the resolvers.
OVERRIDDEN: dict[str, frozenset[str]] = {}

_ENUMS: dict[type[enum.Enum], Any] = {}
_LOOKUPS: dict[type[enum.Enum], Any] = {}


def enum_member_name(prefix: str, value: str) -> str:
    """NetBox's GraphQL name of a choice: ``status`` + ``1000base-x`` → ``STATUS_1000BASE_X``."""
    key = re.sub(r"[^_A-Z0-9]", "_", str(value).upper())
    return f"{prefix}_{key}".upper() if prefix else key


def enum_graphql_name(enum_cls: type[enum.Enum]) -> str:
    """NetBox's name of a choice set's enum: ``PrefixStatusEnum``, ``ObjectChangeActionEnum``."""
    return getattr(enum_cls, "graphql_name", f"{enum_cls.__name__}Enum")


def graphql_enum(enum_cls: type[enum.Enum]) -> Any:
    """The GraphQL enum of a choice set, NetBox-named (``PrefixStatusEnum.STATUS_ACTIVE``).

    Filters and inputs take it; fields answer the plain value (``"active"``), as NetBox does."""
    if enum_cls not in _ENUMS:
        prefix = getattr(enum_cls, "graphql_prefix", "")
        name = enum_graphql_name(enum_cls)
        members = {enum_member_name(prefix, member.value): member.value for member in enum_cls}
        netbox_named: Any = enum.Enum(name, members)  # type: ignore[misc]  # built from data, by design
        _ENUMS[enum_cls] = strawberry.enum(netbox_named, name=name)
    return _ENUMS[enum_cls]


def choice_lookup(enum_cls: type[enum.Enum]) -> Any:
    """``<Enum>BaseFilterLookup``: exact, in_list, is_null over the NetBox-named enum."""
    if enum_cls not in _LOOKUPS:
        name = f"{enum_graphql_name(enum_cls)}BaseFilterLookup"
        operations = ("exact", "in_list", "is_null")
        _LOOKUPS[enum_cls] = lookup_input(name, graphql_enum(enum_cls), operations, f"Lookups on a {enum_cls.__name__} choice.")
    return _LOOKUPS[enum_cls]


@strawberry.type(description="An address family: 4 or 6, with its label (IPv4, IPv6).")
class IPAddressFamilyType:
    value: int
    label: str


def _family_field(column: str) -> Any:
    def family(root: Any) -> IPAddressFamilyType:
        version = ipaddress.ip_interface(getattr(root, column)).version
        return IPAddressFamilyType(value=version, label=f"IPv{version}")

    return strawberry.field(resolver=family, description=f"The address family of {column}.")


def _class_type_field(spec: ModelSpec) -> Any:
    """NetBox's ``class_type`` on every type: the model's class name ("Interface"), which
    tells a union's members apart as ``__typename`` does (the SQL compiler writes it too)."""
    class_name = spec.model.__name__

    def class_type() -> str:
        return class_name

    return strawberry.field(resolver=class_type, description="The object's class name, as NetBox's class_type.")


def _display_field(spec: ModelSpec) -> Any:
    """NetBox's ``display`` on every type: what the object reads as (models/display.py),
    prefetched per level like a relation, or loaded when the record was not."""
    relation = Relation(partial(loaders.display_loader, spec=spec), "id", None, many=False, computed=True, raw=True)
    register(spec.model.__name__, "display", relation)

    async def load(root: Any, info: strawberry.Info) -> str:
        return await relation.loader(info.context).load(root.id)

    def display(root: Any, info: strawberry.Info) -> str:
        answer = prefetched(root, "display")
        return answer if answer is not MISSING else load(root, info)  # type: ignore[return-value]

    return strawberry.field(resolver=display, description="What the object reads as (NetBox's display: its str()).")


def scalar_type(scalar: ScalarSpec) -> Any:
    base: Any = {
        Kind.string: str,
        Kind.integer: int,
        Kind.big_integer: BigInt,
        Kind.decimal: Decimal,
        Kind.boolean: bool,
        Kind.uuid: strawberry.ID,
        Kind.datetime: datetime,
        Kind.date: date,
        Kind.network: str,
        Kind.interface: str,
        Kind.json: JSON,
        Kind.strings: list[str],
        Kind.integers: list[int],
    }.get(scalar.kind)
    if scalar.kind is Kind.choice:
        base = str  # NetBox answers the value ("active"); inputs take the enum (input_scalar_type)
    return Optional[base] if scalar.nullable else base


def input_scalar_type(scalar: ScalarSpec) -> Any:
    """What an input field takes: a choice as its NetBox-named enum, else the output type."""
    if scalar.kind is Kind.choice:
        assert scalar.enum is not None
        return graphql_enum(scalar.enum)
    return scalar_type(dataclasses.replace(scalar, nullable=False))


def relation_annotation(owner: str, name: str, relation: Relation, annotation: Any) -> Any:
    """Register a relation for prefetching and return its field type: the field itself is a
    plain attribute that prefetching fills (see resolvers.prefetch)."""
    register(owner, name, relation)
    return annotation


def _relation_fields(spec: ModelSpec, types: dict[str, type]) -> dict[str, Any]:
    """Annotations of every relation field of ``spec``, registered for prefetching."""
    owner = spec.model.__name__
    fields: dict[str, Any] = {}
    for ref in spec.refs:
        relation = Relation(partial(loaders.by_id, spec=spec_for(ref.target)), ref.column, ref.target, many=False)
        fields[ref.name] = relation_annotation(owner, ref.name, relation, Optional[types[ref.target]])
    for reverse in spec.reverse:
        source = spec_for(reverse.source)
        if reverse.many:
            relation = Relation(partial(loaders.by_column, spec=source, column=reverse.column), "id", reverse.source, many=True, windowed=True)
            fields[reverse.name] = relation_annotation(owner, reverse.name, relation, list[types[reverse.source]])  # type: ignore[valid-type, name-defined]
        else:
            relation = Relation(partial(loaders.by_unique_column, spec=source, column=reverse.column), "id", reverse.source, many=False)
            fields[reverse.name] = relation_annotation(owner, reverse.name, relation, Optional[types[reverse.source]])
    for count in spec.counts:
        relation = Relation(partial(loaders.count_by_column, spec=spec_for(count.source), column=count.column), "id", None, many=False, raw=True)
        fields[count.name] = relation_annotation(owner, count.name, relation, int)
    for many in spec.many:
        relation = Relation(partial(loaders.many, relation=many), "id", many.target, many=True)
        fields[many.name] = relation_annotation(owner, many.name, relation, list[types[many.target]])  # type: ignore[valid-type, name-defined]
    for one_of in spec.one_of:
        arc = Arc(tuple((column, target, partial(loaders.by_id, spec=spec_for(target))) for target, column in one_of.members))
        register(owner, one_of.name, arc)
        fields[one_of.name] = Optional[union_of(one_of.union or _union_name(spec, one_of.name), [target for target, _ in one_of.members], types)]
    for carried in spec.inline:
        source = spec_for(carried.source)
        item = next(o for o in source.one_of if o.name == carried.item)
        relation = Relation(partial(loaders.inline, spec=source, carried=carried, item=item), "id", None, many=True, union=True)
        register(owner, carried.name, relation)
        members = [target for target, _ in item.members]
        fields[carried.name] = list[union_of(item.union or _union_name(source, item.name), members, types)]  # type: ignore[misc]
    for pointing in spec.object_reverse:
        relation = Relation(partial(loaders.by_object, spec=spec_for(pointing.source), content_type=spec.content_type), "id", pointing.source, many=True)
        fields[pointing.name] = relation_annotation(owner, pointing.name, relation, list[types[pointing.source]])  # type: ignore[valid-type, name-defined]
    if spec.tagged:
        relation = Relation(partial(loaders.tags, type_key=spec.type_key), "id", "Tag", many=True)
        fields["tags"] = relation_annotation(owner, "tags", relation, list[types["Tag"]])  # type: ignore[valid-type, name-defined]  # noqa: F821 (a dict key, not a forward reference)
    columns = {c.name for c in spec.table.columns}
    clashing = columns & set(fields)
    assert not clashing, f"{owner}: relation names {clashing} clash with columns"
    return fields


_UNIONS: dict[str, Any] = {}


def union_of(name: str, members: list[str], types: dict[str, type]) -> Any:
    """The union type ``name`` of these models' types, made once: fields answering the same
    union (a termination's ``termination``, a cable's ``a_terminations``) share it."""
    if name not in _UNIONS:
        _UNIONS[name] = Annotated[Union[tuple(types[m] for m in members)], strawberry.union(name)]
    return _UNIONS[name]


def _union_name(spec: ModelSpec, field_name: str) -> str:
    """NetBox's usual name for a one-of field's union: ``PrefixScopeType`` (a declaration
    names it where NetBox does otherwise: ``IPAddressAssignmentType``)."""
    return f"{spec.type_name}{''.join(part.title() for part in field_name.split('_'))}Type"


def _member_of_unions(type_name: str) -> Any:
    """``is_type_of`` for a type that is a union member: a record loaded through a one-of
    reference carries its type (resolvers.prefetch.TYPE_MARK); any other record is
    reached through a field of this very type."""

    def is_type_of(obj: Any, info: Any) -> bool:
        mark = getattr(obj, "__dict__", {}).get(TYPE_MARK)
        return mark is None or mark == type_name

    return is_type_of


def _page_lists(owner: str, annotations: dict[str, Any], attributes: dict[str, Any], filters: dict[str, type]) -> None:
    """Every list relation takes ``pagination`` (offset, limit): its field reads the page
    prefetching stored for those arguments (resolvers.reads.Window.slot). A reverse list
    (a device's interfaces) also takes NetBox's ``filters``: then its field loads it."""
    for name, relation in RELATIONS.get(owner, {}).items():
        if isinstance(relation, Relation) and relation.many and name in annotations:
            described = getattr(attributes.get(name), "description", None)
            filter_type = filters[relation.target] if relation.windowed and relation.target is not None else None
            attributes[name] = _paged_field(owner, name, annotations.pop(name), described, filter_type)


def _paged_field(owner: str, name: str, annotation: Any, description: Optional[str], filter_type: type | None) -> Any:
    def read_page(root: Any, pagination: Optional[OffsetPaginationInput] = None) -> Any:
        return root.__dict__[nested_window(pagination, math.inf).slot(name)]

    def read_filtered(root: Any, info: strawberry.Info, pagination: Optional[OffsetPaginationInput] = None, filters: Any = None) -> Any:
        if filters is None:
            return read_page(root, pagination)
        return filtered_list(info.context, info, owner, name, root, pagination, filters)  # awaited by the executor

    resolve: Any = read_page
    if filter_type is not None:
        read_filtered.__annotations__["filters"] = Optional[filter_type]
        resolve = read_filtered
    resolve.__annotations__["return"] = annotation
    resolve.__name__ = name
    more = " Without pagination.limit, at most DANBYTE_MAX_NESTED_LIST items (extensions.truncated says when a list is cut)."
    return strawberry.field(resolver=resolve, description=(description or "") + more)


def _fill(cls: type, annotations: dict[str, Any], attributes: dict[str, Any]) -> None:
    cls.__annotations__ = annotations
    for name, value in attributes.items():
        setattr(cls, name, value)


def build_types(overrides: dict[str, Any]) -> dict[str, Generated]:
    """Output types, filters and inputs for every exposed model."""
    all_specs = specs()
    types = {name: type(f"{spec.type_name}Type", (), {"__module__": __name__}) for name, spec in all_specs.items()}
    filters = {name: type(f"{spec.type_name}Filter", (), {"__module__": __name__}) for name, spec in all_specs.items()}
    generated: dict[str, Generated] = {}
    # Types some union answers: every one-of target (cable endpoints among them).
    union_members = {target for spec in all_specs.values() for one_of in spec.one_of for target, _ in one_of.members}

    for name, spec in all_specs.items():
        annotations: dict[str, Any] = {"id": strawberry.ID}
        attributes: dict[str, Any] = {}
        for scalar in spec.scalars:
            if scalar.name != "id" and not scalar.secret:  # a secret is write-only
                annotations[scalar.name] = scalar_type(scalar)
        annotations.update(_relation_fields(spec, types))
        if spec.family_column is not None:
            attributes["family"] = _family_field(spec.family_column)
        attributes["class_type"] = _class_type_field(spec)
        attributes["display"] = _display_field(spec)
        extra = overrides.get(name)
        if extra is not None:
            extra_annotations, extra_attributes = extra(types)
            OVERRIDDEN[name] = frozenset(extra_annotations) | frozenset(extra_attributes)
            annotations.update(extra_annotations)
            attributes.update(extra_attributes)
        _page_lists(spec.model.__name__, annotations, attributes, filters)
        _fill(types[name], annotations, attributes)
        strawberry.type(types[name], name=f"{spec.type_name}Type", description=(spec.model.__doc__ or "").strip() or None)
        if name in union_members:
            types[name].__strawberry_definition__.is_type_of = _member_of_unions(name)  # type: ignore[attr-defined]

        _fill(filters[name], *_filter_fields(spec, filters))
        strawberry.input(filters[name], name=f"{spec.type_name}Filter")

        generated[name] = Generated(spec, types[name], filters[name])
        if any(s.writable for s in spec.scalars):
            generated[name].create_input = _input(spec, create=True)
            generated[name].update_input = _input(spec, create=False)
    return generated


def _filter_fields(spec: ModelSpec, filters: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for scalar in spec.scalars:
        lookup = choice_lookup(scalar.enum) if scalar.kind is Kind.choice and scalar.enum else LOOKUP_BY_KIND.get(scalar.kind)
        if lookup is not None and not scalar.secret:  # filtering on a secret would disclose it
            annotations[scalar.name] = Optional[lookup]
    for ref in spec.refs:
        annotations[ref.name] = Optional[filters[ref.target]]
        annotations[f"{ref.name}_id"] = Optional[LOOKUP_BY_KIND[Kind.uuid]]
    for one_of in spec.one_of:
        # NetBox's generic-foreign-key filters: `scope_type: {app_label, model}`, `scope_id`.
        annotations[f"{one_of.name}_type"] = Optional[ContentTypeFilter]
        annotations[f"{one_of.name}_id"] = Optional[strawberry.ID]
    if spec.tagged:
        annotations["tag"] = Optional[list[str]]
        # NetBox's spelling: objects with a tag that matches the tag filter.
        tag_filter = filters["Tag"]
        annotations["tags"] = Optional[tag_filter]
    if spec.scalar("custom_fields") is not None:
        annotations["custom_field_data"] = Optional[JSONFilter]
    if spec.family_column is not None:
        annotations["family"] = Optional[graphql_enum(IPAddressFamily)]
    if assigned_filter(spec) is not None and "assigned" not in annotations:
        annotations["assigned"] = Optional[bool]
    networks = network_list_filter(spec)
    if networks is not None and networks not in annotations:
        annotations[networks] = Optional[list[str]]
    for name, category in spec.categories.items():
        annotations[name] = Optional[graphql_enum(category.enum)]
    for name, hops in spec.filter_through.items():
        if name not in annotations:
            annotations[name] = Optional[filters[spec.through_target(hops)]]
    for name in spec.tree_filters:
        annotations[name] = Optional[TreeNodeFilter]  # in place of an id lookup of the same name
    own = filters[spec.model.__name__]
    annotations.update({"AND": Optional[own], "OR": Optional[own], "NOT": Optional[own]})
    for name in annotations:
        defaults[name] = UNSET
    return annotations, defaults


def _input(spec: ModelSpec, create: bool) -> type:
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}

    def add(name: str, annotation: Any, required: bool) -> None:
        if required:
            annotations[name] = annotation
        else:
            annotations[name] = Optional[annotation]
            defaults[name] = UNSET

    for scalar in spec.scalars:
        if not scalar.writable:
            continue
        base = input_scalar_type(scalar)
        add(scalar.name, base, create and not scalar.nullable and not scalar.has_default)
    for ref in spec.refs:
        if ref.writable:
            add(ref.name, strawberry.ID, create and not ref.nullable and ref.name != "tenant")
    for relation in spec.many:
        add(relation.name, list[strawberry.ID], False)
    for one_of in spec.one_of:
        add(one_of.name, ObjectReferenceInput, create and not one_of.nullable)
    for carried in spec.inline:
        add(carried.name, list[ObjectReferenceInput], create and carried.required)
    if spec.tagged:
        add("tags", list[strawberry.ID], False)
    suffix = "CreateInput" if create else "UpdateInput"
    cls = type(f"{spec.type_name}{suffix}", (), {"__module__": __name__})
    _fill(cls, annotations, defaults)
    return strawberry.input(cls, name=f"{spec.type_name}{suffix}")


def input_dict(value: Any) -> dict[str, Any]:
    """A Strawberry input object → the fields the client set (null included); a choice
    arrives as its GraphQL enum member and leaves as its value (``"active"``)."""
    if value is None or value is UNSET:
        return {}
    fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if getattr(value, f.name) is not UNSET}
    return {name: v.value if isinstance(v, enum.Enum) else v for name, v in fields.items()}
