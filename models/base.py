"""The model ladder every Danbyte table stands on.

    Base ─ OrgModel (organisation-wide: tenants, tenant groups, tags)
         └ TenantScoped (tenant_id, timestamps, custom fields, tags)
              ├ TenantModel (+ numid: objects a tenant owns directly)
              │    └ NestedTenantModel (adds a parent of the same type; cycles refused)
              └ owned rows (components, templates): no numid, tenant taken from the
                owner through the composite key (``__tenant_from__``, models/components.py)

Relations between tenant-scoped tables are declared with ``reference()`` and
``ManyToMany``; ``finalize()`` turns them into *composite* foreign keys
``(tenant_id, x_id) → (tenant_id, id)`` so that no row can ever point into another
tenant, whatever the application does. The GraphQL registry reads the same
declarations, so a model is declared once.
"""

from __future__ import annotations

import enum
import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import CIDR, INET, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from models.choices import prefixed

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


def snake(name: str) -> str:
    """``IPAddress`` → ``ip_address``, ``VLANGroup`` → ``vlan_group``."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def plural(name: str) -> str:
    if name.endswith(("s", "x")):
        return name + "es"
    if name.endswith("y") and not name.endswith(("ay", "ey", "oy")):
        return name[:-1] + "ies"
    return name + "s"


@prefixed("audience")
class Audience(enum.StrEnum):
    """Who may see an object's change-log entries and change events.

    The safe default for a new model is ``administrators``: a model widens its audience
    by declaring it, never by being forgotten."""

    tenant = "tenant"  # principals of the object's tenant
    organization = "organization"  # everyone in the organisation who may view the type
    administrators = "administrators"  # administrators not limited to some tenants


class DeclarationError(Exception):
    """The model declarations contradict each other (found when the registry is built)."""


@dataclass(frozen=True)
class Through:
    """An ``__ordering__`` term that orders by a referenced row, as Django orders by a
    relation: ``Through("site")`` by the site's own order (its ``__ordering__``, then its
    id, following further ``Through`` terms); ``Through("vrf", "numid")`` by one column of
    it. A row whose reference is NULL sorts after the others (PostgreSQL's ascending
    order, as NetBox's on PostgreSQL), before them with ``nulls_first``. The terms are
    rendered once, for the resolvers and for the SQL compiler alike (models/ordering.py)."""

    reference: str
    column: str | None = None
    nulls_first: bool = False


# What ``__ordering__`` holds: the row's own column names and ``Through`` terms.
Ordering = tuple[str | Through, ...]


_declarations = itertools.count()


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        uuid.UUID: sa.Uuid(),
        datetime: sa.DateTime(timezone=True),
        dict[str, Any]: JSONB(),
        str: sa.String(),
    }

    # Set by subclasses that want a name other than the class name in GraphQL.
    __graphql_name__: ClassVar[str | None] = None
    # Generated GraphQL types, filters, inputs and mutations (hand-written ones stay off).
    __exposed__: ClassVar[bool] = False
    # Read through the API only (no mutations).
    __read_only__: ClassVar[bool] = False
    # Carries tags (through TaggedItem).
    __tagged__: ClassVar[bool] = False
    # Default order of lists: the row's column names and ``Through`` terms (an order through
    # a referenced row); the id breaks ties. Empty: by id.
    __ordering__: ClassVar[Ordering] = ()
    # The order another model's list takes when it orders ``Through`` this one (Django's
    # ``Meta.ordering``, where a tree's own lists follow its manager instead). None: __ordering__.
    __ordering_through__: ClassVar[Ordering | None] = None
    # What an object reads as (NetBox's ``display``): SQL built with models/display.py;
    # None: its name, or its type and number.
    __display__: ClassVar[str | None] = None
    # Who may read this model's change log and events (see Audience).
    __audience__: ClassVar[Audience] = Audience.administrators
    # Writes to this model change what some API token may do (tenants, users, grants):
    # cached principals are dropped everywhere after such a write commits.
    __affects_principals__: ClassVar[bool] = False
    # The column holding the tenant a row belongs to (its own id for a tenant), if any.
    __owner_column__: ClassVar[str | None] = None
    # Filters reaching through references (filter name → the references followed): what
    # NetBox answers from a copy it caches (a component's site is its device's site).
    __filter_through__: ClassVar[dict[str, tuple[str, ...]]] = {}
    # NetBox's tree filters (``region_id: {id, match_type: DESCENDANTS}``): filter name → the
    # references followed to a nested model (one with a ``parent`` tree). Declarations of
    # base classes add up with the model's own.
    __tree_filters__: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def owning_tenant(cls, row: Any) -> uuid.UUID | None:
        """The tenant whose principals see this row's change log, if any."""
        return getattr(row, cls.__owner_column__) if cls.__owner_column__ else None

    # Where the class stands among all declarations: the schema's order.
    _declared_as: ClassVar[int]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        cls._declared_as = next(_declarations)
        super().__init_subclass__(**kwargs)

    @classmethod
    def type_key(cls) -> str:
        """Stable object-type key: the table name (``ip_address``)."""
        return cls.__tablename__


def table_of(model: type[Base]) -> sa.Table:
    """A mapped model's table, typed as the ``sa.Table`` it is (insert/delete/columns)."""
    # Declarative types __table__ as FromClause; every Danbyte model maps a plain Table.
    return cast(sa.Table, model.__table__)


def choice(enum_cls: type[enum.Enum], **kwargs: Any) -> Any:
    """A column holding one of a protocol enum's values, checked by the database."""
    return mapped_column(
        sa.Enum(
            enum_cls,
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=lambda e: [m.value for m in e],
            name=snake(enum_cls.__name__),
            validate_strings=True,
        ),
        **kwargs,
    )


def text(length: int, *, required: bool = False, **kwargs: Any) -> Any:
    """A bounded string column; the bound is checked again in the write path.

    ``required``: no default, so a create must give it (non-null in the create input)
    and it may not be blank. Otherwise a non-nullable column defaults to ''."""
    kwargs.setdefault("nullable", False)
    if not kwargs["nullable"] and not required:
        kwargs.setdefault("default", "")
        kwargs.setdefault("server_default", "")
    if required:
        kwargs["info"] = {**kwargs.get("info", {}), "required": True}
    return mapped_column(sa.String(length), **kwargs)


def color(*, blank: bool = False) -> Any:
    """A colour as six hex digits (``ff8800``), NetBox's grey by default; checked as such.
    ``blank``: no colour unless one is given (cables, ports: NetBox's ``blank=True``)."""
    if blank:
        return text(6, info={"format": "hex_color_or_blank"})
    return text(6, default="9e9e9e", server_default="9e9e9e", info={"format": "hex_color"})


def cidr_column(**kwargs: Any) -> Any:
    return mapped_column(CIDR(), **kwargs)


def inet_column(**kwargs: Any) -> Any:
    """An address without a mask that matters (a gateway), read as PostgreSQL writes it."""
    return mapped_column(INET(), **kwargs)


class AddressWithMask(INET):
    """An address with its mask, always read with it (``192.0.2.1/32``, as NetBox writes
    it): PostgreSQL's own output leaves out /32 and /128, its cast to text does not."""

    def column_expression(self, colexpr: Any) -> Any:
        return sa.cast(colexpr, sa.Text())


def address_column(**kwargs: Any) -> Any:
    """An IP address with its mask (an address, a range's ends)."""
    return mapped_column(AddressWithMask(), **kwargs)


@dataclass(frozen=True)
class AnyObject:
    """A reference to an object of any tenant-scoped type (NetBox's generic foreign key:
    a contact's assignment, a journal entry). The model has the columns ``<field>_type``
    (the content type, ``dcim.site``) and ``<field>_id``; the write path checks the object
    exists, may be seen and shares the row's tenant (resolvers/objects.py); deleting the
    object deletes the rows pointing at it. Every other tenant-scoped type (of ``targets``,
    when given) answers them under ``related_name`` (where that name is not its own already)."""

    related_name: str
    field: str = "object"
    # The model class names that may be pointed at (NetBox's model features, such as
    # ``image_attachments``). Empty: every tenant-scoped type. A name not declared (yet)
    # is skipped, so a model that arrives later joins by being declared.
    targets: tuple[str, ...] = ()

    def accepts(self, type_name: str) -> bool:
        """Whether an object of model ``type_name`` may be pointed at."""
        return not self.targets or type_name in self.targets

    @property
    def type_column(self) -> str:
        return f"{self.field}_type"

    @property
    def id_column(self) -> str:
        return f"{self.field}_id"


@dataclass(frozen=True)
class Ref:
    """A declared reference from one model to another (read by finalize and the registry)."""

    target: str
    ondelete: str
    related_name: str | None
    # The target's field counting the referring rows (NetBox's ``device_count``).
    counted: str | None = None
    # The target refers back to this table (directly or through others): the key is made
    # after both tables exist (SQLAlchemy's use_alter), so the tables can be ordered.
    cyclic: bool = False


# ``related_name=NO_REVERSE``: the target gets no field listing the referring objects
# (Django's and NetBox's ``'+'``).
NO_REVERSE = "+"


def reference(
    target: str,
    *,
    nullable: bool = True,
    ondelete: str | None = None,
    related_name: str | None = None,
    counted: str | None = None,
    derived: bool = False,
    cyclic: bool = False,
    doc: str | None = None,
) -> Any:
    """A UUID column pointing at ``target`` (a model class name).

    ``ondelete`` is RESTRICT (NetBox's PROTECT) or SET NULL; for a composite key,
    SET NULL names the referencing column only, so tenant_id stays put. ``related_name``
    names the target's reverse field (default: the plural of this model), or
    ``NO_REVERSE`` for none; ``counted`` names a target field counting the referring rows.
    ``derived``: kept by model rules (an endpoint's cable), never an input. ``cyclic``: the
    target refers back to this table (a device's primary IP is on the device's interface).
    """
    if ondelete is None:
        ondelete = "SET NULL" if nullable else "RESTRICT"
    return mapped_column(
        sa.Uuid(),
        nullable=nullable,
        index=True,
        doc=doc,
        info={"ref": Ref(target, ondelete, related_name, counted, cyclic), **({"derived": True} if derived else {})},
    )


@dataclass(frozen=True)
class OneOf:
    """A reference to one object of several types (NetBox's generic foreign key, such as a
    prefix's ``scope``).

    Stored as an exclusive arc: one column per target type, ``<field>_<target>_id``, each
    with its own composite foreign key ``(tenant_id, col) → target(tenant_id, id)``, and a
    CHECK that at most one (exactly one when not nullable) is set. The database keeps
    every guarantee a plain reference has; nothing is a bare (type, id) pair."""

    targets: tuple[str, ...]
    nullable: bool = True
    ondelete: str = "RESTRICT"
    # The field each target answers with the objects pointing at it (``ip_addresses``).
    related_name: str = NO_REVERSE
    # Each target object is pointed at by one row at most (an endpoint has one cable).
    unique: bool = False
    # For each column list, each target object is pointed at once among the rows sharing
    # those columns (a circuit is in a circuit group once: ``(("group_id",),)``; a VLAN
    # group's name and slug are unique in its scope: ``(("name",), ("slug",))``).
    unique_with: tuple[tuple[str, ...], ...] = ()
    # The union's GraphQL name where NetBox's is not ``<Type><Field>Type``.
    union: str | None = None

    def column(self, field_name: str, target: str) -> str:
        return f"{field_name}_{snake(target)}_id"


@dataclass(frozen=True)
class Inline:
    """Rows of another model that a write of this one carries in its input, as NetBox's
    cable carries its ``a_terminations``: the ``source`` rows whose reference ``parent`` is
    this object and whose ``fixed`` columns have these values, each given as its one-of
    reference ``item`` (``{type, id}``). A write replaces them all; reads list the items."""

    source: str
    parent: str
    item: str
    fixed: tuple[tuple[str, str], ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Category:
    """A filter over groups of a choice column's values (NetBox's interface ``kind``:
    virtual, wireless, else physical): ``groups`` maps a category value to the column
    values in it; ``rest`` is the category of every other value."""

    column: str
    enum: type[enum.Enum]
    groups: tuple[tuple[str, frozenset[str]], ...]
    rest: str


@dataclass(frozen=True)
class ManyToMany:
    """A many-to-many relation; finalize() creates its association table."""

    target: str
    related_name: str | None = None
    table_name: str | None = None


class OrgModel(Base):
    """Organisation-wide objects (tenants, tenant groups, tags): no tenant, no numid.

    Every principal of the organisation may read them (given the view grant); only a
    principal not limited to some tenants may write them, since all tenants share them."""

    __abstract__ = True
    __exposed__ = True
    __audience__ = Audience.organization

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, server_default=sa.text("gen_random_uuid()"))
    """Primary key."""
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    """The organisation owning the object."""
    created: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    """When the row was inserted."""
    last_updated: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    """When the row was last written."""

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return snake(cls.__name__)


class TenantScoped(Base):
    """What every tenant-scoped row has: its tenant (the first column of every composite
    key pointing at it), timestamps and custom fields."""

    __abstract__ = True
    __many__: ClassVar[dict[str, ManyToMany]] = {}
    __one_of__: ClassVar[dict[str, OneOf]] = {}
    __inline__: ClassVar[dict[str, Inline]] = {}
    # Filters by category of a choice column (filter name → Category).
    __categories__: ClassVar[dict[str, Category]] = {}
    # The tenant's field listing these rows, where NetBox's name is not the plural of the
    # model's (``rackreservations``).
    __tenant_related_name__: ClassVar[str | None] = None
    # NetBox's TenancyFilterMixin: rows by their tenant's group, and by a group's subtree.
    __filter_through__: ClassVar[dict[str, tuple[str, ...]]] = {"tenant_group": ("tenant", "group")}
    __tree_filters__: ClassVar[dict[str, tuple[str, ...]]] = {"tenant_group_id": ("tenant", "group")}
    # References whose target's tenant a new row takes (a component: its device's). Empty:
    # the writer names the tenant (or has only one).
    __tenant_from__: ClassVar[tuple[str, ...]] = ()
    __exposed__ = True
    __tagged__ = True
    __audience__ = Audience.tenant
    __owner_column__ = "tenant_id"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, server_default=sa.text("gen_random_uuid()"))
    """Primary key."""
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    """Owning tenant; every composite foreign key includes it."""
    created: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    """When the row was inserted."""
    last_updated: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    """When the row was last written."""
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))
    """User-defined data, always a JSON object."""

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return snake(cls.__name__)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # (tenant_id, id) is the target of every composite foreign key. The custom fields'
        # index answers containment (``custom_fields @> {"asset": "X1"}``: a unique custom
        # field's check, a filter) without reading the table; an empty object adds no entry.
        name = snake(cls.__name__)
        return (
            sa.UniqueConstraint("tenant_id", "id", name=f"uq_{name}_tenant_id_id"),
            sa.Index(f"ix_{name}_custom_fields", "custom_fields", postgresql_using="gin", postgresql_ops={"custom_fields": "jsonb_path_ops"}),
            *cls.__numbered_args__(),
            *cls.__extra_args__(),
        )

    @classmethod
    def __numbered_args__(cls) -> tuple[Any, ...]:
        return ()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        """Per-model constraints and indexes (overridden by models)."""
        return ()


