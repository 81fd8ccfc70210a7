"""Each attack of issue #12 on a low-privilege ClientSession, reproduced and refused."""

from __future__ import annotations

import copy
import gc
import json
import os
import pickle
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.inventory.test_access import FIXED, LOW_COST, MOBILE, World

import etomkit as ek
from etomkit.inventory.access import Principal, hash_secret, secret_matches
from etomkit.inventory.reads import MIDNIGHT
from etomkit.model.client import SecretHash


@pytest.fixture
def world() -> World:
    return World(ek.InMemoryStore())


def _reader(world: World, **scope: Any) -> ek.ClientSession:
    return world.client(ek.Permission("offering", "read", **scope))


def _admin_id(world: World) -> str:
    return next(c.id for c in world.access.registered() if c.name == "administrator") or ""


# ---------------------------------------------------------------------- identity and grants


def test_a_session_cannot_take_the_administrators_identity(world: World) -> None:
    session = _reader(world)
    admin_id = _admin_id(world)
    with pytest.raises(AttributeError, match="read-only"):
        session.client_id = admin_id
    with pytest.raises(AttributeError):
        del session.client_name

    class Lookalike(str):
        def __eq__(self, other: object) -> bool:
            return True

        def __hash__(self) -> int:
            return hash(admin_id)

    with pytest.raises(ek.ValidationError):
        session.rotate_secret(Lookalike(admin_id))
    with pytest.raises(ek.AccessDeniedError, match="admin"):
        session.rotate_secret(admin_id)
    assert world.inv.as_client(world.admin_secret).client_id == admin_id  # not locked out


def test_a_session_cannot_grant_itself_permissions(world: World) -> None:
    session = _reader(world)
    assert not hasattr(session, "access_changed")
    with pytest.raises(TypeError):
        session.principal.grants[("client", "admin")] = None  # type: ignore[index]
    with pytest.raises(AttributeError):
        session.principal = Principal(session.client_id, "x", {})
    with pytest.raises(ek.AccessDeniedError):
        session.create_offering(ek.ProductOffering(name="Rogue"))
    with pytest.raises(ek.AccessDeniedError):
        session.register_client("rogue", [ek.Permission("client", "admin")])


def test_checked_operations_cannot_be_bypassed_through_the_class(world: World) -> None:
    session = _reader(world)
    before = len(world.store.offerings)
    assert not isinstance(session, ek.ProductOfferingInventory)
    with pytest.raises((AttributeError, TypeError)):
        ek.ProductOfferingInventory.create_offering(session, ek.ProductOffering(name="x"))
    assert len(world.store.offerings) == before
    with pytest.raises(TypeError):
        ek.ClientSession()


def test_a_session_cannot_switch_the_hosts_policies_off(world: World) -> None:
    session = _reader(world)
    for name, value in (("requirements", None), ("purchasable", {"In study"}),
                        ("offering_lifecycle", None), ("get_offering", print)):  # fmt: skip
        with pytest.raises(AttributeError):
            setattr(session, name, value)
    assert world.inv.purchasable == frozenset({"Active", "Launched"})


def test_a_session_cannot_be_copied_or_pickled(world: World) -> None:
    session = _reader(world)
    for duplicate in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match="cannot be copied"):
            duplicate(session)


# ---------------------------------------------------------------------- live checks


def test_revocation_reaches_held_operations_and_started_iterators(world: World) -> None:
    session = world.client(*ek.Permission.every("offering", ("read", "create")))
    create, get, find = session.create_offering, session.get_offering, session.find_offering
    stream = session.iter_offerings()
    next(stream)
    world.access.revoke(session.client_id)
    calls: tuple[Callable[[], Any], ...] = (
        lambda: create(ek.ProductOffering(name="late")),
        lambda: get(world.oid),
        lambda: find(world.oid),
        lambda: next(stream),
        lambda: session.list_offerings(),
    )
    for call in calls:
        with pytest.raises(ek.AccessDeniedError):
            call()
    assert session.principal.grants == {}


def test_a_downgrade_and_a_rotation_reach_held_operations(world: World) -> None:
    registered = world.access.register("crm", [ek.Permission("offering", "read")])
    session = world.inv.as_client(registered.secret)
    get = session.get_offering
    assert get(world.oid) == world.offering
    world.access.set_permissions(session.client_id, [ek.Permission("product", "read")])
    with pytest.raises(ek.AccessDeniedError, match="no 'read' permission"):
        get(world.oid)
    assert session.get_product(world.pid) == world.product
    world.access.rotate_secret(session.client_id)
    with pytest.raises(ek.AccessDeniedError, match="rotated"):
        session.get_product(world.pid)


