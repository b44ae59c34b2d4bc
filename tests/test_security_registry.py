"""The standing guard: security checks generated from the model registry.

Every case below is produced from ``models.registry.specs()``: a model declared tomorrow
is covered the day it is declared, with no edit here. Nothing in this file names a model;
sample objects come from tests/registry_samples.py (whose small override tables are the
only place a model may be named). Each case runs in the rolled-back transaction of the
``org`` / ``api`` fixtures.

0. the registry is fully covered (samples for every model, every relation accounted for)
1. cross-tenant reads (and writes by id; another organisation sees nothing)
2. cross-tenant and cross-organisation references in writes; no existence oracle; tags
3. per-type view grants through every relation and related-object filter
4. the change log (per type, per tenant)
5. read-only, expired and ungranted tokens; write grants without view
6. bad input per field kind
7. required fields in the create inputs
8. models only workers write (no create input): rows written as the owner, read through
   the API: tenant isolation, the view grant, no write mutations

Known product bugs are strict xfails whose reason says precisely what is wrong; when one
is fixed its case XPASSes and fails, and the marker goes.

Most checks carry a positive control (the same query by a principal that may see the
object answers it), so a check can never pass because its query matches nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from registry_samples import (
    DERIVED_RELATIONS,
    LINK_OWNER_VALUES,
    RULE_BOUND_LINKS,
    VALUE_OVERRIDES,
    Sample,
    Samples,
    all_specs,
    creatable,
    input_type,
    output_scalars,
    owner_of,
    required_refs,
    required_scalars,
    sample_network,
    tag_spec,
    tenant_input,
    tenant_ref,
)
from worker_rows import read_only_row

from models.registry import Kind, ModelSpec, content_type, spec_for
from permissions.rls import table_kind
from schema.build import enum_member_name

SPECS = all_specs()
CREATABLE = [s for s in SPECS if creatable(s)]
# Models the API only reads (workers write them: check states, alerts, deliveries, jobs,
# observations, …): tests write their rows as the owner (tests/worker_rows.py).
READ_ONLY = [s for s in SPECS if not creatable(s) and s.tenant_scoped]
# Objects that belong to one tenant: tenant-scoped models, and the tenant model itself.
TENANT_OWNED = [s for s in CREATABLE if owner_of(s) is not None]
CHANGELOG = next(s for s in SPECS if table_kind(s.table) == "changelog")
TAG = tag_spec()

FIELD_CODES = ("BAD_USER_INPUT", "NOT_FOUND")


def _id(spec: ModelSpec) -> str:
    return spec.type_name


def random_id() -> str:
    return str(uuid.uuid4())


# --- clients and answers -----------------------------------------------------------------


@pytest.fixture
def samples(api: Any) -> Samples:
    return Samples(api)


def tenants(org: Any) -> tuple[str, str]:
    return str(org.tenant_ids[0]), str(org.tenant_ids[1])


async def client(api: Any, org: Any, **rights: Any) -> Any:
    return api.as_key(await org.user_key(**rights))


async def narrowed_admin(api: Any, org: Any, tenant: Any) -> Any:
    """An administrator whose token is limited to one tenant."""
    return await client(api, org, is_admin=True, token_tenant_ids=[uuid.UUID(str(tenant))])


def view_all_but(*excluded: ModelSpec) -> dict[str, list[str]]:
    skip = {s.type_key for s in excluded}
    return {s.type_key: ["view"] for s in SPECS if s.type_key not in skip}


def errors_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body.get("errors") or []


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    errors = errors_of(body)
    assert len(errors) == 1, body
    return errors[0]


def code_of(body: dict[str, Any]) -> str:
    return only_error(body)["extensions"]["code"]


def answer(body: dict[str, Any]) -> tuple[Any, list[tuple[Any, Any]]]:
    """What a client learns from a response (data, and error codes and fields)."""
    return body.get("data"), sorted((e.get("extensions", {}).get("code"), e.get("extensions", {}).get("field")) for e in errors_of(body))


def ids(rows: list[dict[str, Any]] | None) -> set[str]:
    return {r["id"] for r in rows or []}


async def rows(c: Any, query: str, field: str, **variables: Any) -> list[dict[str, Any]]:
    body = await c.query(query, variables)
    assert not errors_of(body), body
    return body["data"][field]


def get_query(spec: ModelSpec, selection: str = "id") -> str:
    return f"query($id: ID!) {{ {spec.name}(id: $id) {{ {selection} }} }}"


def list_query(spec: ModelSpec, filters: str | None = None, variables: str = "", selection: str = "id") -> str:
    args = f"(filters: {filters})" if filters else ""
    head = f"query({variables})" if variables else "query"
    return f"{head} {{ {spec.name}_list{args} {{ {selection} }} }}"


def create_mutation(spec: ModelSpec) -> str:
    return f"mutation($input: {input_type(spec)}!) {{ {spec.name}_create(input: $input) {{ id }} }}"


def update_mutation(spec: ModelSpec) -> str:
    return f"mutation($id: ID!, $input: {input_type(spec, create=False)}!) {{ {spec.name}_update(id: $id, input: $input) {{ id }} }}"


def delete_mutation(spec: ModelSpec) -> str:
    return f"mutation($id: ID!) {{ {spec.name}_delete(id: $id) {{ id }} }}"


def readable(spec: ModelSpec) -> list[Any]:
    """The scalars a query may select as they are: all but secrets (write-only) and columns
    an override answers as objects (registry_samples.output_scalars)."""
    return output_scalars(spec)


def harmless_update(spec: ModelSpec) -> dict[str, Any]:
    """An update input: a writable free-text field changed, else a choice set to its last
    value (a sample takes the first), else a number, else the custom fields."""
    # (An any-object reference's type names a model: not free text.)
    free = [s for s in readable(spec) if not (spec.any_object is not None and s.name == spec.any_object.type_column)]
    text = [s for s in free if s.writable and s.kind is Kind.string and s.format is None and (s.max_length or 99) >= 9]
    if text:
        return {text[0].name: "changed-9"}
    choices = [s for s in spec.scalars if s.writable and s.kind is Kind.choice and s.enum is not None]
    if choices:
        enum_cls = choices[0].enum
        assert enum_cls is not None
        return {choices[0].name: enum_member_name(getattr(enum_cls, "graphql_prefix", ""), list(enum_cls)[-1].value)}
    # Only numbers (a port mapping's positions): any valid value makes a write.
    number = next((s for s in spec.scalars if s.writable and s.kind is Kind.integer), None)
    if number is not None:
        return {number.name: number.bounds[0] if number.bounds else 1}
    # Only references (an L2VPN's termination): the custom fields every model has (none
    # defined, so an empty change: still a write).
    return {"custom_fields": {}}


async def snapshot(api: Any, spec: ModelSpec, object_id: str) -> dict[str, Any]:
    """The object's scalars as the administrator reads them."""
    names = " ".join(s.name for s in readable(spec))
    body = await api.query(get_query(spec, names), {"id": object_id})
    assert not errors_of(body), body
    return body["data"][spec.name]


