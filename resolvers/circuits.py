"""Circuits: a circuit's ``termination_a`` and ``termination_z`` follow its terminations;
a virtual circuit's account is with its network's provider, and it ends on virtual
interfaces only (registered in resolvers/rules.py). Paths through circuits are traced in
resolvers/cables.py."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models.choices_dcim import VIRTUAL_INTERFACE_TYPES
from models.registry import ModelSpec, spec_for
from resolvers.errors import BadUserInput
from resolvers.rules import RuleBook, value_after
from resolvers.writes import Write

CIRCUIT, TERMINATION = "Circuit", "CircuitTermination"
VIRTUAL_CIRCUIT, VIRTUAL_TERMINATION, INTERFACE = "VirtualCircuit", "VirtualCircuitTermination", "Interface"


def register_rules(book: RuleBook) -> None:
    book.maintain_after(TERMINATION)(_circuit_points_at_its_ends)
    book.maintain_before_delete(TERMINATION)(_circuit_forgets_its_end)
    book.check(VIRTUAL_CIRCUIT)(_account_with_the_networks_provider)
    book.check(VIRTUAL_TERMINATION)(_ends_on_a_virtual_interface)
    book.check_update(INTERFACE)(_virtual_circuit_end_stays_virtual)


def _side_column(side: Any) -> str:
    return f"termination_{str(side).lower()}_id"


async def _point(write: Write, circuit_id: Any, side: Any, termination_id: Any) -> None:
    table = spec_for(CIRCUIT).table
    await write.conn.execute(sa.update(table).where(table.c.id == circuit_id).values({_side_column(side): termination_id}))


async def _circuit_points_at_its_ends(write: Write, spec: ModelSpec, row: Any, old: Any) -> Any:
    if old is not None and (old.circuit_id, old.term_side) != (row.circuit_id, row.term_side):
        await _point(write, old.circuit_id, old.term_side, None)
    await _point(write, row.circuit_id, row.term_side, row.id)
    return row


async def _circuit_forgets_its_end(write: Write, spec: ModelSpec, old: Any) -> None:
    await _point(write, old.circuit_id, old.term_side, None)


async def _provider_of(write: Write, model: str, object_id: Any) -> Any:
    table = spec_for(model).table
    return (await write.conn.execute(sa.select(table.c.provider_id).where(table.c.id == object_id))).scalar_one_or_none()


async def _account_with_the_networks_provider(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """NetBox: a virtual circuit's provider account belongs to its provider network's provider."""
    if "provider_account_id" not in values and "provider_network_id" not in values:
        return
    account, network = value_after(values, old, "provider_account_id"), value_after(values, old, "provider_network_id")
    if account is None or network is None:
        return
    if await _provider_of(write, "ProviderAccount", account) != await _provider_of(write, "ProviderNetwork", network):
        raise BadUserInput("provider_account: the account is not with the provider of the provider network", field="provider_account")


async def _ends_on_a_virtual_interface(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """NetBox: a virtual circuit is terminated only on virtual interfaces."""
    if values.get("interface_id") is None:
        return
    table = spec_for(INTERFACE).table
    found = (await write.conn.execute(sa.select(table.c.name, table.c.type).where(table.c.id == values["interface_id"]))).one_or_none()
    if found is not None and found.type not in VIRTUAL_INTERFACE_TYPES:
        raise BadUserInput(f"interface: {found.name} is a {found.type} interface; a virtual circuit ends on a virtual one", field="interface")


async def _virtual_circuit_end_stays_virtual(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """An interface that ends a virtual circuit keeps a virtual type (else the rule above
    could be dodged by changing the type afterwards)."""
    if values.get("type") is None or values["type"] in VIRTUAL_INTERFACE_TYPES:
        return
    table = spec_for(VIRTUAL_TERMINATION).table
    if (await write.conn.execute(sa.select(table.c.id).where(table.c.interface_id == old.id).limit(1))).first() is not None:
        raise BadUserInput(f"type: {old.name} ends a virtual circuit, so it stays a virtual interface", field="type")
