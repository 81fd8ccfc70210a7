"""Lookups by request accept the request object, its key, or its bare id (#15)."""

from __future__ import annotations

import pytest

import etomkit as ek

RULES = """
[[rule]]
id = "fibre"
specification = "fibre-broadband"
[[rule.produces]]
resource_specification = "ont"
"""


def request(kind: str, request_id: str) -> ek.InitiatingRequest:
    item = ek.request_item("1", "add", "fibre-broadband")
    return ek.InitiatingRequest(kind=kind, id=request_id, items=(item,))


@pytest.fixture
def issuer() -> ek.ResourceOrderIssuer:
    store = ek.InMemoryStore()
    store.resource_specifications.add(ek.ResourceSpecification(id="ont", name="ONT"))
    return ek.ResourceOrderIssuer(store, ek.RuleSet.from_toml_text(RULES))


def test_orders_of_a_service_order_are_found_by_its_bare_id(
    issuer: ek.ResourceOrderIssuer,
) -> None:
    result = issuer.issue(request("serviceOrder", "SO-2025-0042"))
    assert issuer.orders_of_request("SO-2025-0042") == list(result.orders) != []
    assert issuer.record_of("SO-2025-0042") == result.record
    assert issuer.record_of("serviceOrder:SO-2025-0042") == result.record
    assert issuer.record_of("SO-404") is None and issuer.orders_of_request("SO-404") == []


def test_a_bare_id_issued_under_two_kinds_is_ambiguous_and_says_which(
    issuer: ek.ResourceOrderIssuer,
) -> None:
    issuer.issue(request("serviceOrder", "R-1"))
    issuer.issue(request("troubleRecovery", "R-1"))
    with pytest.raises(ek.ValidationError) as raised:
        issuer.record_of("R-1")
    assert raised.value.problems[0][0] == "request"
    assert "'serviceOrder:R-1'" in str(raised.value) and "'troubleRecovery:R-1'" in str(
        raised.value
    )
    assert issuer.record_of("troubleRecovery:R-1") is not None


def test_a_lookup_with_a_wrong_type_names_the_argument(issuer: ek.ResourceOrderIssuer) -> None:
    with pytest.raises(TypeError, match="request must be"):
        issuer.orders_of_request(42)  # type: ignore[arg-type]