async def state(api: Any, spec: ModelSpec, object_id: str | None = None) -> dict[str, Any]:
    """In one request: the ids of every object of ``spec`` and of every change-log entry
    (what a write would add to), and the scalars of one object (what it would change)."""
    one, declared = "", ""
    if object_id is not None:
        one = f" one: {spec.name}(id: $id) {{ {' '.join(s.name for s in readable(spec))} }}"
        declared = "($id: ID!)"
    query = f"query{declared} {{ all: {spec.name}_list {{ id }} log: {CHANGELOG.name}_list {{ id }}{one} }}"
    body = await api.query(query, {"id": object_id} if object_id else {})
    assert not errors_of(body), body
    data = body["data"]
    return {"objects": ids(data["all"]), "changelog": ids(data["log"]), "object": data.get("one")}


def field_error(body: dict[str, Any]) -> tuple[Any, Any]:
    extensions = only_error(body).get("extensions", {})
    return extensions.get("code"), extensions.get("field")


# --- 0. the registry is fully covered ----------------------------------------------------


@pytest.mark.parametrize("spec", CREATABLE, ids=_id)
async def test_a_minimal_sample_can_be_created(samples, org, spec):
    """The generator can make every creatable model (everything below builds on it)."""
    sample = await samples.create(spec, org.tenant_ids[0])
    assert (await samples.api.data(get_query(spec), id=sample.id))[spec.name]["id"] == sample.id


def test_override_tables_name_existing_models_and_fields():
    for model, column in VALUE_OVERRIDES:
        assert spec_for(model).scalar(column) is not None, (model, column)
    for (owner, _field), (target, owner_values, target_values) in DERIVED_RELATIONS.items():
        owner_spec, target_spec = spec_for(owner), spec_for(target)
        assert all(owner_spec.scalar(k) for k in owner_values), (owner, owner_values)
        assert all(target_spec.scalar(k) for k in target_values), (target, target_values)


async def test_every_prefetched_relation_is_covered(app):
    """Every relation field of the schema is one the view-grant checks below generate:
    declared in the registry, ``tags``, or listed in DERIVED_RELATIONS."""
    from resolvers.prefetch import RELATIONS, Arc

    generated = {(r.owner.type_name, r.field) for r in RELATION_CASES}
    members = {(r.owner.type_name, r.field, r.target.type_name) for r in RELATION_CASES if r.kind == "one_of"}
    for owner, fields in RELATIONS.items():
        for field, relation in fields.items():
            if isinstance(relation, Arc):
                for _, target, _ in relation.members:
                    assert (owner, field, target) in members, f"{owner}.{field} → {target} has no generated view-grant check"
                continue
            if relation.computed or relation.target is None or relation.target == owner:
                continue
            assert (owner, field) in generated, f"{owner}.{field} → {relation.target} has no generated view-grant check"
            case = next(r for r in RELATION_CASES if (r.owner.type_name, r.field) == (owner, field))
            assert case.target.type_name == relation.target, (owner, field)


# --- 1. cross-tenant reads -----------------------------------------------------------------


async def subject_in(samples: Samples, spec: ModelSpec, tenant: str) -> Sample:
    """An object of ``spec`` owned by ``tenant`` (the tenant itself for the tenant model)."""
    if owner_of(spec) == "self":
        return Sample(spec, tenant, None, tenant)
    return await samples.create(spec, tenant)


def referencing(spec: ModelSpec) -> list[tuple[ModelSpec, str]]:
    """(model, reference) pairs whose reference points at ``spec``."""
    return [
        (other, ref.name)
        for other in CREATABLE
        for ref in other.refs
        if ref.target == spec.type_name and ref.writable and (other.type_name, ref.name) not in RULE_BOUND_LINKS
    ]


@pytest.mark.parametrize("spec", TENANT_OWNED, ids=_id)
async def test_cross_tenant_reads_find_nothing(api, org, samples, spec):
    a, b = tenants(org)
    subject = await subject_in(samples, spec, b)
    in_a, in_b = await narrowed_admin(api, org, a), await narrowed_admin(api, org, b)
    listed = f"{spec.name}_list"

    # By id.
    assert (await in_b.data(get_query(spec), id=subject.id))[spec.name]["id"] == subject.id
    assert code_of(await in_a.query(get_query(spec), {"id": subject.id})) == "NOT_FOUND"
    # By numid, with and without the tenant.
    if spec.numbered:
        by_numid = f"query($n: Int!, $t: ID) {{ {spec.name}(numid: $n, tenant: $t) {{ id }} }}"
        assert (await in_b.data(by_numid, n=subject.numid, t=b))[spec.name]["id"] == subject.id
        for tenant in (None, b):
            assert code_of(await in_a.query(by_numid, {"n": subject.numid, "t": tenant})) == "NOT_FOUND"
    # In the list, through filters on its id, and through the tenant's reverse relation:
    # one document, asked by both principals.
    parts = {
        "all": f"{listed} {{ id }}",
        "exact": f"{listed}(filters: {{id: {{exact: $id}}}}) {{ id }}",
        "in_list": f"{listed}(filters: {{id: {{in_list: [$id]}}}}) {{ id }}",
        "or": f"{listed}(filters: {{OR: {{id: {{exact: $id}}}}}}) {{ id }}",
    }
    home = tenant_ref(spec)
    if home is not None:
        tenant_spec = spec_for(home.target)
        reverse = next(r.name for r in tenant_spec.reverse if r.source == spec.type_name and r.column == home.column)
        parts["reverse"] = f"{tenant_spec.name}_list {{ {reverse} {{ id }} }}"
    document = "query($id: ID!) { " + " ".join(f"{alias}: {part}" for alias, part in parts.items()) + " }"

    def found(data: dict[str, Any]) -> dict[str, bool]:
        hits = {alias: subject.id in ids(data[alias]) for alias in parts if alias != "reverse"}
        if "reverse" in parts:
            hits["reverse"] = any(subject.id in ids(t[reverse]) for t in data["reverse"])
        return hits

    assert found(await in_b.data(document, id=subject.id)) == {alias: True for alias in parts}
    assert found(await in_a.data(document, id=subject.id)) == {alias: False for alias in parts}

    # Through related-object filters of every model that references it: objects of B
    # pointing at it stay invisible to A, whichever way they are asked for.
    probes: dict[str, tuple[str, str]] = {}
    for index, (other, ref_name) in enumerate(referencing(spec)):
        pointing = await samples.create_with_ref(other, b, ref_name, subject.id)
        # A tree filter (NetBox's TreeNodeFilter) names its node as {id, match_type}.
        by_id = "{id: $id, match_type: EXACT}" if f"{ref_name}_id" in other.tree_filters else "{exact: $id}"
        for form, flt in (("id", f"{{{ref_name}_id: {by_id}}}"), ("rel", f"{{{ref_name}: {{id: {{exact: $id}}}}}}")):
            probes[f"p{index}_{form}"] = (f"{other.name}_list(filters: {flt}) {{ id }}", pointing.id)
    aliases = list(probes)
    for chunk in (aliases[i : i + 20] for i in range(0, len(aliases), 20)):
        document = "query($id: ID!) { " + " ".join(f"{alias}: {probes[alias][0]}" for alias in chunk) + " }"
        seen_b, seen_a = await in_b.data(document, id=subject.id), await in_a.data(document, id=subject.id)
        for alias in chunk:
            assert probes[alias][1] in ids(seen_b[alias]), probes[alias][0]
            assert seen_a[alias] == [], probes[alias][0]


