"""Download and import of offerings and products as TMF JSON: lossless, validated, atomic."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.tmf.strategies import offerings

import etomkit as ek
from etomkit import tmf

Launch = Callable[..., ek.ProductOffering]
Unchanged = Callable[[], AbstractContextManager[None]]

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _id(entity: ek.ProductOffering | ek.Product) -> str:
    assert entity.id is not None
    return entity.id


def _paths(error: ek.ValidationError) -> list[str]:
    return [path for path, _ in error.problems]


def _fresh() -> tuple[ek.ProductOfferingInventory, ek.InMemoryEventSink]:
    events = ek.InMemoryEventSink()
    inventory = ek.ProductOfferingInventory(
        ek.InMemoryStore(),
        clock=ek.ManualClock(NOW + timedelta(days=100)),
        ids=ek.SequentialIdFactory(prefix="other-"),
        events=events,
    )
    return inventory, events


def _unrevised(entities: list[Any]) -> list[Any]:
    """Entities without etomkit's revision counter (not part of TMF JSON)."""
    return [attrs.evolve(e, revision=0) for e in entities]


def _offering_doc(n: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"po-{n}", "name": f"Offer {n}", "lifecycleStatus": "Launched", **fields}


def _product_doc(n: int, offering: str = "po-0", **fields: Any) -> dict[str, Any]:
    return {
        "id": f"p-{n}",
        "status": "active",
        "productOffering": {"id": offering},
        "relatedParty": [{"id": f"c-{n}", "role": "customer", "@referredType": "Customer"}],
        "productOrderItem": [{"productOrderId": f"o-{n}", "orderItemId": "1"}],
        **fields,
    }


@pytest.fixture
def populated(
    inventory: ek.ProductOfferingInventory, launch: Launch, clock: ek.ManualClock
) -> ek.ProductOfferingInventory:
    """Offerings in several states (one a bundle, one with unknown TMF attributes) and
    products in several statuses, including aborted."""
    fibre = launch(
        "Fibre 1G",
        category=(ek.EntityRef(id="broadband", name="Broadband", extras={"x_rank": 1}),),
        valid_for=ek.TimePeriod(start_date_time=NOW),
        extras={"channel": [{"id": "web"}], "productOfferingTerm": [{"name": "12 months"}]},
    )
    tv = launch("TV")
    bundle = inventory.create_offering(
        ek.ProductOffering(
            name="Fibre + TV",
            is_bundle=True,
            bundled_product_offering=(ek.EntityRef(id=_id(fibre)), ek.EntityRef(id=_id(tv))),
        )
    )
    inventory.transition_offering(_id(bundle), "In design")
    rejected = inventory.create_offering(ek.ProductOffering(name="Copper"))
    inventory.transition_offering(_id(rejected), "Rejected", reason="no demand")
    clock.advance(timedelta(days=1))
    customers = ["c-1", "c-2", "c-3", "c-1"]
    for n, customer in enumerate(customers):
        product = inventory.record_purchase(
            customer=ek.RelatedParty(
                id=customer, role="customer", referred_type="Customer", extras={"x_tier": "gold"}
            ),
            offering_id=_id(fibre if n % 2 == 0 else tv),
            order_item=ek.OrderItemRef(order_id=f"o-{n}", item_id="1", extras={"x_channel": "web"}),
            characteristics=[ek.Characteristic(name="speed", value=1000 * (n + 1))],
        )
        steps = [[], ["active"], ["pendingActive", "aborted"], ["active", "terminated"]][n]
        for step in steps:
            inventory.transition_product(_id(product), step)
    return inventory


# ---------------------------------------------------------------- download


def test_download_as_a_document_is_a_json_array_of_tmf_offerings(
    populated: ek.ProductOfferingInventory,
) -> None:
    text = populated.download_offerings()
    docs = json.loads(text)
    stored = list(populated.iter_offerings())
    assert docs == [tmf.to_json(o) for o in stored]
    assert len(docs) == 4
    assert docs[0]["channel"] == [{"id": "web"}]


def test_download_as_json_lines_has_one_tmf_document_per_line(
    populated: ek.ProductOfferingInventory,
) -> None:
    text = populated.download_products(format="jsonl")
    lines = text.splitlines()
    assert [json.loads(line) for line in lines] == [
        tmf.to_json(p) for p in populated.list_products(limit=None).items
    ]
    assert len(lines) == 4
    assert text.endswith("\n")
    assert json.loads(lines[2])["status"] == "aborted "