class TenantModel(TenantScoped):
    """Every directly tenant-scoped domain object: it has a per-tenant number."""

    __abstract__ = True

    numid: Mapped[int | None] = mapped_column(sa.Integer())
    """Per (tenant, object type) number from 1, allocated on insert and never changed."""

    @classmethod
    def __numbered_args__(cls) -> tuple[Any, ...]:
        # (tenant_id, numid) makes the human number unique inside a tenant.
        return (sa.UniqueConstraint("tenant_id", "numid", name=f"uq_{snake(cls.__name__)}_tenant_id_numid"),)


def tree_key() -> Any:
    """The hidden sort key of a tree (``_tree``): the path of per-level keys from the root,
    each the node's natural name key, a terminator below every key character, its numid
    (its id where it has none) and a second terminator. Compared byte by byte (collation
    "C"), it lists a tree depth first, each parent before its children, siblings by name:
    NetBox's ``TreeManager`` order, ``(tree_id, lft)``. Kept by the database (the triggers
    of ``models/tree.py``, created by the migrations), whoever writes; never an input."""
    return mapped_column(sa.Text(collation="C"), nullable=True, info={"tree": True, "hidden": True, "derived": True})


class TreeNode:
    """What a model nesting inside another of its own type declares (regions, locations,
    roles, tenant groups): its ``parent`` and the tree key its lists are ordered by. NetBox
    lists these models through django-mptt's ``TreeManager``, whose order overrides
    ``Meta.ordering``; ``__ordering_through__`` keeps a model's ``Meta.ordering`` where
    another model orders through it (a rack by its location: ``(site, name)``)."""

    __ordering__: ClassVar[Ordering] = ("_tree",)

    _tree: Mapped[str | None] = tree_key()

    @declared_attr
    def parent_id(cls) -> Mapped[uuid.UUID | None]:
        # Called with the mapped class (declared_attr on a mixin), typed as the mixin.
        return reference(cast(type, cls).__name__, ondelete="RESTRICT", related_name="children")