@pytest.mark.parametrize("spec", TENANT_OWNED, ids=_id)
async def test_cross_tenant_writes_by_id_are_refused(api, org, samples, spec):
    a, b = tenants(org)
    subject = await subject_in(samples, spec, b)
    in_a = await narrowed_admin(api, org, a)
    before = await snapshot(api, spec, subject.id)
    body = await in_a.query(update_mutation(spec), {"id": subject.id, "input": harmless_update(spec)})
    assert code_of(body) in ("NOT_FOUND", "FORBIDDEN"), body
    body = await in_a.query(delete_mutation(spec), {"id": subject.id})
    assert code_of(body) in ("NOT_FOUND", "FORBIDDEN"), body
    assert await snapshot(api, spec, subject.id) == before


async def stranger(api: Any, org: Any) -> tuple[Any, Samples]:
    """The administrator of another organisation, and a sample builder acting for them."""
    from factories import make_org

    other = await make_org(org.db, tenants=1)
    client = api.as_key(other.admin_key)
    return client, Samples(client), other


@pytest.mark.parametrize("spec", CREATABLE, ids=_id)
async def test_another_organisation_sees_nothing(api, org, samples, spec):
    a, _ = tenants(org)
    subject = await samples.create(spec, a)
    outsider, _, _ = await stranger(api, org)
    assert code_of(await outsider.query(get_query(spec), {"id": subject.id})) == "NOT_FOUND"
    document = (
        f"query($id: ID!) {{ all: {spec.name}_list {{ id }} exact: {spec.name}_list(filters: {{id: {{exact: $id}}}}) {{ id }}"
        f" log: {CHANGELOG.name}_list(filters: {{object_id: {{exact: $id}}}}) {{ id }} }}"
    )
    mine = await api.data(document, id=subject.id)
    assert subject.id in ids(mine["all"]) and ids(mine["exact"]) == {subject.id} and mine["log"]  # control
    theirs = await outsider.data(document, id=subject.id)
    assert subject.id not in ids(theirs["all"]) and theirs["exact"] == [] and theirs["log"] == []
    before = await snapshot(api, spec, subject.id)
    assert code_of(await outsider.query(update_mutation(spec), {"id": subject.id, "input": harmless_update(spec)})) == "NOT_FOUND"
    assert code_of(await outsider.query(delete_mutation(spec), {"id": subject.id})) == "NOT_FOUND"
    assert await snapshot(api, spec, subject.id) == before