# ---------------------------------------------------------------------- canonical inputs


class _Alike:
    """Not a str, but hashes and compares like ``target``."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __hash__(self) -> int:
        return hash(self.target)

    def __eq__(self, other: object) -> bool:
        return True


def test_an_id_that_is_not_a_str_is_refused_before_the_scope_check(world: World) -> None:
    admin = world.inv.as_client(world.admin_secret)
    fixed = admin.create_offering(ek.ProductOffering(name="Copper", category=FIXED))
    scoped = world.client(
        *ek.Permission.every("offering", ("read", "modify"), categories={"mobile"})
    )
    with pytest.raises(ek.ValidationError):
        scoped.get_offering(_Alike(fixed.id or ""))  # type: ignore[arg-type]
    with pytest.raises(ek.ValidationError):
        scoped.modify_offering(_Alike(fixed.id or ""), {"description": "mine"})  # type: ignore[arg-type]
    assert world.store.offerings.get(fixed.id or "") == fixed


class _LyingChanges(Mapping[str, Any]):
    """Says it has no "category" when asked, yet yields one."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __contains__(self, key: object) -> bool:
        return False


def test_a_lying_mapping_cannot_move_an_offering_out_of_scope(world: World) -> None:
    scoped = world.client(
        *ek.Permission.every("offering", ("read", "modify"), categories={"mobile"})
    )
    with pytest.raises(ek.AccessDeniedError):
        scoped.modify_offering(world.draft_id, _LyingChanges({"category": FIXED}))
    assert world.store.offerings.get(world.draft_id).category == MOBILE


class _TwoFaced(dict):  # type: ignore[type-arg]
    """An import document showing one category to one reader and another to the next."""

    reads = 0

    def items(self) -> Any:
        _TwoFaced.reads += 1
        shown = dict(super().items())
        if _TwoFaced.reads > 1:
            shown["category"] = [{"id": "fixed"}]
        return shown.items()


def test_an_import_document_is_checked_and_stored_as_one_copy(world: World) -> None:
    scoped = world.client(ek.Permission("offering", "create", categories={"mobile"}))
    document = _TwoFaced(ek.tmf.to_json(ek.ProductOffering(name="Sneaky", category=MOBILE)))
    result = scoped.import_offerings([document])
    stored = world.store.offerings.get(result.created[0])
    assert stored.category_ids == ("mobile",)


# ---------------------------------------------------------------------- leaks across scopes


def test_out_of_scope_and_missing_answer_alike(world: World) -> None:
    admin = world.inv.as_client(world.admin_secret)
    fixed = admin.create_offering(ek.ProductOffering(name="Copper", category=FIXED))
    scoped = world.client(
        *ek.Permission.every("offering", ("read", "delete"), categories={"mobile"})
    )
    answers = []
    for offering_id in (fixed.id or "", "no-such-offering"):
        with pytest.raises(ek.NotFoundError) as error:
            scoped.get_offering(offering_id)
        answers.append(str(error.value).replace(offering_id, "<id>"))
        assert scoped.find_offering(offering_id) is None
        with pytest.raises(ek.NotFoundError):
            scoped.delete_offering(offering_id)
    assert answers[0] == answers[1]
    denied = [r for r in world.meter.records() if r.client_id == scoped.client_id]
    assert "denied" in {r.outcome for r in denied}  # the host still sees the attempt


def test_conflict_messages_name_only_what_the_caller_may_read(world: World) -> None:
    deleter = world.client(ek.Permission("offering", "delete"))
    with pytest.raises(ek.ConflictError) as refused:
        deleter.delete_offering(world.oid)
    assert world.pid not in str(refused.value)
    buyer = world.client(ek.Permission("product", "create"))
    with pytest.raises(ek.ConflictError) as clash:
        buyer.record_purchase(
            customer=ek.PartyRef(id="c-other"),
            offering_id=world.spare_id,
            order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
        )
    for secret_id in (world.pid, "c-1", world.oid):
        assert secret_id not in str(clash.value)


def test_authentication_failures_are_indistinguishable(world: World) -> None:
    known = _admin_id(world)
    errors = []
    for attempt in (f"{known}.wrong", "unknown-client.wrong", "no-dot-at-all"):
        with pytest.raises(ek.AccessDeniedError) as denied:
            world.inv.as_client(attempt)
        errors.append((denied.value.client_id, denied.value.reason, str(denied.value)))
    assert len(set(errors)) == 1


# ---------------------------------------------------------------------- the usage log