def is_tree(model: type[Base]) -> bool:
    """Whether ``model`` nests in itself and keeps a tree key (``TreeNode``)."""
    return issubclass(model, TreeNode)


class NestedTenantModel(TreeNode, TenantModel):
    """A tenant object that nests inside another of its own type (regions, locations),
    listed as a tree (``TreeNode``)."""

    __abstract__ = True


def natural_key(source: str = "name", keyer: Callable[[str, int], str] | None = None, length: int = 100) -> Any:
    """A hidden sort key for ``source`` (NetBox's ``_name``): numbers compare as numbers
    (``vm2`` before ``vm10``). The write path fills it; the model's ``__ordering__`` uses it.
    Collation "C": the key is built to compare byte by byte."""
    from models.naturalize import naturalize_name

    return mapped_column(
        sa.String(length, collation="C"),
        nullable=True,
        info={"natural": (source, keyer or naturalize_name, length), "hidden": True, "derived": True},
    )


def secret(length: int) -> Any:
    """A secret (a pre-shared key): sealed at rest, write-only through the API, kept out of
    the change log and events (resolvers/secrets.py). ``length``: the most characters the
    clear value may have."""
    return mapped_column(sa.Text(), nullable=True, info={"secret": True, "secret_length": length})


def json_value() -> Any:
    """A JSON column holding any JSON value or null (a custom field's default), where other
    JSON columns hold an object."""
    return mapped_column(JSONB(none_as_null=True), nullable=True, info={"any_json": True})