# --- 2. cross-tenant references in writes --------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A writable link from ``owner`` to a tenant-scoped ``target``: a reference, a
    many-to-many field, or one member of a one-of reference (``content_type`` set)."""

    owner: ModelSpec
    field: str
    target: ModelSpec
    many: bool
    content_type: str | None = None

    def __str__(self) -> str:
        member = f"[{self.target.type_name}]" if self.content_type else ""
        return f"{self.owner.type_name}.{self.field}{member}"

    __repr__ = __str__

    def value(self, target_id: str) -> Any:
        if self.content_type:
            item = {"type": self.content_type, "id": target_id}
            return [item] if self.many else item  # a carried list (a cable's ends) takes a list of them
        return [target_id] if self.many else target_id

    def selection(self) -> str:
        return f"{{ ... on {self.target.type_name}Type {{ id }} }}" if self.content_type else "{ id }"


LINKS = (
    [
        Link(spec, ref.name, spec_for(ref.target), False)
        for spec in CREATABLE
        for ref in spec.refs
        if ref.column != "tenant_id" and ref.writable and spec_for(ref.target).tenant_scoped
    ]
    + [Link(spec, many.name, spec_for(many.target), True) for spec in CREATABLE for many in spec.many if spec_for(many.target).tenant_scoped]
    + [
        Link(spec, one_of.name, spec_for(target), False, content_type(spec_for(target).model))
        for spec in CREATABLE
        for one_of in spec.one_of
        for target, _ in one_of.members
        if spec_for(target).tenant_scoped
    ]
    + [
        # A carried list (a cable's a_terminations): each kind its items may be.
        Link(spec, carried.name, spec_for(target), True, content_type(spec_for(target).model))
        for spec in CREATABLE
        for carried in spec.inline
        for item in spec_for(carried.source).one_of
        if item.name == carried.item
        for target, _ in item.members
    ]
)


async def link_ids(api: Any, link: Link, object_id: str) -> set[str]:
    data = await api.data(get_query(link.owner, f"{link.field} {link.selection()}"), id=object_id)
    value = data[link.owner.name][link.field]
    # Union members of other types answer {} (the selection names one type).
    return ids([v for v in (value if link.many else [value] if value else []) if v])


@pytest.mark.parametrize("link", LINKS, ids=str)
async def test_reference_into_another_tenant_is_refused(api, org, samples, link):
    a, b = tenants(org)
    spec = link.owner
    foreign = await samples.create(link.target, b)
    existing = await samples.create(spec, a)
    linked = await link_ids(api, link, existing.id)
    data = await samples.build_input(spec, a, values={link.field: link.value(foreign.id)})
    if link.field in spec.tenant_from:
        # An owned row (a component) is created in its owner's tenant: not a reference
        # across tenants at all. The row lands in B, never in A; or, when the input also
        # names objects of A (a port mapping's rear port), it is refused naming a field.
        body = await api.query(create_mutation(spec), {"input": data})
        if body.get("data"):
            created = body["data"][f"{spec.name}_create"]["id"]
            owner = await api.data(get_query(spec, "tenant { id }"), id=created)
            assert owner[spec.name]["tenant"]["id"] == str(b), body
        else:
            code, field = field_error(body)
            assert code in FIELD_CODES and field is not None, body
    before = await state(api, spec, existing.id)
    if link.field not in spec.tenant_from:
        body = await api.query(create_mutation(spec), {"input": data})
        code, field = field_error(body)
        assert code in FIELD_CODES and field == link.field, body
    # Pointing an existing object of A at B's object is refused the same way.
    body = await api.query(update_mutation(spec), {"id": existing.id, "input": {link.field: link.value(foreign.id)}})
    code, field = field_error(body)
    assert code in FIELD_CODES and field == link.field, body
    assert await state(api, spec, existing.id) == before
    assert await link_ids(api, link, existing.id) == linked


def answer_without(body: dict[str, Any], *secrets: str) -> tuple[Any, list[Any]]:
    """What a client learns from a response, the ids it sent masked out of the messages."""

    def masked(message: str) -> str:
        for secret in secrets:
            message = message.replace(secret, "<id>")
        return message

    return body.get("data"), sorted(
        (e.get("extensions", {}).get("code"), e.get("extensions", {}).get("field"), masked(e.get("message", ""))) for e in errors_of(body)
    )


@pytest.mark.parametrize("link", LINKS, ids=str)
async def test_references_are_no_existence_oracle(api, org, samples, link):
    """Pointing at an object one may not see answers exactly like pointing at nothing:
    for a principal of another tenant, and for a user without view on the target type."""
    a, b = tenants(org)
    spec = link.owner
    nowhere = random_id()
    in_a = await narrowed_admin(api, org, a)
    writers = [(in_a, b)]
    if link.target is not spec:  # a self-reference cannot hide its target from its own writer
        grants = {s.type_key: ["view", "add", "change", "delete"] for s in SPECS if s is not link.target}
        writers.append((await client(api, org, grants=grants), a))
    for writer, holder in writers:
        hidden = await samples.create(link.target, holder)
        data = await samples.build_input(spec, a)
        before = await state(api, spec)
        real = await writer.query(create_mutation(spec), {"input": {**data, link.field: link.value(hidden.id)}})
        fake = await writer.query(create_mutation(spec), {"input": {**data, link.field: link.value(nowhere)}})
        assert answer_without(real, hidden.id) == answer_without(fake, nowhere), (real, fake)
        # Refused at the link, or earlier at an owner of the same hidden type (a device bay's
        # device, when the writer may not view devices at all).
        hidden_owners = {name for name in spec.tenant_from if (o := spec.ref(name)) is not None and o.target == link.target.type_name}
        # A carried list's sibling (a cable's other end) may hold the hidden type too.
        hidden_owners |= {i.name for i in spec.inline} if any(i.name == link.field for i in spec.inline) else set()
        # So may another reference to the same type (a wireless link's other interface).
        hidden_owners |= {r.name for r in spec.refs if r.target == link.target.type_name and r.name != link.field}
        code, field = field_error(real)
        assert code == "NOT_FOUND" and field in {link.field} | (hidden_owners if holder == a else set()), real
        assert await state(api, spec) == before


@pytest.mark.parametrize("spec", [s for s in TENANT_OWNED if tenant_input(s) is not None], ids=_id)
async def test_tenant_cannot_be_changed(api, org, samples, spec):
    a, b = tenants(org)
    existing = await samples.create(spec, a)
    before = await state(api, spec, existing.id)
    body = await api.query(update_mutation(spec), {"id": existing.id, "input": {"tenant": b}})
    assert field_error(body) == ("BAD_USER_INPUT", "tenant"), body
    assert await state(api, spec, existing.id) == before
    data = await api.data(get_query(spec, "tenant { id }"), id=existing.id)
    assert data[spec.name]["tenant"]["id"] == a


# Links to organisation-wide objects (tags included): any of the organisation's tenants
# may use them, but never another organisation's.
ORG_LINKS = (
    [
        Link(spec, ref.name, spec_for(ref.target), False)
        for spec in CREATABLE
        for ref in spec.refs
        if ref.writable and ref.column != "tenant_id" and not spec_for(ref.target).tenant_scoped and creatable(spec_for(ref.target))
    ]
    + [Link(spec, many.name, spec_for(many.target), True) for spec in CREATABLE for many in spec.many if not spec_for(many.target).tenant_scoped]
    + [Link(spec, "tags", TAG, True) for spec in CREATABLE if spec.tagged]
)


@pytest.mark.parametrize("link", ORG_LINKS, ids=str)
async def test_reference_into_another_organisation_is_refused(api, org, samples, link):
    a, _ = tenants(org)
    spec = link.owner
    _, their_samples, _ = await stranger(api, org)
    foreign = await their_samples.create(link.target)
    existing = await samples.create(spec, a)
    data = await samples.build_input(spec, a, values={link.field: link.value(foreign.id)})
    before = await state(api, spec, existing.id)
    body = await api.query(create_mutation(spec), {"input": data})
    assert field_error(body) == ("NOT_FOUND", link.field), body
    body = await api.query(update_mutation(spec), {"id": existing.id, "input": {link.field: link.value(foreign.id)}})
    assert field_error(body) == ("NOT_FOUND", link.field), body
    assert await state(api, spec, existing.id) == before


@pytest.mark.parametrize("spec", [s for s in CREATABLE if s.tenant_scoped], ids=_id)
async def test_create_in_another_organisations_tenant_is_refused(api, org, samples, spec):
    """An input that is valid in another organisation (its tenant, its objects) is
    refused, naming the tenant or the first reference, and writes nothing anywhere."""
    a, _ = tenants(org)
    outsider, their_samples, other = await stranger(api, org)
    data = await their_samples.build_input(spec, other.tenant_ids[0])
    ours, theirs = await state(api, spec), await state(outsider, spec)
    body = await api.query(create_mutation(spec), {"input": data})
    code, field = field_error(body)
    required = {r.name for r in required_refs(spec)} | {o.name for o in spec.one_of if not o.nullable}
    required |= {spec.any_object.id_column} if spec.any_object is not None else set()
    assert code == "NOT_FOUND" and field in {"tenant", *spec.tenant_from} | required, body
    assert (await state(api, spec), await state(outsider, spec)) == (ours, theirs)


@pytest.mark.parametrize("spec", [s for s in CREATABLE if s.tagged], ids=_id)
async def test_organisation_wide_tags_apply_in_every_tenant(api, org, samples, spec):
    """Tags are shared by the organisation's tenants: tagging across tenants is allowed."""
    a, _ = tenants(org)
    tag = await samples.create(TAG)
    writer = await narrowed_admin(api, org, a) if owner_of(spec) == "tenant" else api
    data = await samples.build_input(spec, a, values={"tags": [tag.id]})
    query = f"mutation($input: {input_type(spec)}!) {{ {spec.name}_create(input: $input) {{ id tags {{ id }} }} }}"
    body = await writer.query(query, {"input": data})
    assert not errors_of(body), body
    assert ids(body["data"][f"{spec.name}_create"]["tags"]) == {tag.id}
    # And on an existing object, by update.
    existing = await samples.create(spec, a)
    query = f"mutation($id: ID!, $input: {input_type(spec, create=False)}!) {{ {spec.name}_update(id: $id, input: $input) {{ tags {{ id }} }} }}"
    body = await writer.query(query, {"id": existing.id, "input": {"tags": [tag.id]}})
    assert not errors_of(body), body
    assert ids(body["data"][f"{spec.name}_update"]["tags"]) == {tag.id}


# --- 3. per-type view grants through every relation ----------------------------------------


@dataclass(frozen=True)
class RelationCase:
    owner: ModelSpec
    field: str
    target: ModelSpec
    kind: str  # ref, reverse, many, tags, derived, one_of, object
    detail: Any = None

    def __str__(self) -> str:
        return f"{self.owner.type_name}.{self.field}->{self.target.type_name}"

    __repr__ = __str__


def _relation_cases() -> list[RelationCase]:
    cases: list[RelationCase] = []
    for spec in SPECS:
        for ref in spec.refs:
            if ref.target != spec.type_name:
                cases.append(RelationCase(spec, ref.name, spec_for(ref.target), "ref", ref))
        for reverse in spec.reverse:
            if reverse.source != spec.type_name:
                cases.append(RelationCase(spec, reverse.name, spec_for(reverse.source), "reverse", reverse))
        for many in spec.many:
            if many.target != spec.type_name:
                cases.append(RelationCase(spec, many.name, spec_for(many.target), "many", many))
        for one_of in spec.one_of:
            for target, _ in one_of.members:
                cases.append(RelationCase(spec, one_of.name, spec_for(target), "one_of", content_type(spec_for(target).model)))
        if spec.tagged and spec is not TAG:
            cases.append(RelationCase(spec, "tags", TAG, "tags"))
        for pointing in spec.object_reverse:
            cases.append(RelationCase(spec, pointing.name, spec_for(pointing.source), "object"))
    for (owner, field), (target, owner_values, target_values) in DERIVED_RELATIONS.items():
        cases.append(RelationCase(spec_for(owner), field, spec_for(target), "derived", (owner_values, target_values)))
    return cases


