"""One description of every exposed model, read once from the SQLAlchemy metadata.

The GraphQL types, filters, inputs and mutations, the dataloaders and the write path
are all generated from these specs: adding a model is a declaration, not new code.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import CIDR, INET, JSONB

from models import ordering as list_order
from models.base import (
    NO_REVERSE,
    Base,
    DeclarationError,
    ManyToMany,
    Ordering,
    OrgModel,
    Ref,
    TenantModel,
    TenantScoped,
    all_models,
    association_columns,
    association_name,
    model_by_name,
    plural,
    snake,
    table_of,
)

# Columns the API never writes directly.
SYSTEM_COLUMNS = {"id", "tenant_id", "org_id", "numid", "created", "last_updated"}


class Kind(enum.Enum):
    """What a scalar column holds, as far as filters, inputs and validation care."""

    string = "string"
    integer = "integer"
    big_integer = "big_integer"  # beyond GraphQL's 32-bit Int (ASNs)
    decimal = "decimal"  # exact decimals (coordinates), GraphQL's Decimal as NetBox answers them
    boolean = "boolean"
    uuid = "uuid"
    datetime = "datetime"
    date = "date"
    network = "network"  # cidr: a network, host bits must be zero
    interface = "interface"  # inet: an address with its mask
    choice = "choice"
    json = "json"
    strings = "strings"  # a text array
    integers = "integers"  # an integer array (a reservation's rack units)


@dataclass(frozen=True)
class ScalarSpec:
    name: str
    kind: Kind
    nullable: bool
    max_length: int | None = None
    enum: type[enum.Enum] | None = None
    has_default: bool = False
    writable: bool = True
    bounds: tuple[Any, Any] | None = None
    # A string a create must give and that may not be blank (names, slugs).
    required: bool = False
    # A string with a declared shape the write path checks (``hex_color``).
    format: str | None = None
    # An integer that must be one of these values (a rack's width in inches).
    choices: tuple[int, ...] | None = None
    # The column is read as text in SQL (an address with its mask): compiled reads do too.
    column_text: bool = False
    # Sealed at rest, write-only: no output field, no filter (resolvers/secrets.py).
    secret: bool = False
    # A JSON column that holds any JSON value (a custom field's default), not only an object.
    any_json: bool = False


@dataclass(frozen=True)
class RefSpec:
    """A to-one relation: GraphQL field ``name`` reads column ``column``."""

    name: str
    column: str
    target: str
    nullable: bool
    writable: bool = True


@dataclass(frozen=True)
class ReverseSpec:
    """A to-many relation: rows of ``source`` whose ``column`` points at this object; a
    to-one relation (``many`` False) where that column is unique (a bay's installed module)."""

    name: str
    source: str
    column: str
    many: bool = True


@dataclass(frozen=True)
class OneOfSpec:
    """A reference to one object of several types: GraphQL field ``name`` is a union of
    ``members`` (target class name → the column that holds its id)."""

    name: str
    members: tuple[tuple[str, str], ...]
    nullable: bool
    # The union's GraphQL name where NetBox's is not ``<Type><Field>Type``.
    union: str | None = None


@dataclass(frozen=True)
class InlineSpec:
    """Rows of ``source`` a write of this model carries (models.base.Inline): those whose
    ``parent`` column is the object and whose ``fixed`` columns match, given as ``item``."""

    name: str
    source: str
    parent: str
    item: str
    fixed: tuple[tuple[str, str], ...]
    required: bool


@dataclass(frozen=True)
class CountSpec:
    """A field counting the rows of ``source`` whose ``column`` points at this object."""

    name: str
    source: str
    column: str


@dataclass(frozen=True)
class ObjectReverseSpec:
    """The rows of ``source`` whose any-object reference (models.base.AnyObject) points at
    an object of this type, answered as field ``name``."""

    name: str
    source: str


@dataclass(frozen=True)
class ManySpec:
    """A many-to-many relation through an association table."""

    name: str
    table: str
    local: str
    remote: str
    target: str


@dataclass
class ModelSpec:
    model: type[Base]
    name: str  # GraphQL field name: ``ip_address``
    type_name: str  # ``IPAddress``
    scalars: list[ScalarSpec] = field(default_factory=list)
    refs: list[RefSpec] = field(default_factory=list)
    reverse: list[ReverseSpec] = field(default_factory=list)
    many: list[ManySpec] = field(default_factory=list)
    one_of: list[OneOfSpec] = field(default_factory=list)
    counts: list[CountSpec] = field(default_factory=list)
    inline: list[InlineSpec] = field(default_factory=list)
    object_reverse: list[ObjectReverseSpec] = field(default_factory=list)
    # ordering_within's answers, by columns.
    _orders_within: dict[tuple[str, ...], tuple[sa.ColumnElement[Any], ...]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def any_object(self) -> Any:
        """The model's reference to an object of any type (models.base.AnyObject), if any."""
        return getattr(self.model, "__any_object__", None)

    def may_point_at(self, target: ModelSpec) -> bool:
        """Whether this model's any-object reference may name a ``target`` row: another
        tenant-scoped type without an any-object reference of its own, of the declared
        targets (all, when none are declared)."""
        return (
            self.any_object is not None
            and target is not self
            and target.tenant_scoped
            and target.any_object is None
            and self.any_object.accepts(target.type_name)
        )

    @cached_property
    def content_type(self) -> str:
        return content_type(self.model)

    @cached_property
    def categories(self) -> dict[str, Any]:
        """Filters by category of a choice column (models.base.Category), by filter name."""
        return dict(getattr(self.model, "__categories__", {}))

    @property
    def table(self) -> sa.Table:
        return table_of(self.model)

    @property
    def type_key(self) -> str:
        return self.model.__tablename__

    @property
    def tenant_scoped(self) -> bool:
        return issubclass(self.model, TenantScoped)

    @property
    def org_scoped(self) -> bool:
        return issubclass(self.model, OrgModel)

    @property
    def numbered(self) -> bool:
        return issubclass(self.model, TenantModel)

    @property
    def tenant_from(self) -> tuple[str, ...]:
        """References whose target's tenant a new row takes (its tenant is not an input)."""
        return getattr(self.model, "__tenant_from__", ())

    @property
    def tagged(self) -> bool:
        return self.model.__tagged__

    @property
    def read_only(self) -> bool:
        return self.model.__read_only__

    @cached_property
    def family_column(self) -> str | None:
        """The address column whose family the type answers (``family { value label }``):
        the address the object is, never null (a device's optional management address is
        no such column)."""
        return next((s.name for s in self.scalars if s.kind in (Kind.network, Kind.interface) and not s.nullable), None)

    @cached_property
    def order_plan(self) -> list_order.Plan:
        """What lists are ordered by: the model's ``__ordering__``, then the id (models/ordering.py)."""
        return list_order.plan(self.model)

    @cached_property
    def ordering(self) -> tuple[sa.ColumnElement[Any], ...]:
        """The list order as ORDER BY expressions over the model's table."""
        return list_order.expressions(self.order_plan, self.table)

    @cached_property
    def page_order(self) -> tuple[sa.FromClause, tuple[sa.ColumnElement[Any], ...]]:
        """A root list's order: the model's table LEFT JOINed to the rows it orders through
        (the FROM of the page statement), and the ORDER BY expressions over it."""
        return list_order.joined(self.order_plan, self.table)

    def ordering_within(self, *columns: str) -> tuple[sa.ColumnElement[Any], ...]:
        """The list order of rows that share one value of each of ``columns`` (a loader's
        partition by ``device_id``): the terms that depend on those alone are left out."""
        if columns not in self._orders_within:
            self._orders_within[columns] = list_order.expressions(list_order.within(self.order_plan, columns), self.table)
        return self._orders_within[columns]

    def order_sql(self, alias: str, within: tuple[str, ...] = (), terms: Ordering | None = None) -> tuple[str, ...]:
        """The list order as SQL text over the row alias ``alias`` (the SQL compiler's),
        without the terms constant ``within`` those columns; ``terms``: another order of
        this model's rows than its own (a derived relation's)."""
        order = self.order_plan if terms is None else list_order.plan(self.model, terms)
        return list_order.texts(list_order.within(order, within), alias)

    @cached_property
    def natural_keys(self) -> list[tuple[str, str, Any, int]]:
        """(key column, source column, key function, length) of every natural_key column."""
        return [(c.name, *c.info["natural"]) for c in self.table.columns if "natural" in c.info]

    def links(self) -> list[tuple[str, str, str]]:
        """(field, column, target) of every reference but the tenant: plain ones and each
        member of each one-of (an inventory item's ``component``)."""
        plain = [(ref.name, ref.column, ref.target) for ref in self.refs if ref.name != "tenant"]
        return plain + [(one_of.name, column, target) for one_of in self.one_of for target, column in one_of.members]

    @cached_property
    def secret_names(self) -> frozenset[str]:
        """Columns holding sealed secrets (write-only, never logged)."""
        return frozenset(s.name for s in self.scalars if s.secret)

    @cached_property
    def filter_through(self) -> dict[str, tuple[str, ...]]:
        """Filters that follow references (``models.base.Base.__filter_through__``), the
        model's own and its base classes'."""
        return _declared_up_the_classes(self.model, "__filter_through__")

    @cached_property
    def tree_filters(self) -> dict[str, tuple[str, ...]]:
        """NetBox's tree filters (``models.base.Base.__tree_filters__``): filter name → the
        references followed to a model nested by its ``parent``."""
        found = _declared_up_the_classes(self.model, "__tree_filters__")
        for name, hops in found.items():
            target = specs()[self.through_target(hops)]
            parent = target.ref("parent")
            if parent is None or parent.target != target.model.__name__:
                raise DeclarationError(f"{self.type_name}.__tree_filters__[{name!r}]: {target.type_name} is not nested by a parent")
        return found

    def through_target(self, hops: tuple[str, ...]) -> str:
        """The model the last of ``hops`` (reference names, from this model) points at."""
        spec: ModelSpec = self
        for hop in hops:
            ref = spec.ref(hop)
            if ref is None:
                raise DeclarationError(f"{self.type_name}.__filter_through__: {spec.type_name} has no reference {hop!r}")
            spec = specs()[ref.target]
        return spec.type_name

    def scalar(self, name: str) -> ScalarSpec | None:
        return next((s for s in self.scalars if s.name == name), None)

    def ref(self, name: str) -> RefSpec | None:
        return next((r for r in self.refs if r.name == name), None)


def exposed_models() -> list[type[Base]]:
    """Models with generated GraphQL (``__exposed__``), in declaration order. Auth models
    keep hand-written admin mutations (secrets must never be generated fields)."""
    return [model for model in all_models() if model.__exposed__]


def _target_of(column: sa.Column) -> str:
    """The model class name a plain foreign-key column points at (``tenant_id`` → ``Tenant``)."""
    (key,) = [k for k in column.foreign_keys if k.constraint is not None and len(k.constraint.columns) == 1]  # not composite keys
    target_table = key.column.table
    return next(model.__name__ for model in all_models() if table_of(model) is target_table)


def _kind(column: sa.Column) -> tuple[Kind, type[enum.Enum] | None]:
    col_type = column.type
    if isinstance(col_type, sa.Enum):
        return Kind.choice, col_type.enum_class
    if isinstance(col_type, CIDR):
        return Kind.network, None
    if isinstance(col_type, INET):
        return Kind.interface, None
    if isinstance(col_type, JSONB):
        return Kind.json, None
    if isinstance(col_type, sa.ARRAY):
        return (Kind.integers if isinstance(col_type.item_type, sa.Integer) else Kind.strings), None
    if isinstance(col_type, sa.Uuid):
        return Kind.uuid, None
    if isinstance(col_type, sa.BigInteger):
        return Kind.big_integer, None
    if isinstance(col_type, sa.Numeric) and not isinstance(col_type, sa.Float):
        return Kind.decimal, None
    python_type = col_type.python_type
    if python_type is bool:
        return Kind.boolean, None
    if python_type is int:
        return Kind.integer, None
    if python_type is datetime:
        return Kind.datetime, None
    if python_type is date:
        return Kind.date, None
    if python_type is str:
        return Kind.string, None
    raise TypeError(f"no GraphQL kind for column {column}")


def _reads_as_text(column: sa.Column[Any]) -> bool:
    """The column's type changes how it is read (``AddressWithMask``: cast to text)."""
    from models.base import AddressWithMask

    return isinstance(column.type, AddressWithMask)


@cache
def specs() -> dict[str, ModelSpec]:
    """Every exposed model's spec, keyed by model class name."""
    result: dict[str, ModelSpec] = {}
    for model in exposed_models():
        class_name = model.__name__
        name = model.__graphql_name__ or snake(class_name)
        spec = ModelSpec(model=model, name=name, type_name=class_name)
        for field_name, declared in getattr(model, "__one_of__", {}).items():
            members = tuple((target, declared.column(field_name, target)) for target in declared.targets)
            spec.one_of.append(OneOfSpec(field_name, members, declared.nullable, declared.union))
        for column in table_of(model).columns:
            ref: Ref | None = column.info.get("ref")
            if column.info.get("one_of"):
                continue  # a member of a one-of reference (spec.one_of)
            if column.info.get("hidden"):
                continue  # a sort key (natural_key) no client reads or writes
            if ref is not None:
                writable = not column.info.get("derived") and not model.__read_only__
                spec.refs.append(RefSpec(column.name.removesuffix("_id"), column.name, ref.target, bool(column.nullable), writable))
                continue
            if column.name in ("tenant_id",) and spec.tenant_scoped:
                # An owned row's tenant is its owner's: readable, never an input.
                spec.refs.append(RefSpec("tenant", "tenant_id", _target_of(column), False, writable=not spec.tenant_from))
                continue
            if column.name in ("org_id",):
                continue
            kind, enum_cls = _kind(column)
            max_length = column.info.get("secret_length") or (getattr(column.type, "length", None) if kind is Kind.string else None)
            spec.scalars.append(
                ScalarSpec(
                    name=column.name,
                    kind=kind,
                    nullable=bool(column.nullable),
                    max_length=max_length,
                    enum=enum_cls,
                    has_default=column.default is not None or column.server_default is not None,
                    writable=column.name not in SYSTEM_COLUMNS and not model.__read_only__ and not column.info.get("derived"),
                    bounds=column.info.get("bounds"),
                    required=bool(column.info.get("required")),
                    format=column.info.get("format"),
                    choices=tuple(int(c) for c in column.info["choices"]) if "choices" in column.info else None,
                    column_text=_reads_as_text(column),
                    secret=bool(column.info.get("secret")),
                    any_json=bool(column.info.get("any_json")),
                )
            )
        for field_name, carried in getattr(model, "__inline__", {}).items():
            parent = table_of(model_by_name(carried.source)).c[f"{carried.parent}_id"]
            spec.inline.append(InlineSpec(field_name, carried.source, parent.name, carried.item, carried.fixed, carried.required))
        for field_name, m2m in getattr(model, "__many__", {}).items():
            target = model_by_name(m2m.target)
            table = association_name(model, field_name, m2m)
            local, remote = association_columns(model, target)
            if field_name == "tags" and spec.tagged:
                raise DeclarationError(f"{class_name}.tags is both its tags and a many-to-many field: set __tagged__ = False")
            spec.many.append(ManySpec(field_name, table, local, remote, m2m.target))
        result[class_name] = spec
    _add_reverse_relations(result)
    for spec in result.values():
        spec.order_plan  # noqa: B018 (a declaration error surfaces when the registry is built)
    return result


def _add_reverse_relations(result: dict[str, ModelSpec]) -> None:
    declared_many = [(spec, many) for spec in result.values() for many in spec.many]
    claimed: dict[tuple[str, str], str] = {}

    def claim(target: str, name: str, by: str) -> None:
        # Two relations answering under one name on the same type: the second would
        # silently replace the first.
        taken = _field_names(result[target]) | set(claimed_names(target))
        if name in taken:
            first = claimed.get((target, name), f"{target}.{name}")
            raise DeclarationError(f"{by} and {first} both claim the field {target}.{name}: give one of them another related_name")
        claimed[(target, name)] = by

    def claimed_names(target: str) -> list[str]:
        return [name for (owner, name) in claimed if owner == target]

    for spec in result.values():
        for column in spec.table.columns:
            ref: Ref | None = column.info.get("ref")
            if ref is None or ref.target not in result or ref.related_name == NO_REVERSE:
                continue
            name = ref.related_name or plural(spec.name)
            claim(ref.target, name, f"{spec.type_name}.{column.name}")
            result[ref.target].reverse.append(ReverseSpec(name, spec.model.__name__, column.name, many=not _unique(column)))
            if ref.counted:
                claim(ref.target, ref.counted, f"{spec.type_name}.{column.name} (count)")
                result[ref.target].counts.append(CountSpec(ref.counted, spec.model.__name__, column.name))
        if spec.tenant_scoped:
            tenant = spec.ref("tenant")
            assert tenant is not None
            name = getattr(spec.model, "__tenant_related_name__", None) or plural(spec.name)
            claim(tenant.target, name, f"{spec.type_name}.tenant_id")
            result[tenant.target].reverse.append(ReverseSpec(name, spec.model.__name__, "tenant_id"))
    for spec, many in declared_many:
        m2m: ManyToMany = spec.model.__many__[many.name]  # type: ignore[attr-defined]
        if m2m.related_name == NO_REVERSE:
            continue  # the target does not list the objects pointing at it
        reverse_name = m2m.related_name or plural(spec.name)
        claim(many.target, reverse_name, f"{spec.type_name}.{many.name}")
        result[many.target].many.append(ManySpec(reverse_name, many.table, many.remote, many.local, spec.model.__name__))
    # Any-object references answer on every tenant-scoped type but their own, where the
    # name is free (a contact group's ``contacts`` are its members, not assignments).
    for source in result.values():
        if source.any_object is None:
            continue
        for target in result.values():
            name = source.any_object.related_name
            if not source.may_point_at(target):
                continue
            if name in _field_names(target) | set(claimed_names(target.type_name)):
                continue
            claimed[(target.type_name, name)] = f"{source.type_name}.object"
            target.object_reverse.append(ObjectReverseSpec(name, source.type_name))


def _unique(column: sa.Column) -> bool:
    """Whether the column alone is unique (a one-to-one relation)."""
    return any(isinstance(c, sa.UniqueConstraint) and [col.name for col in c.columns] == [column.name] for c in column.table.constraints)


def _field_names(spec: ModelSpec) -> set[str]:
    """Names a type already answers to from its own declaration (columns, references, many-to-many)."""
    return (
        {s.name for s in spec.scalars}
        | {r.name for r in spec.refs}
        | {m.name for m in spec.many}
        | {o.name for o in spec.one_of}
        | {i.name for i in spec.inline}
    )


def spec_for(class_name: str) -> ModelSpec:
    return specs()[class_name]


def type_keys() -> frozenset[str]:
    """Every object type a permission can name."""
    return frozenset(spec.type_key for spec in specs().values())


@cache
def content_type(model: type[Base]) -> str:
    """NetBox's name for a model's type: ``dcim.site``, ``ipam.ipaddress`` (the app label
    is the models module's ``APP_LABEL``)."""
    path = model.__module__.split(".")
    # The nearest module or package that declares one (models.dcim for models.dcim.racks).
    for depth in range(len(path), 0, -1):
        label = getattr(sys.modules.get(".".join(path[:depth])), "APP_LABEL", None)
        if label:
            return f"{label}.{model.__name__.lower()}"
    return f"{path[-1]}.{model.__name__.lower()}"


def spec_by_content_type(name: str) -> ModelSpec | None:
    """The model NetBox names ``name`` (``dcim.site``), if exposed."""
    return next((spec for spec in specs().values() if spec.content_type == name), None)


def spec_by_type_key(type_key: str) -> ModelSpec:
    for spec in specs().values():
        if spec.type_key == type_key:
            return spec
    raise KeyError(type_key)


def column_value_for_json(value: Any) -> Any:
    """Make a column value JSON-safe for change-log snapshots and events."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, list):
        return [column_value_for_json(v) for v in value]
    if isinstance(value, dict):
        return value
    return str(value)


def _declared_up_the_classes(model: type, attribute: str) -> dict[str, tuple[str, ...]]:
    """A dict class attribute merged over the class and its bases (the class's own win)."""
    merged: dict[str, tuple[str, ...]] = {}
    for cls in reversed(model.__mro__):
        merged.update(cls.__dict__.get(attribute, {}))
    return merged
