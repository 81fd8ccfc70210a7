"""Registration and access control: every operation is checked (issue #5)."""

# ruff: noqa: ARG005  (the table of calls takes (inventory, world) whether it needs both or not)

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import etomkit as ek
from etomkit.inventory.access import secret_matches
from etomkit.inventory.operations import INVENTORY_OPERATIONS
from etomkit.model.client import OPERATIONS

LOW_COST = 16  # scrypt n for tests: the cost parameters are stored with each hash
MOBILE = (ek.EntityRef(id="mobile", name="Mobile"),)
FIXED = (ek.EntityRef(id="fixed", name="Fixed"),)
NOT_OPERATIONS = {"as_client"}  # the one public method that is not a data operation


class World:
    """An access-controlled inventory with data every operation can work on."""

    def __init__(self, store: ek.Store) -> None:
        self.store = store
        self.access = ek.AccessControl(store.clients, scrypt_n=LOW_COST, insecure_low_cost=True)
        self.meter = ek.UsageMeter()
        self.inv = ek.ProductOfferingInventory(store, access=self.access, usage=self.meter)
        self.admin_secret = self.access.bootstrap().secret
        admin = self.inv.as_client(self.admin_secret)
        self.offering = _launched(admin, "Fibre", MOBILE)
        self.draft = admin.create_offering(ek.ProductOffering(name="Draft", category=MOBILE))
        self.spare = admin.create_offering(ek.ProductOffering(name="Spare", category=MOBILE))
        self.product = admin.record_purchase(
            customer=ek.PartyRef(id="c-1"),
            offering_id=self.offering.id or "",
            order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
        )
        self.ended = admin.record_purchase(  # a terminated product (one that can be deleted)
            customer=ek.PartyRef(id="c-3"),
            offering_id=self.offering.id or "",
            order_item=ek.OrderItemRef(order_id="po-3", item_id="1"),
            status="active",
        )
        self.ended = admin.transition_product(self.ended.id or "", "terminated")

    oid = property(lambda self: self.offering.id or "")
    draft_id = property(lambda self: self.draft.id or "")
    spare_id = property(lambda self: self.spare.id or "")
    pid = property(lambda self: self.product.id or "")
    ended_id = property(lambda self: self.ended.id or "")

    def client(self, *permissions: ek.Permission) -> ek.ClientSession:
        registered = self.access.register("client", permissions)
        return self.inv.as_client(registered.secret)


def _launched(inv: Any, name: str, category: Any) -> ek.ProductOffering:
    offering: ek.ProductOffering = inv.create_offering(
        ek.ProductOffering(name=name, category=category)
    )
    for status in ("In design", "In test", "Active", "Launched"):
        offering = inv.transition_offering(offering.id or "", status)
    return offering