RELATION_CASES = _relation_cases()
# One case per hidden type: everything that leads to it is checked with one user.
HIDDEN_TYPES = [s for s in SPECS if any(c.target is s for c in RELATION_CASES)]


def relations_into(target: ModelSpec, kind: str | None = None) -> list[RelationCase]:
    return [c for c in RELATION_CASES if c.target is target and (kind is None or c.kind == kind)]


async def made(db: Any, samples: Samples, spec: ModelSpec, tenant: str, values: dict[str, Any] | None = None) -> Sample:
    """An object of ``spec``: through the API, or for a model only workers write, a row
    written as the owner (``values`` are its columns then)."""
    if creatable(spec):
        return await samples.create(spec, tenant, values=values)
    row = await read_only_row(db, samples, spec, tenant, values)
    return Sample(spec, str(row.id), getattr(row, "numid", None), tenant)


async def related_pair(samples: Samples, case: RelationCase, tenant: str, db: Any) -> tuple[Sample, Sample]:
    """An owner object and a target object, related through ``case.field`` (as admin; a
    side only workers write is a row written as the owner)."""
    owner, target = case.owner, case.target
    if case.kind == "ref":
        t = await made(db, samples, target, tenant)
        if not creatable(owner):
            if case.detail.column == "tenant_id":  # its tenant: the row is made there
                return await made(db, samples, owner, t.id), t
            return await made(db, samples, owner, tenant, {case.detail.column: uuid.UUID(t.id)}), t
        return await samples.create_with_ref(owner, tenant, case.field, t.id), t
    if case.kind == "reverse":
        s = await made(db, samples, owner, tenant)
        if not creatable(target):  # its column (a reference, or a one-of member's) set directly
            if case.detail.column == "tenant_id":  # the tenant's rows: one made in it
                return s, await made(db, samples, target, s.id)
            return s, await made(db, samples, target, tenant, {case.detail.column: uuid.UUID(s.id)})
        back = next((r for r in target.refs if r.column == case.detail.column), None)
        if back is None:  # the reverse of a one-of member (an interface's ip_addresses)
            one_of = next(o for o in target.one_of if case.detail.column in dict(o.members).values())
            return s, await samples.create(target, tenant, values={one_of.name: {"type": content_type(owner.model), "id": s.id}})
        return s, await samples.create_with_ref(target, tenant, back.name, s.id)
    if case.kind == "one_of":
        t = await samples.create(target, tenant)
        return await samples.create(owner, tenant, values={case.field: {"type": case.detail, "id": t.id}}), t
    if case.kind == "object":  # a row pointing at the owner by type and id (its contacts)
        s = await samples.create(owner, tenant)
        pointing = {target.any_object.type_column: content_type(owner.model), target.any_object.id_column: s.id}
        return s, await samples.create(target, tenant, values=pointing)
    if case.kind in ("many", "tags"):
        # Set by an update of an existing object (creates set them in the other checks).
        t = await samples.link_target(target, tenant)
        s = await samples.create(owner, tenant)
        extra = LINK_OWNER_VALUES.get((owner.type_name, case.field), {})
        await samples.api.data(update_mutation(owner), id=s.id, input={case.field: [t.id], **extra})
        return s, t
    owner_values, target_values = case.detail
    s = await samples.create(owner, tenant, values=owner_values)
    return s, await samples.create(target, tenant, values=target_values)


def selection(case: RelationCase) -> str:
    """The relation's sub-selection: a union member needs its type named."""
    if case.kind == "one_of":
        return f"{{ ... on {case.target.type_name}Type {{ id }} }}"
    return "{ id }"


def related(value: Any) -> set[str]:
    if isinstance(value, list):
        return ids(value)
    return {value["id"]} if value else set()


def buildable(case: RelationCase) -> bool:
    """Both objects can be made (through the API, or as rows of a model only workers write)
    and linked by this field."""
    if case.kind in ("ref", "reverse") and not (creatable(case.owner) and creatable(case.target)):
        # A worker-written side is written as the owner, its reference set directly.
        return all(creatable(s) or s in READ_ONLY for s in (case.owner, case.target)) and (case.kind == "reverse" or case.owner.ref(case.field) is not None)
    if not (creatable(case.owner) and creatable(case.target)):
        return False
    if case.kind == "ref":
        ref = case.owner.ref(case.field)
        return ref is not None and ref.writable and (case.owner.type_name, case.field) not in RULE_BOUND_LINKS
    if case.kind == "reverse":
        back = next((r for r in case.target.refs if r.column == case.detail.column), None)
        if back is None:  # a one-of member: always writable
            return True
        return back.writable and (case.target.type_name, back.name) not in RULE_BOUND_LINKS
    return True


@pytest.mark.parametrize("target", HIDDEN_TYPES, ids=_id)
async def test_relations_into_an_unviewable_type_are_empty(api, org, db, samples, target):
    """A user with view on every type but ``target``: every relation field leading to
    ``target`` (to-one, reverse, many-to-many, tags, derived) reads null or [] although
    the data exists, ``target``'s root fields answer FORBIDDEN, and filters through a
    reference to ``target`` answer the same whether their condition matches or not."""
    cases = [c for c in relations_into(target) if buildable(c)]
    if not cases:
        # Every such reference is set by a rule or by the server (RULE_BOUND_LINKS, or not
        # writable on a model the API writes: a circuit's terminations).
        pytest.skip("every reference into it is set by a rule or by the server, never by a write")
    a, _ = tenants(org)
    user = await client(api, org, grants=view_all_but(target))
    assert code_of(await user.query(list_query(target))) == "FORBIDDEN"

    for case in cases:
        s, t = await related_pair(samples, case, a, db)
        listed = f"{case.owner.name}_list"
        query = (
            f"query($id: ID!) {{ one: {case.owner.name}(id: $id) {{ id {case.field} {selection(case)} }}"
            f" all: {listed}(filters: {{id: {{exact: $id}}}}) {{ id {case.field} {selection(case)} }} }}"
        )
        # The data exists: the administrator sees the relation.
        admin = await api.data(query, id=s.id)
        assert t.id in related(admin["one"][case.field]), case
        assert t.id in related(admin["all"][0][case.field]), case
        # The user sees the owner, but not the related object.
        body = await user.query(query, {"id": s.id})
        assert not errors_of(body), (case, body)
        seen = body["data"]
        assert seen["one"]["id"] == s.id and [r["id"] for r in seen["all"]] == [s.id], case
        assert related(seen["one"][case.field]) == set() and related(seen["all"][0][case.field]) == set(), (case, seen)
        if case is cases[0]:
            assert code_of(await user.query(get_query(target), {"id": t.id})) == "FORBIDDEN"

        # Filters through the relation: a matching and a non-matching condition on the
        # target must tell the user the same thing.
        if case.kind == "ref":
            conditions = [f"{{{case.field}: {{id: {{exact: $v}}}}}}", f"{{NOT: {{{case.field}: {{id: {{exact: $v}}}}}}}}"]
            declared, match, miss = "ID!", t.id, random_id()
        elif case.kind == "one_of":
            conditions = [f"{{{case.field}_id: $v}}", f"{{NOT: {{{case.field}_id: $v}}}}"]
            declared, match, miss = "ID!", t.id, random_id()
        elif case.kind == "tags":
            conditions = ["{tag: [$v]}", "{NOT: {tag: [$v]}}"]
            declared, match, miss = "String!", t.input["slug"], "no-such-tag"
        else:
            continue
        for condition in conditions:
            probe = f"query($v: {declared}) {{ {listed}(filters: {condition}) {{ id }} }}"
            if not condition.startswith("{NOT"):  # control: the filter finds the owner for the administrator
                assert s.id in ids(await rows(api, probe, listed, v=match)), (case, condition)
            # One request per answer: an error in one root field can hide a sibling's.
            matching, missing = await user.query(probe, {"v": match}), await user.query(probe, {"v": miss})
            assert answer(matching) == answer(missing), (case, condition, matching, missing)


