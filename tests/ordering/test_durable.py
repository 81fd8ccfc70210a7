"""Issued orders, records and assessments survive closing and reopening a FileStore."""

from __future__ import annotations

from pathlib import Path

from tests.ordering.helpers import StubFeasibility, fibre, fibre_rules, fibre_specs, request

import etomkit as ek
from etomkit.ordering import InMemoryProvisioningTracker, ResourceOrderIssuer, RuleSet


def _issuer(store: ek.FileStore) -> ResourceOrderIssuer:
    return ResourceOrderIssuer(
        store,
        RuleSet(fibre_rules()),
        feasibility=StubFeasibility(),
        provisioning=InMemoryProvisioningTracker(),
        clock=ek.ManualClock(),
        ids=ek.SequentialIdFactory(),
    )


def test_an_issued_request_is_found_again_after_reopening(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    so = request(fibre("1"), fibre("2", bandwidth="10G"), request_id="SO-9")
    with ek.FileStore(directory) as store:
        store.resource_specifications.add_all(fibre_specs())
        first = _issuer(store).issue(so)
        assert not first.replayed and first.orders
    with ek.FileStore(directory) as store:
        assert store.recovery_report.clean
        issuer = _issuer(store)
        again = issuer.issue(so)  # idempotent across a restart
        assert again.replayed
        assert again.record == first.record
        assert [o.id for o in issuer.orders_of_request(so)] == [o.id for o in first.orders]
        assert [o.id for o in issuer.open_special_orders()] == [
            o.id for o in first.orders if o.special_handling
        ]
        order = first.orders[0]
        assert issuer.request_of_order(order.id or "").key == so.key
        assert issuer.get_order(order.id or "") == order
        store.compact()
    with ek.FileStore(directory) as store:  # and from a snapshot
        issuer = _issuer(store)
        assert issuer.issue(so).record == first.record
        assert len(store.resource_specifications) == len(fibre_specs())