def long_text() -> Any:
    """Free text without a length limit (comments)."""
    return mapped_column(sa.Text(), default="", server_default="")


class NamedModel(TenantModel):
    """NetBox's primary models known by a name unique in the tenant, with a description
    and comments (IKE and IPSec proposals, policies and profiles; service templates)."""

    __abstract__ = True
    __ordering__: ClassVar[Ordering] = ("name",)

    name: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)


class OrganizationalModel(TenantModel):
    """NetBox's organisational models (manufacturers, rack roles): a name and a slug, each
    unique in the tenant, a description and comments."""

    __abstract__ = True
    # NetBox 4.6 orders these by name under its natural collation.
    __ordering__: ClassVar[Ordering] = ("_name",)

    name: Mapped[str] = text(100, required=True)
    _name: Mapped[str | None] = natural_key()
    slug: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"), sa.UniqueConstraint("tenant_id", "slug"))


class NestedGroupModel(NestedTenantModel):
    """NetBox's nested groups (device roles, platforms): a name and a slug unique among
    siblings, top level included, a description and comments."""

    __abstract__ = True

    name: Mapped[str] = text(100, required=True)
    _name: Mapped[str | None] = natural_key()
    slug: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return tuple(sa.UniqueConstraint("tenant_id", "parent_id", column, postgresql_nulls_not_distinct=True) for column in ("name", "slug"))


