"""Helpers for the resource order issuing tests: a small fibre catalogue and its rules.

Service specification ``fibre`` (characteristics ``bandwidth``, ``staticIp``,
``vlanId``, ``premisesType``) decomposes into resources ``ont``, ``gpon-port``,
``vlan`` and ``ipv4``; ``10G`` needs a feasibility check; new-build premises
are special.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from etomkit.model.issuance import FeasibilityAssessment, InitiatingRequest, request_item
from etomkit.model.orders import ServiceOrderItem
from etomkit.model.resource_order import ResourceOrderItem
from etomkit.model.resource_spec import (
    CharacteristicValueSpecification,
    ResourceSpecification,
    ResourceSpecificationCharacteristic,
)
from etomkit.ordering import (
    Eq,
    FromService,
    In,
    InMemoryOrderingStore,
    ItemTemplate,
    Rule,
)

PROFILES = {"100M": "BP-100", "1G": "BP-1000"}


def char_spec(
    name: str, value_type: str, values: Sequence[Any] = (), *, required: bool = True
) -> ResourceSpecificationCharacteristic:
    """A characteristic specification with discrete allowed values."""
    return ResourceSpecificationCharacteristic(
        name=name,
        value_type=value_type,
        min_cardinality=1 if required else 0,
        resource_spec_characteristic_value=tuple(
            CharacteristicValueSpecification(value=v) for v in values
        ),
    )


def fibre_specs() -> list[ResourceSpecification]:
    """The resource specifications of the fibre catalogue."""
    return [
        ResourceSpecification(
            id="ont",
            name="ONT",
            resource_spec_characteristic=(char_spec("model", "string", ["HG8245H", "XS-2426G"]),),
        ),
        ResourceSpecification(
            id="gpon-port",
            name="GPON port",
            resource_spec_characteristic=(
                char_spec("bandwidthProfile", "string", ["BP-100", "BP-1000", "BP-10000"]),
            ),
        ),
        ResourceSpecification(
            id="vlan",
            name="Service VLAN",
            resource_spec_characteristic=(
                char_spec("vlanType", "string", ["residential", "business"]),
                ResourceSpecificationCharacteristic(
                    name="vlanId",
                    value_type="integer",
                    min_cardinality=0,
                    resource_spec_characteristic_value=(
                        CharacteristicValueSpecification(value_from=2, value_to=4094),
                    ),
                ),
            ),
        ),
        ResourceSpecification(
            id="ipv4",
            name="IPv4 address",
            resource_spec_characteristic=(char_spec("pool", "string"),),
        ),
    ]


def fibre_rules() -> list[Rule]:
    """The fibre catalogue's rules, written in Python."""
    return [
        Rule(
            id="fibre-access",
            version="3",
            priority=10,
            specification="fibre",
            action="add",
            when=[In("bandwidth", ["100M", "1G"])],
            produces=[
                ItemTemplate(resource_specification="ont", characteristics={"model": "HG8245H"}),
                ItemTemplate(
                    resource_specification="gpon-port",
                    characteristics={"bandwidthProfile": FromService("bandwidth", map=PROFILES)},
                ),
                ItemTemplate(
                    resource_specification="vlan",
                    characteristics={"vlanType": "residential", "vlanId": FromService("vlanId")},
                ),
            ],
        ),
        Rule(
            id="fibre-10g",
            priority=10,
            specification="fibre",
            action="add",
            when=[Eq("bandwidth", "10G")],
            requires_feasibility=True,
            produces=[
                ItemTemplate(resource_specification="ont", characteristics={"model": "XS-2426G"}),
                ItemTemplate(
                    resource_specification="gpon-port",
                    characteristics={"bandwidthProfile": "BP-10000"},
                ),
            ],
        ),
        Rule(
            id="fibre-static-ip",
            specification="fibre",
            action=("add", "modify"),
            when=[Eq("staticIp", True)],
            produces=[
                ItemTemplate(
                    resource_specification="ipv4",
                    action={"modify": "add"},
                    characteristics={"pool": "static"},
                )
            ],
        ),
        Rule(
            id="fibre-speed-change",
            specification="fibre",
            action="modify",
            when=[In("bandwidth", ["100M", "1G"])],
            produces=[
                ItemTemplate(
                    resource_specification="gpon-port",
                    characteristics={"bandwidthProfile": FromService("bandwidth", map=PROFILES)},
                )
            ],
        ),
        Rule(
            id="fibre-new-build",
            priority=100,
            final=True,
            special=True,
            reason="new-build premises need a site survey",
            specification="fibre",
            action="add",
            when=[Eq("premisesType", "newBuild")],
        ),
    ]


Item = Callable[..., ServiceOrderItem]
Request = Callable[..., InitiatingRequest]


def fibre(
    item_id: str = "1",
    action: str = "add",
    *,
    service_id: str | None = None,
    **characteristics: Any,
) -> ServiceOrderItem:
    """A service order item on the ``fibre`` specification (1G by default for adds)."""
    if action == "add":
        characteristics = {"bandwidth": "1G", "vlanId": 100, **characteristics}
    return request_item(item_id, action, "fibre", characteristics, service_id=service_id)


def request(
    *items: ServiceOrderItem,
    request_id: str = "SO-1",
    kind: str = "serviceOrder",
    **fields: Any,
) -> InitiatingRequest:
    """A request (a service order by default) with ``items`` (one fibre add if none)."""
    return InitiatingRequest(kind=kind, id=request_id, items=items or (fibre(),), **fields)


class StubFeasibility:
    """A FeasibilityChecker that answers ``feasible`` and remembers what it was asked."""

    def __init__(self, feasible: bool = True, items: Sequence[ResourceOrderItem] = ()) -> None:
        self.feasible = feasible
        self.items = tuple(items)
        self.asked: list[tuple[str, str, int]] = []

    def assess(
        self,
        request: InitiatingRequest,
        item: ServiceOrderItem,
        proposed: Sequence[ResourceOrderItem],
    ) -> FeasibilityAssessment:
        self.asked.append((request.key, item.id, len(proposed)))
        return FeasibilityAssessment(
            request_id="ignored",
            feasible=self.feasible,
            reason="XGS-PON " + ("available" if self.feasible else "not available in LDN-04"),
            order_item=self.items,
        )


def stored(store: InMemoryOrderingStore) -> tuple[int, int, int]:
    """How many orders, records and assessments the store holds."""
    return (
        len(store.resource_orders),
        len(store.issuance_records),
        len(store.feasibility_assessments),
    )