@pytest.mark.parametrize("target", [t for t in HIDDEN_TYPES if relations_into(t, "ref")], ids=_id)
async def test_id_filters_on_a_reference_to_an_unviewable_type_reveal_nothing(api, org, db, samples, target):
    cases = [c for c in relations_into(target, "ref") if buildable(c)]
    if not cases:
        # Every such reference is set by a rule or by the server (RULE_BOUND_LINKS, or not
        # writable on a model the API writes: a circuit's terminations).
        pytest.skip("every reference into it is set by a rule or by the server, never by a write")
    a, _ = tenants(org)
    user = await client(api, org, grants=view_all_but(target))
    for case in cases:
        s, t = await related_pair(samples, case, a, db)
        listed = f"{case.owner.name}_list"
        tree = f"{case.field}_id" in case.owner.tree_filters  # NetBox's TreeNodeFilter: {id, match_type}
        lookup_type = "TreeNodeFilter" if tree else "IDFilterLookup"
        probe = f"query($s: ID!, $v: {lookup_type}!) {{ {listed}(filters: {{id: {{exact: $s}}, {case.field}_id: $v}}) {{ id }} }}"

        async def ask(c: Any, lookup: dict[str, Any], probe: str = probe, owner: str = s.id) -> Any:
            return answer(await c.query(probe, {"s": owner, "v": lookup}))

        def exact(value: Any, tree: bool = tree) -> dict[str, Any]:
            return {"id": value, "match_type": "EXACT"} if tree else {"exact": value}

        assert ids((await api.data(probe, s=s.id, v=exact(t.id)))[listed]) == {s.id}, case  # control
        # One request per answer: an error in one root field can hide a sibling's.
        assert await ask(user, exact(t.id)) == await ask(user, exact(random_id())), case
        if tree:
            below = {"id": t.id, "match_type": "SELF_AND_DESCENDANTS"}
            assert await ask(user, below) == await ask(user, {**below, "id": random_id()}), case
        else:
            assert await ask(user, {"in_list": [t.id]}) == await ask(user, {"in_list": [random_id()]}), case
            assert await ask(user, {"is_null": False}) == await ask(user, {"is_null": True}), case


# --- 4. the change log -----------------------------------------------------------------------

CHANGES_OF = f"query($id: ID!) {{ {CHANGELOG.name}_list(filters: {{object_id: {{exact: $id}}}}) {{ id object_type }} }}"


async def entries(c: Any, object_id: str) -> list[dict[str, Any]]:
    return await rows(c, CHANGES_OF, f"{CHANGELOG.name}_list", id=object_id)


@pytest.mark.parametrize("spec", CREATABLE, ids=_id)
async def test_changelog_of_a_type_needs_view_on_the_type(api, org, samples, spec):
    _, b = tenants(org)
    subject = await samples.create(spec, b)
    logged = await entries(api, subject.id)
    assert logged and {e["object_type"] for e in logged} == {spec.type_key}
    viewer = await client(api, org, grants=view_all_but())
    assert ids(await entries(viewer, subject.id)) == ids(logged)  # control: view on everything
    blind = await client(api, org, grants=view_all_but(spec))
    assert await entries(blind, subject.id) == []
    everything = await rows(blind, list_query(CHANGELOG, selection="id object_type"), f"{CHANGELOG.name}_list")
    assert spec.type_key not in {e["object_type"] for e in everything}
    for entry in logged:
        assert code_of(await blind.query(get_query(CHANGELOG), {"id": entry["id"]})) == "NOT_FOUND"


@pytest.mark.parametrize("spec", TENANT_OWNED, ids=_id)
async def test_changelog_of_another_tenant_is_invisible(api, org, samples, spec):
    a, b = tenants(org)
    subject = await samples.create(spec, b)
    logged = await entries(api, subject.id)
    assert logged
    owner = await narrowed_admin(api, org, subject.tenant)
    assert ids(await entries(owner, subject.id)) == ids(logged)  # control
    in_a = await narrowed_admin(api, org, a)
    user_a = await client(api, org, tenant_ids=[uuid.UUID(a)], grants=view_all_but())
    for principal in (in_a, user_a):
        assert await entries(principal, subject.id) == []
        for entry in logged:
            assert code_of(await principal.query(get_query(CHANGELOG), {"id": entry["id"]})) == "NOT_FOUND"


# --- 5. read-only, expired and ungranted tokens --------------------------------------------


async def assert_writes_refused(api: Any, samples: Samples, writer: Any, spec: ModelSpec, tenant: str, code: str) -> None:
    existing = await samples.create(spec, tenant)
    data = await samples.build_input(spec, tenant)
    before = await state(api, spec, existing.id)
    assert code_of(await writer.query(create_mutation(spec), {"input": data})) == code
    assert code_of(await writer.query(update_mutation(spec), {"id": existing.id, "input": harmless_update(spec)})) == code
    assert code_of(await writer.query(delete_mutation(spec), {"id": existing.id})) == code
    assert await state(api, spec, existing.id) == before


@pytest.mark.parametrize("spec", CREATABLE, ids=_id)
async def test_read_only_token_cannot_write(api, org, samples, spec):
    a, _ = tenants(org)
    reader = await client(api, org, is_admin=True, write_enabled=False)
    await assert_writes_refused(api, samples, reader, spec, a, "FORBIDDEN")


@pytest.mark.parametrize("spec", CREATABLE, ids=_id)
async def test_view_grant_alone_cannot_write(api, org, samples, spec):
    """Every action on every type, but only view on this one."""
    a, _ = tenants(org)
    grants = {s.type_key: ["view", "add", "change", "delete"] for s in SPECS}
    grants[spec.type_key] = ["view"]
    writer = await client(api, org, grants=grants)
    await assert_writes_refused(api, samples, writer, spec, a, "FORBIDDEN")


