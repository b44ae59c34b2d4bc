"""Generate Strawberry types, filters and inputs from the model registry.

Every class is first created empty, so that types can refer to each other (a site's
prefixes, a prefix's site), then filled and decorated. Per-type extras (computed fields,
trees) come from ``schema.overrides``; nothing here names a particular model.

This module deliberately does not use ``from __future__ import annotations``: resolver
annotations must be the real classes at definition time.
"""

import dataclasses
import enum
from datetime import date, datetime
from typing import Any, Optional

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON

from models.registry import Kind, ModelSpec, ScalarSpec, spec_for, specs
from resolvers import loaders
from resolvers.context import RequestContext
from schema.lookups import LOOKUP_BY_KIND, BigInt


@dataclasses.dataclass
class Generated:
    """The classes generated for one model."""

    spec: ModelSpec
    type: type
    filter: type
    create_input: Optional[type] = None
    update_input: Optional[type] = None


_ENUMS: dict[type[enum.Enum], Any] = {}


def graphql_enum(enum_cls: type[enum.Enum]) -> Any:
    if enum_cls not in _ENUMS:
        _ENUMS[enum_cls] = strawberry.enum(enum_cls)
    return _ENUMS[enum_cls]


def scalar_type(scalar: ScalarSpec) -> Any:
    base: Any = {
        Kind.string: str,
        Kind.integer: int,
        Kind.big_integer: BigInt,
        Kind.boolean: bool,
        Kind.uuid: strawberry.ID,
        Kind.datetime: datetime,
        Kind.date: date,
        Kind.network: str,
        Kind.interface: str,
        Kind.json: JSON,
        Kind.strings: list[str],
    }.get(scalar.kind)
    if scalar.kind is Kind.choice:
        assert scalar.enum is not None
        base = graphql_enum(scalar.enum)
    return Optional[base] if scalar.nullable else base


def _context(info: strawberry.Info) -> RequestContext:
    return info.context


def _ref_field(column: str, target_name: str, target_type: type) -> Any:
    # Sync resolvers that hand graphql-core the loader's future: no coroutine per row.
    def resolve(root: Any, info: strawberry.Info) -> Optional[target_type]:  # type: ignore[valid-type]
        value = getattr(root, column)
        if value is None:
            return None
        return loaders.by_id(_context(info), spec_for(target_name)).load(value)

    return strawberry.field(resolver=resolve)


def _reverse_field(source_name: str, column: str, source_type: type) -> Any:
    def resolve(root: Any, info: strawberry.Info) -> list[source_type]:  # type: ignore[valid-type]
        return loaders.by_column(_context(info), spec_for(source_name), column).load(root.id)

    return strawberry.field(resolver=resolve)


def _many_field(relation: Any, target_type: type) -> Any:
    def resolve(root: Any, info: strawberry.Info) -> list[target_type]:  # type: ignore[valid-type]
        return loaders.many(_context(info), relation).load(root.id)

    return strawberry.field(resolver=resolve)


def _tags_field(type_key: str, tag_type: type) -> Any:
    def resolve(root: Any, info: strawberry.Info) -> list[tag_type]:  # type: ignore[valid-type]
        return loaders.tags(_context(info), type_key).load(root.id)

    return strawberry.field(resolver=resolve)


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

    for name, spec in all_specs.items():
        annotations: dict[str, Any] = {"id": strawberry.ID}
        attributes: dict[str, Any] = {}
        for scalar in spec.scalars:
            if scalar.name != "id":
                annotations[scalar.name] = scalar_type(scalar)
        for ref in spec.refs:
            attributes[ref.name] = _ref_field(ref.column, ref.target, types[ref.target])
        for reverse in spec.reverse:
            attributes[reverse.name] = _reverse_field(reverse.source, reverse.column, types[reverse.source])
        for relation in spec.many:
            attributes[relation.name] = _many_field(relation, types[relation.target])
        if spec.tagged:
            attributes["tags"] = _tags_field(spec.type_key, types["Tag"])
        extra = overrides.get(name)
        if extra is not None:
            attributes.update(extra(types))
        _fill(types[name], annotations, attributes)
        strawberry.type(types[name], name=f"{spec.type_name}Type", description=(spec.model.__doc__ or "").strip() or None)

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
        lookup = LOOKUP_BY_KIND.get(scalar.kind)
        if lookup is not None:
            annotations[scalar.name] = Optional[lookup]
    for ref in spec.refs:
        annotations[ref.name] = Optional[filters[ref.target]]
        annotations[f"{ref.name}_id"] = Optional[LOOKUP_BY_KIND[Kind.uuid]]
    if spec.tagged:
        annotations["tag"] = Optional[list[str]]
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
        base = scalar_type(dataclasses.replace(scalar, nullable=False))
        add(scalar.name, base, create and not scalar.nullable and not scalar.has_default)
    for ref in spec.refs:
        add(ref.name, strawberry.ID, create and not ref.nullable and ref.name != "tenant")
    for relation in spec.many:
        add(relation.name, list[strawberry.ID], False)
    if spec.tagged:
        add("tags", list[strawberry.ID], False)
    suffix = "CreateInput" if create else "UpdateInput"
    cls = type(f"{spec.type_name}{suffix}", (), {"__module__": __name__})
    _fill(cls, annotations, defaults)
    return strawberry.input(cls, name=f"{spec.type_name}{suffix}")


def input_dict(value: Any) -> dict[str, Any]:
    """A Strawberry input object → the fields the client set (null included)."""
    if value is None or value is UNSET:
        return {}
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if getattr(value, f.name) is not UNSET}