@pytest.fixture(params=["memory", "file"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    store = ek.InMemoryStore() if request.param == "memory" else ek.FileStore(tmp_path / "s")
    yield World(store)
    store.close()


def _new_document(name: str, category: Any = MOBILE) -> str:
    return json.dumps([ek.tmf.to_json(ek.ProductOffering(name=name, category=category))])


#: For every operation: how to call it so that it succeeds on a fresh World.
#: ``i`` is the inventory or a ClientSession (which has the same operations, checked).
CALLS: dict[str, Callable[[Any, World], Any]] = {
    "create_offering": lambda i, w: i.create_offering(ek.ProductOffering(name="N")),
    "get_offering": lambda i, w: i.get_offering(w.oid),
    "find_offering": lambda i, w: i.find_offering(w.oid),
    "modify_offering": lambda i, w: i.modify_offering(w.draft_id, {"description": "d"}),
    "update_offering": lambda i, w: i.update_offering(w.draft),
    "transition_offering": lambda i, w: i.transition_offering(w.draft_id, "In design"),
    "delete_offering": lambda i, w: i.delete_offering(w.spare_id),
    "list_offerings": lambda i, w: i.list_offerings(),
    "iter_offerings": lambda i, w: list(i.iter_offerings()),
    "download_offerings": lambda i, w: i.download_offerings(),
    "import_offerings": lambda i, w: i.import_offerings(_new_document("Imported")),
    "record_purchase": lambda i, w: i.record_purchase(
        customer=ek.PartyRef(id="c-2"),
        offering_id=w.oid,
        order_item=ek.OrderItemRef(order_id="po-2", item_id="1"),
    ),
    "get_product": lambda i, w: i.get_product(w.pid),
    "find_product": lambda i, w: i.find_product(w.pid),
    "transition_product": lambda i, w: i.transition_product(w.pid, "active"),
    "modify_product": lambda i, w: i.modify_product(w.pid, {"name": "renamed"}),
    "delete_product": lambda i, w: i.delete_product(w.ended_id),
    "products_of_customer": lambda i, w: i.products_of_customer("c-1"),
    "customers_of_offering": lambda i, w: i.customers_of_offering(w.oid),
    "list_products": lambda i, w: i.list_products(),
    "iter_products": lambda i, w: list(i.iter_products()),
    "download_products": lambda i, w: i.download_products(),
    "import_products": lambda i, w: i.import_products(
        json.dumps([
            ek.tmf.to_json(ek.Product(
                name="imported", status="created",
                product_offering=ek.EntityRef(id=w.oid),
                related_party=(ek.PartyRef(id="c-9").as_related_party("customer"),),
            ))
        ])
    ),
}  # fmt: skip


def _public_operations() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(ek.ProductOfferingInventory)
        if not name.startswith("_") and inspect.isfunction(member)
    } - NOT_OPERATIONS


def test_the_operation_table_names_every_public_operation() -> None:
    assert set(INVENTORY_OPERATIONS) == _public_operations()
    assert set(CALLS) == _public_operations()


@pytest.mark.parametrize("name", sorted(INVENTORY_OPERATIONS))
def test_each_operation_is_denied_without_its_permission(world: World, name: str) -> None:
    op = INVENTORY_OPERATIONS[name]
    everything_else = [
        ek.Permission(e, o)
        for e in ("offering", "product")
        for o in OPERATIONS
        if (e, o) != (op.entity_type, op.action)
    ]
    client = world.client(*everything_else)
    before = _snapshot(world)
    with pytest.raises(ek.AccessDeniedError) as denied:
        CALLS[name](client, world)
    assert denied.value.client_id == client.client_id
    assert (denied.value.operation, denied.value.entity_type) == (op.action, op.entity_type)
    assert _snapshot(world) == before  # nothing stored
    last = list(world.meter.records())[-1]
    assert (last.client_id, last.operation, last.outcome) == (client.client_id, name, "denied")


@pytest.mark.parametrize("name", sorted(INVENTORY_OPERATIONS))
def test_each_operation_is_allowed_with_only_its_permission(world: World, name: str) -> None:
    op = INVENTORY_OPERATIONS[name]
    needed = [ek.Permission(op.entity_type, op.action)]
    client = world.client(*needed)
    CALLS[name](client, world)
    client.close()
    last = [r for r in world.meter.records() if r.client_id == client.client_id][-1]
    assert (last.operation, last.outcome, last.entity_type) == (name, "ok", op.entity_type)


@pytest.mark.parametrize("name", sorted(INVENTORY_OPERATIONS))
def test_each_operation_is_denied_on_the_inventory_itself(world: World, name: str) -> None:
    with pytest.raises(ek.AccessDeniedError) as denied:
        CALLS[name](world.inv, world)
    assert denied.value.client_id is None
    assert "as_client" in str(denied.value)
    assert list(world.meter.records())[-1].outcome == "denied"


def test_the_store_is_not_handed_out_once_access_control_is_on(world: World) -> None:
    with pytest.raises(ek.AccessDeniedError):
        _ = world.inv.store


def _snapshot(world: World) -> tuple[Any, ...]:
    return (
        sorted((o.id, o.revision) for o in world.store.offerings.iterate()),
        sorted((p.id, p.revision) for p in world.store.products.iterate()),
    )


def test_a_session_hands_out_neither_the_store_nor_the_registry_nor_the_meter(
    world: World,
) -> None:
    client = world.client(ek.Permission("offering", "read"))
    with pytest.raises(ek.AccessDeniedError):
        _ = client.store
    assert not hasattr(client, "access") and not hasattr(client, "usage")
    with pytest.raises(ek.AccessDeniedError):
        client.as_client(world.admin_secret)
    assert client.access_mode == "client session"


def test_an_upsert_import_needs_update_too(world: World) -> None:
    client = world.client(ek.Permission("offering", "create"))
    document = json.dumps([ek.tmf.to_json(world.draft)])
    with pytest.raises(ek.AccessDeniedError, match="update"):
        client.import_offerings(document, mode="upsert")


# ---------------------------------------------------------------------- scopes


def test_a_category_scope_limits_reads_writes_and_lists(world: World) -> None:
    fixed = world.inv.as_client(world.admin_secret).create_offering(
        ek.ProductOffering(name="Copper", category=FIXED)
    )
    scoped = ek.Permission.every("offering", ("read", "create", "modify"), categories={"fixed"})
    client = world.client(*scoped)
    assert client.get_offering(fixed.id or "") == fixed
    with pytest.raises(ek.NotFoundError) as hidden:  # out of scope answers like missing
        client.get_offering(world.offering.id or "")
    assert str(hidden.value) == str(ek.NotFoundError("ProductOffering", world.oid))
    with pytest.raises(ek.NotFoundError):
        client.modify_offering(world.draft.id or "", {"description": "no"})
    with pytest.raises(ek.AccessDeniedError):
        client.create_offering(ek.ProductOffering(name="Mobile 5G", category=MOBILE))
    client.create_offering(ek.ProductOffering(name="Copper 2", category=FIXED))
    page = client.list_offerings()
    assert {o.name for o in page.items} == {"Copper", "Copper 2"}
    assert page.total == 2
    assert {o.name for o in client.iter_offerings()} == {"Copper", "Copper 2"}


def test_a_scoped_client_cannot_move_or_overwrite_offerings_out_of_scope(world: World) -> None:
    admin = world.inv.as_client(world.admin_secret)
    fixed = admin.create_offering(ek.ProductOffering(name="Copper", category=FIXED))
    actions = ("create", "read", "modify", "update")
    client = world.client(*ek.Permission.every("offering", actions, categories={"mobile"}))
    with pytest.raises(ek.AccessDeniedError):  # moving its own offering out of scope
        client.modify_offering(world.draft_id, {"category": FIXED})
    hijack = ek.tmf.to_json(fixed)
    hijack.update(category=[{"id": "mobile"}], name="hijacked")
    with pytest.raises(ek.AccessDeniedError):  # replacing a record it may not see
        client.import_offerings([hijack], mode="upsert")
    assert world.store.offerings.get(fixed.id or "") == fixed
    assert world.store.offerings.get(world.draft_id).category == MOBILE
    client.modify_offering(world.draft_id, {"category": MOBILE + FIXED})  # still in scope


def test_a_product_is_in_scope_when_its_offering_is(world: World) -> None:
    mobile_reader = world.client(ek.Permission("product", "read", categories={"mobile"}))
    fixed_reader = world.client(ek.Permission("product", "read", categories={"fixed"}))
    assert mobile_reader.get_product(world.product.id or "") == world.product
    with pytest.raises(ek.NotFoundError):
        fixed_reader.get_product(world.product.id or "")
    assert fixed_reader.products_of_customer("c-1") == []
    assert fixed_reader.list_products().total == 0


# ---------------------------------------------------------------------- secrets


def test_secrets_are_never_stored_or_logged_in_clear(tmp_path: Path) -> None:
    store = ek.FileStore(tmp_path / "store", durability="always")
    log = ek.FileUsageLog(tmp_path / "store" / "usage.log", durability="always")
    access = ek.AccessControl(store.clients, scrypt_n=LOW_COST, insecure_low_cost=True)
    meter = ek.UsageMeter(log)
    inv = ek.ProductOfferingInventory(store, access=access, usage=meter)
    admin = access.bootstrap()
    session = inv.as_client(admin.secret)
    crm = session.register_client("crm", [ek.Permission("offering", "read")])
    rotated = session.rotate_secret(crm.client.id)
    for attempt in (crm.secret, rotated.secret + "x", "nobody.at-all"):
        with pytest.raises(ek.AccessDeniedError) as denied:
            inv.as_client(attempt)
        assert attempt not in str(denied.value)
    inv.as_client(rotated.secret).list_offerings()
    meter.close()
    store.close()
    secrets = [admin.secret, crm.secret, rotated.secret]
    assert all(s not in repr(r) for s, r in zip(secrets, (admin, crm, rotated), strict=True))
    stored = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file())
    assert stored  # the registry and the log were written
    for secret in secrets:
        random_part = secret.partition(".")[2]
        assert random_part.encode() not in stored
        assert secret.encode() not in stored
    reopened = ek.FileStore(tmp_path / "store", read_only=True)
    stored_hash = reopened.clients.get(crm.client.id or "").secret_hash
    assert stored_hash is not None
    assert secret_matches(rotated.secret, stored_hash)
    assert not secret_matches(crm.secret, stored_hash)
    reopened.close()