def test_download_of_a_filter_holds_only_the_matching_entities(
    populated: ek.ProductOfferingInventory,
) -> None:
    launched = json.loads(
        populated.download_offerings(ek.OfferingFilter(lifecycle_status="Launched"))
    )
    assert [d["name"] for d in launched] == ["Fibre 1G", "TV"]
    of_c1 = populated.download_products(ek.ProductFilter(customer_id="c-1"), format="jsonl")
    assert [json.loads(line)["relatedParty"][0]["id"] for line in of_c1.splitlines()] == [
        "c-1",
        "c-1",
    ]


def test_download_of_nothing_is_an_empty_document(inventory: ek.ProductOfferingInventory) -> None:
    assert json.loads(inventory.download_offerings()) == []
    assert inventory.download_products(format="jsonl") == ""


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_download_streams_to_a_file_and_returns_nothing(
    populated: ek.ProductOfferingInventory, fmt: Any, tmp_path: Path
) -> None:
    buffer = io.StringIO()
    assert populated.download_offerings(format=fmt, out=buffer) == ""
    assert buffer.getvalue() == populated.download_offerings(format=fmt)
    target = tmp_path / f"products.{fmt}"
    with target.open("w", encoding="utf-8") as out:
        assert populated.download_products(format=fmt, out=out) == ""
    assert target.read_text(encoding="utf-8") == populated.download_products(format=fmt)


def test_download_in_an_unknown_format_is_a_validation_error(
    populated: ek.ProductOfferingInventory,
) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        populated.download_offerings(format="xml")  # type: ignore[arg-type]
    assert _paths(caught.value) == ["format"]


# ---------------------------------------------------------------- round trip


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_export_then_import_into_a_fresh_inventory_is_lossless(
    populated: ek.ProductOfferingInventory, fmt: Any
) -> None:
    offerings_text = populated.download_offerings(format=fmt)
    products_text = populated.download_products(format=fmt)
    copy, _ = _fresh()
    result = copy.import_offerings(offerings_text)
    assert result.created == tuple(o.id for o in populated.iter_offerings())
    assert result.replaced == ()
    assert copy.import_products(products_text).count == 4
    assert _unrevised(list(copy.iter_offerings())) == _unrevised(list(populated.iter_offerings()))
    assert _unrevised(list(copy.list_products(limit=None).items)) == _unrevised(
        list(populated.list_products(limit=None).items)
    )
    assert copy.download_offerings(format=fmt) == offerings_text
    assert copy.download_products(format=fmt) == products_text


def test_imported_products_are_found_by_customer_offering_and_order_item(
    populated: ek.ProductOfferingInventory,
) -> None:
    copy, _ = _fresh()
    copy.import_offerings(populated.download_offerings())
    copy.import_products(populated.download_products(format="jsonl"))
    for customer in ("c-1", "c-2", "c-3"):
        assert copy.products_of_customer(customer) == [
            attrs.evolve(p, revision=1) for p in populated.products_of_customer(customer)
        ]
    fibre = copy.list_offerings(name="Fibre 1G").items[0]
    assert [c.id for c in copy.customers_of_offering(_id(fibre))] == ["c-1"]
    again = copy.record_purchase(
        customer=ek.PartyRef(id="c-1"),
        offering_id=_id(fibre),
        order_item=ek.OrderItemRef(order_id="o-0", item_id="1"),
    )
    assert again.id == populated.products_of_customer("c-1")[0].id


@settings(max_examples=15)
@given(st.lists(offerings(bundles=False), max_size=4, unique_by=lambda o: o.id))
@example([ek.ProductOffering(name="Fibre\u2028TV", id="po-1", extras={"x_note": "a\x85b"})])
def test_any_offerings_survive_download_and_import(items: list[ek.ProductOffering]) -> None:
    source, _ = _fresh()
    source.import_offerings([tmf.to_json(o) for o in items])
    text = source.download_offerings(format="jsonl")
    target, _ = _fresh()
    target.import_offerings(text)
    assert _unrevised(list(target.iter_offerings())) == _unrevised(list(source.iter_offerings()))
    assert target.download_offerings(format="jsonl") == text


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\r"])
def test_json_lines_keep_text_with_unicode_line_separators(
    inventory: ek.ProductOfferingInventory, separator: str
) -> None:
    inventory.create_offering(
        ek.ProductOffering(name=f"Fibre{separator}TV", description=f"one{separator}two")
    )
    text = inventory.download_offerings(format="jsonl")
    copy, _ = _fresh()
    copy.import_offerings(text)
    assert [o.name for o in copy.iter_offerings()] == [f"Fibre{separator}TV"]
    assert copy.download_offerings(format="jsonl") == text


