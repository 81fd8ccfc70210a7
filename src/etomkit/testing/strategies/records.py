"""Strategies for access control, usage, audits and events: client registrations,
usage records, technical shortcomings, audit findings and runs, manual audits
and notification events."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import hypothesis.strategies as st

from etomkit.model.audit import (
    MANUAL_OUTCOMES,
    SEVERITIES,
    AuditFinding,
    AuditRun,
    ManualAudit,
    RuleScore,
)
from etomkit.model.client import (
    CLIENT_STATUSES,
    ENTITY_TYPES,
    OPERATIONS,
    ClientRegistration,
    Permission,
    SecretHash,
)
from etomkit.model.events import Event
from etomkit.model.usage import OUTCOMES, SHORTCOMING_KINDS, TechnicalShortcoming, UsageRecord
from etomkit.model.usage import SEVERITIES as SHORTCOMING_SEVERITIES
from etomkit.testing.strategies.inventory import product_offerings, products
from etomkit.testing.strategies.values import (
    _optional,
    _texts,
    _tuples,
    entity_ids,
    entity_refs,
    json_values,
    names,
    utc_datetimes,
)

__all__ = [
    "permissions",
    "client_registrations",
    "usage_records",
    "technical_shortcomings",
    "audit_findings",
    "audit_runs",
    "manual_audits",
    "events",
]

_T0 = datetime(2026, 1, 1, tzinfo=UTC)
_HEX = st.text("0123456789abcdef", min_size=2, max_size=64).filter(lambda s: len(s) % 2 == 0)
_RULES = st.sampled_from(("has-name", "has-customer", "valid-period", "manual-audit"))
_ENTITY_TYPES = st.sampled_from(("ProductOffering", "Product"))


def permissions() -> st.SearchStrategy[Permission]:
    """Permissions that pass ``permission_problems`` (a scope only on offerings and products)."""

    def build(entity_type: str, operation: str, scope: frozenset[str] | None) -> Permission:
        if entity_type not in ("offering", "product"):
            scope = None
        return Permission(entity_type, operation, scope)

    categories = st.frozensets(entity_ids(max_size=8), min_size=1, max_size=3)
    return st.builds(
        build,
        st.sampled_from(ENTITY_TYPES),
        st.sampled_from(OPERATIONS),
        _optional(categories),
    )


def client_registrations(
    *,
    with_id: bool = True,
    ids: st.SearchStrategy[str] | None = None,
    status: str | None = None,
    bootstrap: bool = False,
) -> st.SearchStrategy[ClientRegistration]:
    """Client registrations holding a salted hash (never a secret). ``bootstrap=True``
    makes the bootstrap administrator (a store holds one at most)."""
    secret = st.builds(
        SecretHash,
        algorithm=st.just("scrypt"),
        salt=_HEX,
        digest=_HEX,
        n=st.just(16384),
        r=st.just(8),
        p=st.just(1),
    )
    return st.builds(
        ClientRegistration,
        id=(ids if ids is not None else entity_ids()) if with_id else st.none(),
        name=names(),
        permissions=_tuples(permissions()),
        secret_hash=_optional(secret),
        status=st.just(status) if status is not None else st.sampled_from(CLIENT_STATUSES),
        description=_optional(_texts()),
        bootstrap=st.just(bootstrap),
        registered_at=_optional(utc_datetimes()),
        last_update=_optional(utc_datetimes()),
    )


def usage_records(*, start: datetime = _T0) -> st.SearchStrategy[UsageRecord]:
    """Usage records at or after ``start`` (every field used)."""
    return st.builds(
        UsageRecord,
        at=st.integers(0, 10**6).map(lambda s: start + timedelta(seconds=s)),
        client_id=entity_ids(),
        client_name=_optional(names()),
        operation=st.sampled_from(("get_offering", "create_offering", "list_products")),
        action=st.sampled_from(OPERATIONS),
        entity_type=st.sampled_from(("offering", "product")),
        outcome=st.sampled_from(OUTCOMES),
        entity_ids=_tuples(entity_ids()),
        count=st.integers(0, 1000),
        calls=st.integers(1, 1000),
        duration_ns=_optional(st.integers(0, 10**10)),
        cost_units=st.floats(0, 1e6, allow_nan=False),
        error=_optional(names()),
    )


def technical_shortcomings() -> st.SearchStrategy[TechnicalShortcoming]:
    """Technical shortcomings handed to Resource Development & Management."""
    return st.builds(
        TechnicalShortcoming,
        kind=st.sampled_from(SHORTCOMING_KINDS),
        severity=st.sampled_from(SHORTCOMING_SEVERITIES),
        subject=names(),
        evidence=st.dictionaries(st.text(string.ascii_letters, min_size=1), json_values()),
        recommendation=names(),
        detected_at=utc_datetimes(),
    )


def audit_findings() -> st.SearchStrategy[AuditFinding]:
    """Findings of an audit rule on an offering or a product."""
    return st.builds(
        AuditFinding,
        rule=_RULES,
        entity=entity_refs().flatmap(
            lambda ref: _ENTITY_TYPES.map(
                lambda t: ref.__class__(id=ref.id, name=ref.name, referred_type=t)
            )
        ),
        severity=st.sampled_from(SEVERITIES),
        detail=_texts(),
        suggested_fix=_optional(_texts()),
    )


def manual_audits(
    *, with_id: bool = True, ids: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[ManualAudit]:
    """Manual audits of one offering or product, with evidence references."""
    return st.builds(
        ManualAudit,
        entity=st.builds(
            lambda ref, t: ref.__class__(id=ref.id, referred_type=t), entity_refs(), _ENTITY_TYPES
        ),
        auditor=names(),
        audited_at=utc_datetimes(),
        outcome=st.sampled_from(MANUAL_OUTCOMES),
        notes=_optional(_texts()),
        evidence=_tuples(entity_refs()),
        id=(ids if ids is not None else entity_ids()) if with_id else st.none(),
    )


def _scores(rules: list[str], counts: list[tuple[int, int]]) -> tuple[RuleScore, ...]:
    return tuple(
        RuleScore.of(rule, checked, min(failed, checked))
        for rule, (checked, failed) in zip(rules, counts, strict=False)
    )


def audit_runs(
    *,
    with_id: bool = True,
    ids: st.SearchStrategy[str] | None = None,
    scope: str | st.SearchStrategy[str | None] | None = None,
) -> st.SearchStrategy[AuditRun]:
    """Stored audit runs: scores in [0, 1], finished at or after they started."""

    def build(
        run_id: str | None,
        started: datetime,
        seconds: int,
        rules: list[str],
        counts: list[tuple[int, int]],
        overall: float,
        checked: tuple[int, int],
        findings: tuple[AuditFinding, ...],
        audits: tuple[ManualAudit, ...],
        run_scope: str | None,
    ) -> AuditRun:
        return AuditRun(
            id=run_id,
            started_at=started,
            finished_at=started + timedelta(seconds=seconds),
            rules=tuple(rules),
            rule_scores=_scores(rules, counts),
            overall_score=overall,
            offerings_checked=checked[0],
            products_checked=checked[1],
            findings=findings,
            manual_audits=audits,
            scope=run_scope,
        )

    scopes: st.SearchStrategy[str | None]
    if scope is None:
        scopes = _optional(st.sampled_from(("lifecycle=Active", "category=fibre")))
    elif isinstance(scope, st.SearchStrategy):
        scopes = scope
    else:
        scopes = st.just(scope)
    return st.builds(
        build,
        (ids if ids is not None else entity_ids()) if with_id else st.none(),
        utc_datetimes(),
        st.integers(0, 3600),
        st.lists(_RULES, unique=True, max_size=3),
        st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=3, max_size=3),
        st.floats(0, 1),
        st.tuples(st.integers(0, 100), st.integers(0, 100)),
        _tuples(audit_findings()),
        _tuples(manual_audits(with_id=False)),
        scopes,
    )


def events() -> st.SearchStrategy[Event]:
    """TMF notification events about an offering or a product."""
    return st.builds(
        Event,
        event_id=entity_ids(),
        event_time=utc_datetimes(),
        event_type=st.sampled_from(
            ("ProductOfferingCreateEvent", "ProductOfferingStateChangeEvent", "ProductCreateEvent")
        ),
        entity=product_offerings() | products(),
        field_path=_optional(st.sampled_from(("lifecycleStatus", "status"))),
    )