@pytest.mark.parametrize("spec", CREATABLE, ids=_id)
async def test_write_grant_without_view_reveals_nothing(api, org, samples, spec):
    a, _ = tenants(org)
    subject = await samples.create(spec, a)
    user = await client(api, org, grants={spec.type_key: ["change", "delete"]})
    assert code_of(await user.query(get_query(spec), {"id": subject.id})) == "FORBIDDEN"  # control
    names = " ".join(s.name for s in readable(spec))
    before = await snapshot(api, spec, subject.id)
    for action, arguments in (("update", "id: $id, input: {}"), ("delete", "id: $id")):
        body = await user.query(f"mutation($id: ID!) {{ {spec.name}_{action}({arguments}) {{ {names} }} }}", {"id": subject.id})
        assert (body.get("data") or {}).get(f"{spec.name}_{action}") is None, (action, body)
        assert code_of(body) == "FORBIDDEN", (action, body)
    assert await snapshot(api, spec, subject.id) == before  # refused, not done and hidden


@pytest.mark.parametrize("spec", SPECS, ids=_id)
async def test_expired_token_cannot_read(api, org, samples, spec):
    expired = await client(api, org, is_admin=True, expires=datetime.now(UTC) - timedelta(seconds=5))
    object_id = (await samples.create(spec, org.tenant_ids[0])).id if creatable(spec) else random_id()
    assert code_of(await expired.query(list_query(spec))) == "UNAUTHENTICATED"
    assert code_of(await expired.query(get_query(spec), {"id": object_id})) == "UNAUTHENTICATED"


# --- 6. bad input per field kind ------------------------------------------------------------


@dataclass(frozen=True)
class BadValue:
    field: str
    variant: str
    value: Any
    code: str = "BAD_USER_INPUT"
    # The field the error names, where it is inside the input field (``scope.type``).
    reported: str | None = None

    def __str__(self) -> str:
        return f"{self.field}:{self.variant}={self.value!r}"

    __repr__ = __str__


def bad_values(spec: ModelSpec) -> list[BadValue]:
    """One bad value per way a field of this kind can be wrong."""
    cases: list[BadValue] = []
    for scalar in spec.scalars:
        if not scalar.writable:
            continue
        name = scalar.name
        if scalar.kind is Kind.string and scalar.max_length is not None:
            cases.append(BadValue(name, "too_long", "x" * (scalar.max_length + 1)))
        if scalar.format in ("hex_color", "hex_color_or_blank"):
            cases.append(BadValue(name, "not_hex", "red"))
        if scalar.format in ("mac", "wwn"):
            cases += [BadValue(name, "not_octets", "zz:zz"), BadValue(name, "too_few", "00:11:22")]
        if scalar.format == "object_type_or_blank":
            cases.append(BadValue(name, "unknown_type", "nowhere.nothing"))
        if scalar.format == "identifier":
            cases.append(BadValue(name, "not_an_identifier", "Two Words"))
        if scalar.kind is Kind.integer and scalar.choices:
            cases.append(BadValue(name, "not_a_choice", max(scalar.choices) + 1))
        if scalar.kind is Kind.integers:
            cases.append(BadValue(name, "below", [(scalar.bounds or (1, 1))[0] - 1]))
        if scalar.kind is Kind.string and scalar.required:
            cases += [BadValue(name, "blank", "   "), BadValue(name, "empty", "")]
        if scalar.kind is Kind.network:
            cases += [BadValue(name, "host_bits", sample_network(7).replace(".0/", ".1/")), BadValue(name, "unparseable", "not-a-network")]
        if scalar.kind is Kind.interface:
            cases += [BadValue(name, "unparseable", "not-an-address"), BadValue(name, "bad_mask", "192.0.2.1/33")]
        if scalar.kind in (Kind.integer, Kind.big_integer, Kind.decimal) and scalar.bounds is not None:
            cases.append(BadValue(name, "below", scalar.bounds[0] - 1))
            # Past GraphQL's 32-bit Int, the value never reaches the write path.
            if scalar.kind is not Kind.integer or scalar.bounds[1] < 2**31 - 1:
                cases.append(BadValue(name, "above", scalar.bounds[1] + 1))
        if scalar.kind is Kind.json and not scalar.any_json:  # any JSON value is well-formed there
            cases += [BadValue(name, "list", [1, 2]), BadValue(name, "string", "text"), BadValue(name, "number", 3)]
        if not scalar.nullable and scalar.has_default:  # optional in the input, but never null
            cases.append(BadValue(name, "null", None))
    for ref in spec.refs:
        if not ref.writable:
            continue
        cases.append(BadValue(ref.name, "invalid_id", "not-an-id"))
        if ref.column != "tenant_id":
            cases.append(BadValue(ref.name, "unknown_id", random_id(), "NOT_FOUND"))
    for many in spec.many:
        cases += [BadValue(many.name, "invalid_id", ["not-an-id"]), BadValue(many.name, "unknown_id", [random_id()], "NOT_FOUND")]
    if spec.tagged:
        cases += [BadValue("tags", "invalid_id", ["not-an-id"]), BadValue("tags", "unknown_id", [random_id()], "NOT_FOUND")]
    for one_of in spec.one_of:
        member = content_type(spec_for(one_of.members[0][0]).model)
        cases += [
            BadValue(one_of.name, "unknown_type", {"type": "nowhere.nothing", "id": random_id()}, reported=f"{one_of.name}.type"),
            BadValue(one_of.name, "invalid_id", {"type": member, "id": "not-an-id"}, reported=f"{one_of.name}.id"),
            BadValue(one_of.name, "unknown_id", {"type": member, "id": random_id()}, "NOT_FOUND"),
        ]
    for carried in spec.inline:
        item = next(o for o in spec_for(carried.source).one_of if o.name == carried.item)
        member = content_type(spec_for(item.members[0][0]).model)
        cases += [
            BadValue(carried.name, "unknown_type", [{"type": "nowhere.nothing", "id": random_id()}]),
            BadValue(carried.name, "invalid_id", [{"type": member, "id": "not-an-id"}]),
            BadValue(carried.name, "unknown_id", [{"type": member, "id": random_id()}], "NOT_FOUND"),
        ]
    return cases


@pytest.mark.parametrize("spec", CREATABLE, ids=_id)
async def test_bad_input_is_refused_naming_the_field(api, org, samples, spec):
    """Every writable field of the model, each way it can be wrong, in a create and in an
    update: the answer names the field, and nothing is written."""
    a, _ = tenants(org)
    existing = await samples.create(spec, a)
    valid = await samples.build_input(spec, a)
    before = await state(api, spec, existing.id)
    for bad in bad_values(spec):
        body = await api.query(create_mutation(spec), {"input": {**valid, bad.field: bad.value}})
        assert field_error(body) == (bad.code, bad.reported or bad.field), (f"create {bad}", body)
        if bad.field != "tenant":  # never updatable: test_tenant_cannot_be_changed
            body = await api.query(update_mutation(spec), {"id": existing.id, "input": {bad.field: bad.value}})
            assert field_error(body) == (bad.code, bad.reported or bad.field), (f"update {bad}", body)
    assert await state(api, spec, existing.id) == before