def all_models() -> list[type[Base]]:
    """Every mapped model, in declaration order (the registry's own order is not stable)."""
    return sorted((m.class_ for m in Base.registry.mappers), key=lambda model: model._declared_as)


def model_by_name(name: str) -> type[Base]:
    for model in all_models():
        if model.__name__ == name:
            return model
    raise KeyError(name)


def _scope_column(model: type[Base]) -> str | None:
    """The column that scopes a model's rows: its tenant, or its organisation."""
    if issubclass(model, TenantScoped):
        return "tenant_id"
    if issubclass(model, OrgModel):
        return "org_id"
    return None


def finalize() -> None:
    """Turn declared references into (composite) foreign keys and create M2M tables.

    Runs once after every model module is imported (models/__init__.py).
    """
    if getattr(Base.metadata, "_danbyte_finalized", False):
        return
    for model in all_models():
        table = table_of(model)
        scope = _scope_column(model)
        if scope == "org_id":
            # The target of organisation-wide composite keys (tenant-scoped models declare theirs).
            table.append_constraint(sa.UniqueConstraint("org_id", "id", name=f"uq_{table.name}_org_id_id"))
        for field_name, one_of in getattr(model, "__one_of__", {}).items():
            _one_of_columns(table, field_name, one_of)
        for column in table.columns:
            ref: Ref | None = column.info.get("ref")
            if ref is None:
                continue
            target = model_by_name(ref.target)
            target_table = target.__tablename__
            if scope is not None and _scope_column(target) == scope:
                # Same scope: the key includes it, so no row points into another tenant
                # (or organisation), whatever the application does.
                ondelete = f"SET NULL ({column.name})" if ref.ondelete == "SET NULL" else ref.ondelete
                table.append_constraint(
                    sa.ForeignKeyConstraint(
                        [scope, column.name],
                        [f"{target_table}.{scope}", f"{target_table}.id"],
                        ondelete=ondelete,
                        use_alter=ref.cyclic,
                    )
                )
            else:
                table.append_constraint(sa.ForeignKeyConstraint([column.name], [f"{target_table}.id"], ondelete=ref.ondelete))
        for field_name, m2m in getattr(model, "__many__", {}).items():
            _association_table(model, field_name, m2m)
    Base.metadata._danbyte_finalized = True  # type: ignore[attr-defined]