def test_an_unencodable_id_does_not_jam_the_usage_log(tmp_path: Path) -> None:
    store = ek.InMemoryStore()
    access = ek.AccessControl(store.clients, scrypt_n=LOW_COST, insecure_low_cost=True)
    log = ek.FileUsageLog(tmp_path / "usage.log")
    meter = ek.UsageMeter(log)
    inv = ek.ProductOfferingInventory(store, access=access, usage=meter)
    admin = inv.as_client(access.bootstrap().secret)
    reader = inv.as_client(access.register("r", [ek.Permission("offering", "read")]).secret)
    with pytest.raises(ek.AccessDeniedError):
        reader.delete_offering("\ud800")
    admin.create_offering(ek.ProductOffering(name="after"))
    meter.flush()
    records = list(log.records())
    assert [r.operation for r in records][-2:] == ["delete_offering", "create_offering"]
    assert records[-2].entity_ids == ("\ud800",)
    assert meter.recording["failed_writes"] == 0
    log.close()


class _Failing(ek.InMemoryUsageLog):
    def __init__(self) -> None:
        super().__init__()
        self.down = True

    def append_rows(self, rows: Any) -> None:
        if self.down:
            raise ek.StorageError("read-only file system")
        super().append_rows(rows)


def test_a_failing_log_never_blocks_calls_and_is_reported() -> None:
    log = _Failing()
    meter = ek.UsageMeter(log, flush_every=1)
    inv = ek.ProductOfferingInventory(ek.InMemoryStore(), usage=meter)
    inv.create_offering(ek.ProductOffering(name="kept"))  # recording fails, the call does not
    assert meter.recording["failed_writes"] >= 1
    report = meter.shortcomings()
    assert "usageRecordingFailed" in {s.kind for s in report.shortcomings}
    log.down = False
    meter.flush()
    assert [r.operation for r in log.records()] == ["create_offering"]


def test_file_usage_log_os_errors_surface_as_storage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = ek.FileUsageLog(tmp_path / "usage.log")

    def read_only(*_: Any) -> int:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "pwrite", read_only)
    with pytest.raises(ek.StorageError, match="nothing was stored"):
        log.append_rows(
            [(0.0, "c", "get_offering", "read", "offering", "ok", (), 0, 1, None, 0.0, None, "c")]
        )
    monkeypatch.undo()
    log.close()
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(ek.StorageError):
        ek.FileUsageLog(blocked / "usage.log")


def test_keyed_reads_of_a_dropped_session_are_recorded(world: World) -> None:
    session = _reader(world)
    client_id = session.client_id
    for _ in range(25):
        session.get_offering(world.oid)
    del session
    gc.collect()
    reads = [r for r in world.meter.records() if r.client_id == client_id]
    assert sum(r.calls for r in reads if r.operation == "get_offering") == 25


def test_a_partly_read_stream_records_what_was_read(world: World) -> None:
    session = _reader(world)
    stream = session.iter_offerings()
    next(stream)
    stream.close()  # type: ignore[attr-defined]
    abandoned = session.iter_offerings()
    next(abandoned)
    next(abandoned)
    del abandoned
    gc.collect()
    counts = [r.count for r in world.meter.records() if r.operation == "iter_offerings"]
    assert counts[-2:] == [1, 2]


def test_records_carry_the_authenticated_identity_only(world: World) -> None:
    session = _reader(world)
    with pytest.raises(AttributeError):
        session.client_id = _admin_id(world)
    session.get_offering(world.oid)
    session.close()
    last = [r for r in world.meter.records() if r.operation == "get_offering"][-1]
    assert (last.client_id, last.client_name) == (session.client_id, "client")


def test_a_keyed_read_batch_never_straddles_midnight() -> None:
    clock = ek.ManualClock(datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC))
    store = ek.InMemoryStore()
    access = ek.AccessControl(store.clients, clock=clock, scrypt_n=LOW_COST, insecure_low_cost=True)
    meter = ek.UsageMeter(clock=clock)
    inv = ek.ProductOfferingInventory(store, clock=clock, access=access, usage=meter)
    admin = inv.as_client(access.bootstrap().secret)
    offering = admin.create_offering(ek.ProductOffering(name="late"))
    admin.get_offering(offering.id or "")
    clock.advance(timedelta(seconds=2))
    admin.get_offering(offering.id or "")
    admin.close()
    gets = [r for r in meter.records() if r.operation == "get_offering"]
    assert [(r.at.date().day, r.calls) for r in gets] == [(1, 1), (2, 1)]