@pytest.mark.parametrize("spec", [s for s in CREATABLE if required_refs(s)], ids=_id)
async def test_required_reference_cannot_be_cleared(api, org, samples, spec):
    a, _ = tenants(org)
    existing = await samples.create(spec, a)
    before = await state(api, spec, existing.id)
    for ref in required_refs(spec):
        body = await api.query(update_mutation(spec), {"id": existing.id, "input": {ref.name: None}})
        assert field_error(body) == ("BAD_USER_INPUT", ref.name), body
        assert await state(api, spec, existing.id) == before


# --- 7. required fields in the create inputs ------------------------------------------------

INPUT_FIELDS = "query($name: String!) { __type(name: $name) { inputFields { name type { kind } } } }"


@pytest.mark.parametrize("spec", CREATABLE, ids=_id)
async def test_create_input_marks_exactly_the_required_fields(api, spec):
    data = await api.data(INPUT_FIELDS, name=input_type(spec))
    fields = {f["name"]: f["type"]["kind"] for f in data["__type"]["inputFields"]}
    non_null = {name for name, kind in fields.items() if kind == "NON_NULL"}
    expected = {s.name for s in required_scalars(spec)} | {r.name for r in required_refs(spec)}
    expected |= {o.name for o in spec.one_of if not o.nullable} | {i.name for i in spec.inline if i.required}
    assert non_null == expected
    # A string the registry calls required can never be left out.
    assert {s.name for s in spec.scalars if s.required} <= non_null
    # Every writable column and relation is in the input, and nothing else.
    writable = {s.name for s in spec.scalars if s.writable} | {r.name for r in spec.refs if r.writable} | {m.name for m in spec.many}
    writable |= {o.name for o in spec.one_of} | {i.name for i in spec.inline}
    assert set(fields) == writable | ({"tags"} if spec.tagged else set())
    update = await api.data(INPUT_FIELDS, name=input_type(spec, create=False))
    assert all(f["type"]["kind"] != "NON_NULL" for f in update["__type"]["inputFields"])


# --- 6. batches ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [s for s in CREATABLE if s.tenant_scoped], ids=_id)
async def test_batches_write_all_or_nothing_within_the_writers_reach(api, org, samples, spec):
    """``_create_many`` / ``_update_many`` / ``_delete_many`` of every model: a batch of two
    writes both; a principal of another tenant cannot delete them (the batch fails whole,
    naming the index) and they stay."""
    a, b = tenants(org)
    first, second = await samples.build_input(spec, a), await samples.build_input(spec, a)
    many = f"mutation($inputs: [{input_type(spec)}!]!) {{ {spec.name}_create_many(inputs: $inputs) {{ id }} }}"
    made = (await api.data(many, inputs=[first, second]))[f"{spec.name}_create_many"]
    assert len({m["id"] for m in made}) == 2
    update = f"mutation($inputs: [{spec.type_name}UpdateManyInput!]!) {{ {spec.name}_update_many(inputs: $inputs) {{ id }} }}"
    await api.data(update, inputs=[{"id": made[0]["id"], "input": harmless_update(spec)}])  # (the same change twice could collide)
    delete = f"mutation($ids: [ID!]!) {{ {spec.name}_delete_many(ids: $ids) {{ id }} }}"
    before = await state(api, spec)
    in_b = await narrowed_admin(api, org, b)
    body = await in_b.query(delete, {"ids": [m["id"] for m in made]})
    assert field_error(body) == ("NOT_FOUND", "ids.0"), body
    assert await state(api, spec) == before
    deleted = (await api.data(delete, ids=[m["id"] for m in made]))[f"{spec.name}_delete_many"]
    assert {d["id"] for d in deleted} == {m["id"] for m in made}


# --- 8. read-only models: the read path -------------------------------------------------------

# READ_ONLY: the change log is read-only too, but organisation-wide: section 4 covers it.
WRITES = ("create", "update", "delete", "create_many", "update_many", "delete_many")
MUTATIONS = "{ __schema { mutationType { fields { name } } } }"


async def worker_rows(db: Any, samples: Samples, spec: ModelSpec, org: Any) -> tuple[str, str]:
    """A row of ``spec`` in tenant A and one in tenant B (their ids)."""
    a, b = tenants(org)
    return str((await read_only_row(db, samples, spec, a)).id), str((await read_only_row(db, samples, spec, b)).id)


@pytest.mark.parametrize("spec", READ_ONLY, ids=_id)
async def test_read_only_rows_of_another_tenant_are_invisible(api, org, db, samples, spec):
    """A's principals list A's row and not B's; B's id answers as an unknown id does."""
    a, b = tenants(org)
    mine, theirs = await worker_rows(db, samples, spec, org)
    listed = f"{spec.name}_list"
    assert {mine, theirs} <= ids(await rows(api, list_query(spec), listed))  # control: both exist
    user_a = await client(api, org, tenant_ids=[uuid.UUID(a)], grants=view_all_but())
    for principal in (user_a, await narrowed_admin(api, org, a)):
        seen = ids(await rows(principal, list_query(spec), listed))
        assert mine in seen and theirs not in seen, seen
        assert (await principal.data(get_query(spec), id=mine))[spec.name]["id"] == mine
        nowhere = random_id()
        hidden, missing = await principal.query(get_query(spec), {"id": theirs}), await principal.query(get_query(spec), {"id": nowhere})
        assert code_of(hidden) == "NOT_FOUND", hidden
        assert answer_without(hidden, theirs) == answer_without(missing, nowhere), (hidden, missing)
        if spec.numbered:
            numid = (await api.data(get_query(spec, "numid"), id=theirs))[spec.name]["numid"]
            assert numid is not None  # numbered as the workers number
            by_numid = f"query($n: Int!, $t: ID) {{ {spec.name}(numid: $n, tenant: $t) {{ id }} }}"
            assert code_of(await principal.query(by_numid, {"n": numid, "t": b})) == "NOT_FOUND"


@pytest.mark.parametrize("spec", READ_ONLY, ids=_id)
async def test_read_only_model_needs_the_view_grant(api, org, db, samples, spec):
    """Without view on the type, its list and its object are refused, naming the field."""
    mine, _ = await worker_rows(db, samples, spec, org)
    viewer = await client(api, org, grants=view_all_but())
    assert (await viewer.data(get_query(spec), id=mine))[spec.name]["id"] == mine  # control
    blind = await client(api, org, grants=view_all_but(spec))
    for field, body in ((f"{spec.name}_list", await blind.query(list_query(spec))), (spec.name, await blind.query(get_query(spec), {"id": mine}))):
        error = only_error(body)
        assert (error["extensions"]["code"], error["path"]) == ("FORBIDDEN", [field]), body
        assert (body.get("data") or {}).get(field) is None, body


@pytest.mark.parametrize("spec", READ_ONLY, ids=_id)
async def test_read_only_model_has_no_write_mutations(api, spec):
    names = {f["name"] for f in (await api.data(MUTATIONS))["__schema"]["mutationType"]["fields"]}
    assert {f"{spec.name}_{write}" for write in WRITES} & names == set()
    assert all(f"{s.name}_create" in names for s in CREATABLE[:3])  # control: writes are named so