def _one_of_columns(table: sa.Table, field_name: str, one_of: OneOf) -> None:
    """The arc's columns (keyed by the reference loop of finalize) and its CHECK."""
    names = []
    for target in one_of.targets:
        name = one_of.column(field_name, target)
        names.append(name)
        table.append_column(
            sa.Column(name, sa.Uuid(), nullable=True, index=True, info={"ref": Ref(target, one_of.ondelete, one_of.related_name), "one_of": field_name})
        )
        if one_of.unique:
            table.append_constraint(sa.UniqueConstraint(name))
        for columns in one_of.unique_with:
            # A violation names the key's own value (a VLAN group's name), else the one-of
            # (a circuit group's ``member``: the group is the given).
            plain = [column for column in columns if not table.c[column].info.get("ref")]
            table.append_constraint(sa.UniqueConstraint(*columns, name, info={"field": plain[-1] if plain else field_name}))
    most = "= 1" if not one_of.nullable else "<= 1"
    table.append_constraint(sa.CheckConstraint(f"num_nonnulls({', '.join(names)}) {most}", name=f"{field_name}_one_of"))


def association_name(model: type[Base], field_name: str, m2m: ManyToMany) -> str:
    return m2m.table_name or f"{model.__tablename__}_{field_name}"


def association_columns(model: type[Base], target: type[Base]) -> tuple[str, str]:
    """The columns of an association table naming the owner and the target: each
    ``<table>_id``, the target's as ``related_…`` where that name is taken (a site's related
    sites, a context's tenants beside the row's own ``tenant_id``)."""
    left, right = f"{model.__tablename__}_id", f"{target.__tablename__}_id"
    return left, f"related_{right}" if right in (left, "tenant_id") else right


def _association_table(model: type[Base], field_name: str, m2m: ManyToMany) -> sa.Table:
    """``site_vrfs(tenant_id, site_id, vrf_id)`` with composite keys to both sides (to the
    target's id alone where the target is organisation-wide: a tag, a tenant group)."""
    target = model_by_name(m2m.target)
    name = association_name(model, field_name, m2m)
    left, right = association_columns(model, target)
    return sa.Table(
        name,
        Base.metadata,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(left, sa.Uuid(), nullable=False),
        sa.Column(right, sa.Uuid(), nullable=False, index=True),
        sa.PrimaryKeyConstraint(left, right),
        sa.ForeignKeyConstraint(["tenant_id", left], [f"{model.__tablename__}.tenant_id", f"{model.__tablename__}.id"], ondelete="CASCADE"),
        (
            sa.ForeignKeyConstraint(["tenant_id", right], [f"{target.__tablename__}.tenant_id", f"{target.__tablename__}.id"], ondelete="CASCADE")
            if _scope_column(target) == "tenant_id"
            else sa.ForeignKeyConstraint([right], [f"{target.__tablename__}.id"], ondelete="CASCADE")
        ),
        info={"m2m": (model.__name__, field_name, m2m.target), "tenant_scoped": True},
    )
