"""Issue resource orders for a TMF641 service order with the rules in rules.toml.

eTOM 1.5.6.7 Issue Resource Orders, end to end: read the rules, the TMF634
resource specifications and a TMF641 service order; issue; print what each
item became and the TMF652 resource orders.

    python examples/resource_orders/issue_orders.py                 # service_order.json
    python examples/resource_orders/issue_orders.py my_order.json --explain
    python examples/resource_orders/issue_orders.py --assessed      # with a prior assessment
    python examples/resource_orders/issue_orders.py --json          # the result as JSON

In service_order.json, item 2 asks for 10G, so the rules ask the feasibility
checker (XGS-PON only in some exchanges); item 4 is a new-build premises,
which the rules send to special handling, unless ``--assessed`` stores a
feasibility assessment (a site survey) first, whose items are then issued.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import etomkit as ek
from etomkit import (
    FeasibilityAssessment,
    InitiatingRequest,
    ResourceOrderItem,
    ResourceSpecification,
    ServiceOrder,
    ServiceOrderItem,
    tmf,
)
from etomkit.ordering import InMemoryOrderingStore, IssuanceResult, ResourceOrderIssuer, RuleSet

HERE = Path(__file__).resolve().parent


class XgsPonAvailability:
    """A FeasibilityChecker: 10G fibre is feasible only where the exchange has XGS-PON."""

    def __init__(self, exchanges: set[str]) -> None:
        self.exchanges = exchanges

    def assess(
        self,
        request: InitiatingRequest,
        item: ServiceOrderItem,
        proposed: Sequence[ResourceOrderItem],
    ) -> FeasibilityAssessment:
        exchange = item.service.characteristic("exchange")
        feasible = exchange in self.exchanges
        return FeasibilityAssessment(
            request_id=request.id,
            item_id=item.id,
            feasible=feasible,
            reason=f"XGS-PON {'available' if feasible else 'not available'} in {exchange}",
            assessed_by="xgs-pon-capacity",
        )


def site_survey(order_id: str) -> FeasibilityAssessment:
    """A prior assessment for item 4: the survey found where the ONT goes."""
    spec = ek.EntityRef
    return FeasibilityAssessment(
        id="FA-1",
        request_id=order_id,
        item_id="4",
        feasible=True,
        reason="site survey 2025-03-05: duct available, ONT in the utility room",
        assessed_by="field-survey",
        order_item=(
            ResourceOrderItem(
                id="1",
                resource_specification=spec(id="ont"),
                characteristic=(ek.Characteristic(name="model", value="HG8245H"),),
            ),
            ResourceOrderItem(
                id="2",
                resource_specification=spec(id="gpon-port"),
                characteristic=(
                    ek.Characteristic(name="bandwidthProfile", value="BP-300"),
                    ek.Characteristic(name="exchange", value="MAN-11"),
                ),
            ),
            ResourceOrderItem(
                id="3",
                resource_specification=spec(id="service-vlan"),
                characteristic=(ek.Characteristic(name="vlanType", value="residential"),),
            ),
        ),
    )


def build_issuer(*, assessed_order: str | None = None) -> ResourceOrderIssuer:
    """An issuer over an in-memory store holding the example's resource specifications."""
    store = InMemoryOrderingStore()
    documents = json.loads((HERE / "resource_specifications.json").read_text(encoding="utf-8"))
    store.resource_specifications.add_all(
        [tmf.from_json(ResourceSpecification, doc) for doc in documents]
    )
    if assessed_order is not None:
        store.feasibility_assessments.add(site_survey(assessed_order))
    return ResourceOrderIssuer(
        store,
        RuleSet.from_toml(HERE / "rules.toml"),
        feasibility=XgsPonAvailability({"LDN-04"}),
        ids=ek.SequentialIdFactory(),
    )


def summary(result: IssuanceResult, issuer: ResourceOrderIssuer) -> str:
    """What each item became, and what went to special handling."""
    record = result.record
    request = record.request
    lines = [f"{request.key}: {len(record.items)} item(s)"]
    orders = {o.id: o for o in result.orders}
    for entry in record.items:
        rules = ", ".join(str(r) for r in entry.rules) or "-"
        what = f"{entry.action} {entry.service_specification} -> {entry.outcome}"
        lines.append(f"  item {entry.item_id}: {what}  [rules: {rules}]")
        for order_id in entry.resource_orders:
            order = orders[order_id]
            specs = ", ".join(
                i.resource_specification.id if i.resource_specification else "?"
                for i in order.order_item
            )
            lines.append(f"      {order_id}: {len(order.order_item)} item(s) ({specs})")
        if entry.reason and entry.outcome != "standard":
            lines.append(f"      reason: {entry.reason}")
    handed = getattr(issuer.provisioning, "hand_offs", [])
    if handed:
        lines.append("handed to Track & Manage Resource Provisioning:")
        lines.extend(f"  {h.order.id}: {h.reason}" for h in handed)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("order", nargs="?", default=str(HERE / "service_order.json"))
    parser.add_argument("--explain", action="store_true", help="print the dry-run explanation")
    parser.add_argument("--assessed", action="store_true", help="store a prior site survey")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        order = tmf.loads(ServiceOrder, Path(args.order).read_bytes())
        request = InitiatingRequest.from_service_order(order, source="bss.example")
        issuer = build_issuer(assessed_order=request.id if args.assessed else None)
        explanation = issuer.explain(request) if args.explain else None
        result = issuer.issue(request)
    except ek.ValidationError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        handed = getattr(issuer.provisioning, "hand_offs", [])
        document = {
            "request": result.record.id,
            "outcomes": result.record.outcomes(),
            "resourceOrders": [tmf.to_json(o) for o in result.orders],
            "handedOff": {h.order.id: h.reason for h in handed},
        }
        print(json.dumps(document, indent=2))
        return 0
    if explanation is not None:
        print(explanation)
        print()
    print(summary(result, issuer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