def test_the_midnight_window_seals_pending_reads_of_system_clock_sessions() -> None:
    meter = ek.UsageMeter()
    inv = ek.ProductOfferingInventory(ek.InMemoryStore(), usage=meter)
    offering = inv.create_offering(ek.ProductOffering(name="x"))
    inv.get_offering(offering.id or "")
    try:
        MIDNIGHT.switch(True)  # what the thread does 2 s before midnight
        meter.flush()
        assert [r.operation for r in meter.log.records()][-1] == "get_offering"
        inv.get_offering(offering.id or "")  # stamped with the clock inside the window
    finally:
        MIDNIGHT.switch(False)
    assert [r.calls for r in meter.records() if r.operation == "get_offering"] == [1, 1]


# ---------------------------------------------------------------------- secrets


def test_weak_or_invalid_scrypt_parameters_are_refused() -> None:
    repo = ek.InMemoryStore().clients
    for n in (1, 2, 3, 2**14, 2**16 + 1):
        with pytest.raises(ek.ValidationError):
            ek.AccessControl(repo, scrypt_n=n)
    with pytest.raises(ek.ValidationError):
        ek.AccessControl(repo, scrypt_r=4)
    for n in (1, 3):
        with pytest.raises(ek.ValidationError):
            hash_secret("s", n=n)


def test_the_default_scrypt_cost_is_at_least_owasps() -> None:
    store = ek.InMemoryStore()
    stored = ek.AccessControl(store.clients).bootstrap().client.secret_hash
    assert stored is not None
    assert (stored.n or 0) >= 2**17 and stored.r == 8 and stored.p == 1


def test_an_old_hash_still_verifies_and_is_upgraded_on_authentication() -> None:
    store = ek.InMemoryStore()
    weak = ek.AccessControl(store.clients, scrypt_n=2**4, insecure_low_cost=True)
    admin = weak.bootstrap()
    stronger = ek.AccessControl(store.clients, scrypt_n=2**6, insecure_low_cost=True)
    stronger.authenticate(admin.secret)
    upgraded = store.clients.get(admin.client.id or "").secret_hash
    assert upgraded is not None and upgraded.n == 2**6
    assert secret_matches(admin.secret, upgraded)
    assert not secret_matches(
        admin.secret, SecretHash(algorithm="scrypt", salt="00", digest="00", n=3, r=8, p=1)
    )


# ---------------------------------------------------------------------- reachability


def _reachable(root: object) -> Iterator[tuple[str, object]]:
    seen: set[int] = set()
    todo: list[tuple[str, object]] = [("session", root)]
    while todo:
        path, value = todo.pop()
        if id(value) in seen or len(seen) > 5000:
            continue
        seen.add(id(value))
        yield path, value
        if isinstance(value, (str, bytes, int, float, bool, type(None))):
            continue
        for name in dir(value):
            if name.startswith("__"):
                continue
            try:
                attribute = getattr(value, name)
            except Exception:
                continue
            todo.append((f"{path}.{name}", attribute))
        if isinstance(value, Mapping):
            todo.extend((f"{path}[{k!r}]", v) for k, v in value.items())
        elif isinstance(value, (tuple, frozenset)):
            todo.extend((f"{path}[]", v) for v in value)


def test_nothing_reachable_from_a_session_is_the_store_registry_meter_or_a_mutable_policy(
    world: World,
) -> None:
    session = world.client(*ek.Permission.every("offering"), ek.Permission("client", "admin"))
    forbidden = (world.store, world.store.clients, world.store.offerings, world.access,
                 world.meter, world.meter.log, world.inv)  # fmt: skip
    for path, value in _reachable(session):
        assert not any(value is f for f in forbidden), path
        assert not isinstance(value, (ek.Store, ek.UsageMeter, ek.AccessControl, ek.UsageLog)), path
        assert not isinstance(value, (dict, list, set, bytearray)), path  # nothing mutable


def test_the_session_module_does_not_import_the_service() -> None:
    source = Path(ek.inventory.session.__file__).read_text(encoding="utf-8")
    assert "inventory.service" not in source and "import service" not in source
    guards = Path(ek.inventory.guards.__file__).read_text(encoding="utf-8")
    assert "inventory.service" not in guards
    assert json.dumps(["ok"])  # keep json imported for the document helpers above


def test_a_lookalike_id_on_an_unscoped_read_is_recorded_as_text(world: World) -> None:
    session = _reader(world)
    assert session.get_offering(_Alike(world.oid)) == world.offering  # type: ignore[arg-type]
    session.close()
    last = [r for r in world.meter.records() if r.operation == "get_offering"][-1]
    assert last.entity_ids == ("<_Alike>",)
    assert all(type(i) is str for i in last.entity_ids)