# ---------------------------------------------------------------- import


def test_import_accepts_a_document_json_lines_bytes_or_parsed_json() -> None:
    docs = [_offering_doc(n) for n in range(3)]
    sources: list[Any] = [
        json.dumps(docs),
        "\n".join(json.dumps(d) for d in docs) + "\n",
        json.dumps(docs).encode("utf-8"),
        docs,
        iter(docs),
    ]
    for source in sources:
        inventory, _ = _fresh()
        assert inventory.import_offerings(source).created == ("po-0", "po-1", "po-2")
        assert [o.name for o in inventory.iter_offerings()] == ["Offer 0", "Offer 1", "Offer 2"]


def test_import_keeps_states_as_given_in_tmf_spelling() -> None:
    inventory, _ = _fresh()
    inventory.import_offerings([_offering_doc(0, lifecycleStatus="launched"), _offering_doc(1)])
    inventory.import_products(
        [_product_doc(0, status="aborted "), _product_doc(1, status="ACTIVE")]
    )
    assert inventory.get_offering("po-0").lifecycle_status == "Launched"
    assert inventory.get_product("p-0").status == "aborted"
    assert inventory.get_product("p-1").status == "active"


def test_import_emits_a_create_event_per_entity() -> None:
    inventory, events = _fresh()
    inventory.import_offerings([_offering_doc(n) for n in range(3)])
    inventory.import_products([_product_doc(0)])
    assert [(e.event_type, e.entity.id) for e in events.events] == [
        ("ProductOfferingCreateEvent", "po-0"),
        ("ProductOfferingCreateEvent", "po-1"),
        ("ProductOfferingCreateEvent", "po-2"),
        ("ProductCreateEvent", "p-0"),
    ]


def test_import_gives_an_id_to_a_document_without_one() -> None:
    inventory, _ = _fresh()
    result = inventory.import_offerings([{"name": "No id yet", "lifecycleStatus": "Active"}])
    assert result.created == ("other-ProductOffering-1",)
    assert inventory.get_offering("other-ProductOffering-1").lifecycle_status == "Active"


def test_one_bad_record_among_many_stores_nothing_and_is_reported_by_index() -> None:
    inventory, events = _fresh()
    docs = [_offering_doc(n) for n in range(30)]
    docs[17] = _offering_doc(17, validFor={"startDateTime": "not a date"})
    with pytest.raises(ek.ValidationError) as caught:
        inventory.import_offerings(docs)
    assert _paths(caught.value) == ["[17].validFor.startDateTime"]
    assert len(inventory.store.offerings) == 0
    assert events.events == []


def test_every_bad_record_is_reported_with_its_own_index() -> None:
    inventory, events = _fresh()
    docs = [_offering_doc(n) for n in range(6)]
    docs[1] = _offering_doc(1, validFor={"startDateTime": "not a date"})
    docs[3] = _offering_doc(3, name="   ")
    docs[4] = _offering_doc(4, lifecycleStatus="Paused")
    with pytest.raises(ek.ValidationError) as caught:
        inventory.import_offerings(docs)
    paths = _paths(caught.value)
    assert "[1].validFor.startDateTime" in paths
    assert "[3].name" in paths
    assert any(p in paths for p in ("[4].lifecycle_status", "[4].lifecycleStatus")), paths
    assert len(paths) == 3
    assert len(inventory.store.offerings) == 0
    assert events.events == []


def test_a_record_of_a_json_lines_import_that_is_not_json_is_named_by_its_line() -> None:
    inventory, _ = _fresh()
    text = json.dumps(_offering_doc(0)) + "\n{not json\n" + json.dumps(_offering_doc(2)) + "\n"
    with pytest.raises(ek.ValidationError) as caught:
        inventory.import_offerings(text)
    assert _paths(caught.value) in (["line 2"], ["[1]"])
    assert len(inventory.store.offerings) == 0


