"""Every planted defect is found exactly once, with the right rule and entity;
a clean inventory yields no findings."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from tests.inventory.audit.helpers import (
    BROADBAND,
    DEFECTS,
    NOW,
    auditor,
    clean_base,
    found,
    plant,
    product,
)

import etomkit as ek
from etomkit.testing import strategies as ets


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield ek.InMemoryStore()
    else:
        with ek.FileStore(tmp_path / "store", durability="none") as file_store:
            yield file_store


def test_a_clean_inventory_yields_no_findings_and_full_scores(store: Any) -> None:
    clean_base(store, products=5)
    run = auditor(store).run()
    assert run.findings == ()
    assert run.overall_score == 1.0
    assert {s.rule: (s.checked, s.failed) for s in run.rule_scores}["completeness"] == (6, 0)
    assert (run.offerings_checked, run.products_checked) == (1, 5)


@pytest.mark.parametrize("kind", DEFECTS)
def test_each_defect_kind_is_found_exactly_once_with_its_rule_and_entity(
    store: Any, kind: str
) -> None:
    clean_base(store)
    audits = auditor(store)
    expected = plant(store, kind, "1", audits)
    run = audits.run()
    assert found(run) == [expected]
    score = run.score(expected[0])
    assert score.failed == 1 and score.score < 1
    assert run.overall_score < 1


def test_every_defect_kind_at_once_is_each_found_once(store: Any) -> None:
    clean_base(store)
    audits = auditor(store)
    expected = [plant(store, kind, "all", audits) for kind in DEFECTS]
    run = audits.run()
    assert Counter(found(run)) == Counter(expected)
    assert sum(s.failed for s in run.rule_scores) == len(DEFECTS)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.sampled_from(DEFECTS), max_size=10),
    clean=st.integers(0, 4),
    on_file=st.booleans(),
)
def test_planted_defects_are_found_exactly_once_whatever_the_mix(
    kinds: list[str], clean: int, on_file: bool
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store: Any = ek.FileStore(directory, durability="none") if on_file else ek.InMemoryStore()
        try:
            clean_base(store, products=clean)
            audits = auditor(store)
            expected = [plant(store, kind, str(i), audits) for i, kind in enumerate(kinds)]
            run = audits.run()
            assert Counter(found(run)) == Counter(expected)
            assert len({f.key for f in run.findings}) == len(run.findings)
        finally:
            store.close()


def _cleaned_offering(i: int, offering: ek.ProductOffering) -> ek.ProductOffering:
    return attrs.evolve(
        offering,
        id=f"po-{i}",
        name=f"Offering {i}",  # unique: duplicates are a defect
        category=(*offering.category, *BROADBAND),
        description=offering.description if (offering.description or "").strip() else "text",
        valid_for=None,
        bundled_product_offering=(),
        is_bundle=None,
        last_update=NOW,
    )


def _cleaned_product(i: int, offering: ek.ProductOffering, drawn: ek.Product) -> ek.Product:
    status = drawn.status
    ended_or_unlaunched = ("Retired", "Obsolete", "In study", "In design", "In test", "Rejected")
    if status == "active" and offering.lifecycle_status in ended_or_unlaunched:
        status = "suspended"
    chars = tuple(c for c in drawn.product_characteristic if c.name != "downloadSpeed")
    return attrs.evolve(
        drawn,
        id=f"p-{i}",
        product_offering=ek.EntityRef(id=offering.id or "", referred_type="ProductOffering"),
        product_order_item=(ek.OrderItemRef(order_id=f"po-{i}", item_id="1"),),  # unique key
        status=status,
        termination_date=NOW if status == "terminated" else drawn.termination_date,
        start_date=None,
        last_update=NOW,
        product_characteristic=(*chars, ek.Characteristic(name="downloadSpeed", value=100)),
    )


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(
    offerings=st.lists(ets.product_offerings(), min_size=1, max_size=4),
    products=st.lists(st.tuples(st.integers(0, 3), ets.products()), max_size=6),
)
def test_rich_clean_inventories_yield_no_findings(
    offerings: list[ek.ProductOffering], products: list[tuple[int, ek.Product]]
) -> None:
    store = ek.InMemoryStore()
    stored = [store.offerings.add(_cleaned_offering(i, o)) for i, o in enumerate(offerings)]
    for i, (which, drawn) in enumerate(products):
        store.products.add(_cleaned_product(i, stored[which % len(stored)], drawn))
    run = auditor(store).run()
    assert run.findings == ()
    assert run.overall_score == 1.0


def test_terminal_records_are_never_stale(store: Any) -> None:
    clean_base(store, products=0)
    long_ago = NOW - timedelta(days=5000)
    store.products.add(product("p-old", status="terminated", termination_date=long_ago,
                               start_date=long_ago, last_update=long_ago))  # fmt: skip
    assert found(auditor(store).run()) == []
    assert found(auditor(store, stale_after=timedelta(days=10_000)).run(store=False)) == []