def test_a_rotated_secret_replaces_the_old_one_and_ends_its_sessions(world: World) -> None:
    registered = world.access.register("crm", [ek.Permission("offering", "read")])
    session = world.inv.as_client(registered.secret)
    session.get_offering(world.offering.id or "")
    rotated = world.access.rotate_secret(registered.client.id or "")
    with pytest.raises(ek.AccessDeniedError, match="session ended"):
        session.get_offering(world.offering.id or "")
    with pytest.raises(ek.AccessDeniedError, match="unknown client or secret"):
        world.inv.as_client(registered.secret)
    assert world.inv.as_client(rotated.secret).get_offering(world.offering.id or "")


def test_a_revoked_client_cannot_authenticate_and_its_sessions_end(world: World) -> None:
    registered = world.access.register("crm", [ek.Permission("offering", "read")])
    session = world.inv.as_client(registered.secret)
    admin = world.inv.as_client(world.admin_secret)
    revoked = admin.revoke_client(registered.client.id or "")
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    with pytest.raises(ek.AccessDeniedError, match="session ended"):
        session.list_offerings()
    with pytest.raises(ek.AccessDeniedError, match="revoked"):
        world.inv.as_client(registered.secret)
    assert [c.name for c in admin.registered_clients(status="revoked")] == ["crm"]