def test_an_import_document_that_is_not_json_stores_nothing() -> None:
    inventory, events = _fresh()
    with pytest.raises(ek.ValidationError):
        inventory.import_offerings('[{"id": "po-1", "name": "F"},')
    assert len(inventory.store.offerings) == 0
    assert events.events == []


def test_create_mode_refuses_ids_that_exist_and_stores_nothing(
    populated: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    existing = next(populated.iter_offerings())
    docs = [_offering_doc(90), {**tmf.to_json(existing), "description": "changed"}]
    with unchanged(), pytest.raises((ek.ValidationError, ek.ConflictError)) as caught:
        populated.import_offerings(docs)
    assert _id(existing) in str(caught.value)


def test_an_id_twice_in_one_import_is_refused() -> None:
    inventory, _ = _fresh()
    with pytest.raises((ek.ValidationError, ek.ConflictError)) as caught:
        inventory.import_offerings([_offering_doc(1), _offering_doc(2), _offering_doc(1)])
    assert "po-1" in str(caught.value)
    assert len(inventory.store.offerings) == 0


def test_upsert_replaces_existing_offerings_and_creates_new_ones(
    populated: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    existing = next(populated.iter_offerings())
    seen = len(events.events)
    changed = {**tmf.to_json(existing), "description": "now with TV", "lifecycleStatus": "Retired"}
    result = populated.import_offerings([changed, _offering_doc(90)], mode="upsert")
    assert (result.created, result.replaced, result.count) == (("po-90",), (existing.id,), 2)
    stored = populated.get_offering(_id(existing))
    assert stored.description == "now with TV"
    assert stored.lifecycle_status == "Retired"
    assert stored.revision == existing.revision + 1
    assert stored.extras == existing.extras
    assert [(e.event_type, e.entity.id) for e in events.events[seen:]] == [
        ("ProductOfferingAttributeValueChangeEvent", existing.id),
        ("ProductOfferingCreateEvent", "po-90"),
    ]


def test_upsert_of_products_replaces_them(populated: ek.ProductOfferingInventory) -> None:
    first = populated.list_products(limit=1).items[0]
    doc = {**tmf.to_json(first), "description": "migrated"}
    result = populated.import_products([doc], mode="upsert")
    assert result.replaced == (first.id,)
    assert populated.get_product(_id(first)).description == "migrated"


def test_an_unknown_import_mode_is_refused(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        inventory.import_offerings([_offering_doc(0)], mode="merge")  # type: ignore[arg-type]
    assert _paths(caught.value) == ["mode"]


def test_a_bundle_may_refer_to_an_offering_in_the_same_import() -> None:
    inventory, _ = _fresh()
    bundle = _offering_doc(1, isBundle=True, bundledProductOffering=[{"id": "po-2"}])
    inventory.import_offerings([bundle, _offering_doc(2)])
    assert inventory.get_offering("po-1").bundled_product_offering[0].id == "po-2"


def test_a_bundle_of_an_offering_nowhere_to_be_found_is_refused() -> None:
    inventory, _ = _fresh()
    bundle = _offering_doc(1, isBundle=True, bundledProductOffering=[{"id": "po-404"}])
    with pytest.raises(ek.ValidationError) as caught:
        inventory.import_offerings([_offering_doc(0), bundle])
    assert all(path.startswith("[1].") for path in _paths(caught.value))
    assert "po-404" in str(caught.value)
    assert len(inventory.store.offerings) == 0


def test_a_product_of_an_unknown_offering_is_refused(
    populated: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    known = _id(next(populated.iter_offerings()))
    docs = [_product_doc(90, offering=known), _product_doc(91, offering="po-404")]
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        populated.import_products(docs)
    paths = _paths(caught.value)
    assert any(p in paths for p in ("[1].product_offering.id", "[1].productOffering.id")), paths
    assert "po-404" in str(caught.value)


def test_a_product_without_a_customer_or_with_an_unknown_status_is_refused(
    populated: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    known = _id(next(populated.iter_offerings()))
    no_customer = _product_doc(90, offering=known, relatedParty=[])
    odd_status = _product_doc(91, offering=known, status="paused")
    fine = _product_doc(92, offering=known)
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        populated.import_products([fine, no_customer, odd_status])
    paths = _paths(caught.value)
    assert any(p.startswith("[1].") and "elated" in p for p in paths), paths
    assert any(p.startswith("[2].") and "status" in p for p in paths), paths
    assert not any(p.startswith("[0]") for p in paths)