def test_changed_permissions_apply_to_open_sessions_at_once(world: World) -> None:
    registered = world.access.register("crm", [ek.Permission("offering", "read")])
    session = world.inv.as_client(registered.secret)
    with pytest.raises(ek.AccessDeniedError):
        session.get_product(world.product.id or "")
    world.access.set_permissions(registered.client.id or "", [ek.Permission("product", "read")])
    assert session.get_product(world.product.id or "") == world.product
    with pytest.raises(ek.AccessDeniedError):
        session.get_offering(world.offering.id or "")


def test_only_administrators_manage_clients(world: World) -> None:
    client = world.client(ek.Permission("offering", "read"))
    with pytest.raises(ek.AccessDeniedError, match="admin"):
        client.register_client("rogue", [ek.Permission("offering", "delete")])
    own = client.rotate_secret()  # its own secret: no admin needed
    assert world.inv.as_client(own.secret).client_id == client.client_id


def test_usage_reports_need_read_on_usage(world: World) -> None:
    client = world.client(ek.Permission("offering", "read"))
    with pytest.raises(ek.AccessDeniedError, match="'usage'"):
        client.usage_report()
    auditor = world.client(ek.Permission("usage", "read"))
    report = auditor.usage_report(period="month")
    assert client.client_id in {t.key for t in report.totals("client")}
    assert auditor.shortcomings().shortcomings == ()


def test_bootstrap_works_only_on_an_empty_registry(world: World) -> None:
    with pytest.raises(ek.AccessDeniedError):
        world.access.bootstrap()


def test_bad_permissions_are_refused_with_every_problem() -> None:
    with pytest.raises(ek.ValidationError) as bad:
        ek.Permission("offerings", "write")
    fields = [path for path, _ in bad.value.problems]
    assert fields == ["entity_type", "operation"]
    with pytest.raises(ek.ValidationError, match="categories"):
        ek.Permission("client", "admin", categories={"mobile"})


def test_registering_without_a_name_stores_nothing(world: World) -> None:
    before = len(world.store.clients)
    with pytest.raises(ek.ValidationError):
        world.access.register(" ", [ek.Permission("offering", "read")])
    assert len(world.store.clients) == before


# ---------------------------------------------------------------------- open inventories


def test_an_unconfigured_inventory_runs_open_and_says_so() -> None:
    inv = ek.ProductOfferingInventory(ek.InMemoryStore())
    assert inv.access_mode == "open"
    assert "open: no access control" in repr(inv)
    inv.create_offering(ek.ProductOffering(name="x"))
    with pytest.raises(ek.ValidationError, match="no access control"):
        inv.as_client("anything")


def test_a_metered_open_inventory_records_every_call_as_the_open_client() -> None:
    meter = ek.UsageMeter()
    inv = ek.ProductOfferingInventory(ek.InMemoryStore(), usage=meter)
    assert inv.access_mode == "open, metered"
    offering = inv.create_offering(ek.ProductOffering(name="x"))
    inv.get_offering(offering.id or "")
    records = list(meter.records())
    assert [(r.client_id, r.operation) for r in records] == [
        ("open", "create_offering"),
        ("open", "get_offering"),
    ]
