"""``etomkit issue``, ``etomkit explain`` and ``etomkit rules check`` (eTOM 1.5.6.7)."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from etomkit import tmf
from etomkit.adapters.memory import InMemoryOrderingStore
from etomkit.cli.base import (
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    Context,
    Progress,
    output_file,
    read_documents,
)
from etomkit.errors import EtomkitError, ValidationError
from etomkit.model.issuance import FeasibilityAssessment, InitiatingRequest
from etomkit.model.orders import ServiceOrder
from etomkit.model.resource_spec import ResourceSpecification
from etomkit.ordering import ResourceOrderIssuer, RuleSet

__all__ = ["load_requests", "load_rules", "register"]

SOURCE = "etomkit-cli"  # the orders' external reference owner when the input does not say


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``issue``, ``explain`` and ``rules``."""
    issue = commands.add_parser(
        "issue",
        parents=[common],
        help="issue TMF652 resource orders for TMF641 service orders",
        description="Issue resource orders for each request in ORDERS (TMF641 service orders "
        "or initiating requests; a JSON array, one object or JSON lines) and write them as "
        "TMF652 JSON lines. Idempotent: a request issued before returns its stored orders. "
        "A summary per outcome goes to standard error; the exit code is 1 if any request failed.",
    )
    _rules_options(issue)
    issue.add_argument("--out", metavar="FILE", help="write the orders to FILE, not stdout")
    issue.set_defaults(handler=_issue)

    explain = commands.add_parser(
        "explain",
        parents=[common],
        help="dry run: which rules each item meets, and why not",
        description="Explain, per request item, the candidate rules, the predicate that "
        "failed and what would be issued. Nothing is stored.",
    )
    _rules_options(explain)
    explain.set_defaults(handler=_explain)

    rules = commands.add_parser(
        "rules", parents=[common], help="check rule files", description="Rule file tools."
    )
    rules.set_defaults(handler=lambda ctx: _usage(ctx, rules))
    sub = rules.add_subparsers(title="actions", metavar="ACTION")
    check = sub.add_parser(
        "check",
        parents=[common],
        help="list every problem of a rule file (exit 1 if any)",
        description="Read a TOML or JSON rule file and list every problem at once.",
    )
    check.add_argument("rules", metavar="RULES", help="the rule file (.toml or .json)")
    check.set_defaults(handler=_check)


def _rules_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules", metavar="RULES", required=True, help="the rule file (.toml or .json)"
    )
    parser.add_argument(
        "--specs", metavar="FILE", help="TMF634 resource specifications to store first"
    )
    parser.add_argument(
        "--assessments", metavar="FILE", help="feasibility assessments to store first"
    )
    parser.add_argument("orders", metavar="ORDERS|-", help="the requests (- for standard input)")


def _usage(ctx: Context, parser: argparse.ArgumentParser) -> int:
    parser.print_help(ctx.stderr)
    return 2


def load_rules(path: str) -> RuleSet:
    """The RuleSet in a ``.toml`` or ``.json`` file. Raises ValidationError (every problem)."""
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"no rule file {path}")
    if file.suffix.lower() == ".json":
        return RuleSet.from_json(file)
    return RuleSet.from_toml(file)


def read_requests(source: str) -> list[tuple[str, InitiatingRequest | ValidationError]]:
    """Each document in ``source`` as ``(label, request)``, or ``(label, the error)`` when
    it is neither a valid TMF641 ServiceOrder (``serviceOrderItem``) nor a valid
    InitiatingRequest (``kind`` and ``items``)."""
    read: list[tuple[str, InitiatingRequest | ValidationError]] = []
    for number, doc in enumerate(read_documents(source, what="requests"), start=1):
        label = f"[{number}]"
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            label = f"{label} {doc['id']}"
        try:
            if isinstance(doc, dict) and "serviceOrderItem" in doc:
                order = tmf.from_json(ServiceOrder, doc)
                read.append((label, InitiatingRequest.from_service_order(order, source=SOURCE)))
            elif isinstance(doc, dict) and "kind" in doc and "items" in doc:
                read.append((label, tmf.from_json(InitiatingRequest, doc)))
            else:
                raise ValidationError(
                    f"request {label}",
                    [("$", "neither a TMF641 ServiceOrder (serviceOrderItem) nor an "
                      "initiating request (kind, items)")],
                )  # fmt: skip
        except ValidationError as exc:
            read.append((label, exc))
    return read


def load_requests(source: str) -> list[InitiatingRequest]:
    """Every request in ``source``. Raises ValidationError listing every problem."""
    requests: list[InitiatingRequest] = []
    problems: list[tuple[str, str]] = []
    for label, read in read_requests(source):
        if isinstance(read, ValidationError):
            where = label.split(" ", 1)[0]
            problems.extend((f"{where}.{path}".rstrip(".$"), msg) for path, msg in read.problems)
        else:
            requests.append(read)
    if problems:
        raise ValidationError(f"requests in {source}", problems)
    return requests


def _seed(store: Any, specs: str | None, assessments: str | None) -> list[str]:
    """Store the specifications and assessments the options name; say what was new."""
    said: list[str] = []
    sources: tuple[tuple[str | None, type, Any, str], ...] = (
        (specs, ResourceSpecification, store.resource_specifications, "resource specifications"),
        (assessments, FeasibilityAssessment, store.feasibility_assessments, "assessments"),
    )
    for path, cls, repo, label in sources:
        if path is None:
            continue
        entities: list[Any] = [tmf.from_json(cls, doc) for doc in read_documents(path, what=label)]
        new, changed = [], 0
        for entity in entities:
            stored = repo.find(entity.id) if entity.id is not None else None
            if stored is None:
                new.append(entity)
            elif _content(stored) != _content(entity):
                repo.replace(entity, expected_revision=stored.revision)
                changed += 1
        if new:
            repo.add_all(new)
        kept = len(entities) - len(new) - changed
        said.append(f"{label}: {len(new)} new, {changed} changed, {kept} already stored")
    return said


def _content(entity: Any) -> Any:
    doc = tmf.to_json(entity)
    doc.pop("revision", None)
    doc.pop("lastUpdate", None)
    return doc


def _issue(ctx: Context) -> int:
    rules = load_rules(ctx.args.rules)
    requests = read_requests(ctx.args.orders)
    store = ctx.store()
    for line in _seed(store, ctx.args.specs, ctx.args.assessments):
        ctx.note(line)
    issuer = ResourceOrderIssuer(store, rules)
    outcomes: Counter[str] = Counter()
    issued = replayed = 0
    failed: list[dict[str, str]] = []
    orders = 0
    progress = Progress(ctx, "issuing", len(requests))
    with output_file(ctx, ctx.args.out) as out:
        for label, request in progress.over(requests):
            try:
                if isinstance(request, ValidationError):
                    raise request
                label = request.key
                result = issuer.issue(request)
            except EtomkitError as exc:
                failed.append({"request": label, "error": _message(exc)})
                ctx.note(f"{label}: failed: {_message(exc)}")
                continue
            replayed += result.replayed
            issued += not result.replayed
            outcomes.update(result.record.outcomes().values())
            for order in result.orders:
                out.write(json.dumps(tmf.to_json(order), ensure_ascii=False) + "\n")
                orders += 1
    summary = {
        "requests": len(requests),
        "issued": issued,
        "replayed": replayed,
        "failed": failed,
        "resource_orders": orders,
        "outcomes": dict(sorted(outcomes.items())),
        "store": ctx.store_spec,
    }
    if ctx.json:
        ctx.note(json.dumps(summary))
    else:
        by_outcome = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none"
        ctx.note(
            f"{len(requests)} request(s): {issued} issued now, {replayed} found from earlier "
            f"runs (replayed), {len(failed)} failed; {orders} resource order(s); "
            f"items by outcome: {by_outcome}"
        )
    return EXIT_FAILED if failed else EXIT_OK


def _message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{p}: {m}" for p, m in exc.problems) or str(exc)
    return str(exc)


def _explain(ctx: Context) -> int:
    rules = load_rules(ctx.args.rules)
    requests = load_requests(ctx.args.orders)
    store = InMemoryOrderingStore()  # a dry run: nothing the explanation does is kept
    if ctx.args.specs is None and ctx.store_path.is_dir():
        known = ctx.store(read_only=True).resource_specifications
        store.resource_specifications.add_all(list(known.iterate()))
    _seed(store, ctx.args.specs, ctx.args.assessments)
    issuer = ResourceOrderIssuer(store, rules)
    rows: list[dict[str, Any]] = []
    would_fail = 0
    for number, request in enumerate(requests):
        explanation = issuer.explain(request)
        would_fail += not explanation.would_issue
        if ctx.json:
            rows.extend({"request": request.key, **row} for row in explanation.rows())
        else:
            if number:
                ctx.out()
            ctx.out(explanation.text())
    if ctx.json:
        ctx.emit_json([{k.replace(" ", "_"): v for k, v in row.items()} for row in rows])
    return EXIT_FAILED if would_fail else EXIT_OK


def _check(ctx: Context) -> int:
    try:
        rules = load_rules(ctx.args.rules)
    except ValidationError as exc:
        if ctx.json:
            ctx.emit_json(
                {"rules": None, "problems": [{"path": p, "message": m} for p, m in exc.problems]}
            )
        else:
            for path, message in exc.problems:
                ctx.out(f"{path}: {message}")
            ctx.note(f"{ctx.args.rules}: {len(exc.problems)} problem(s)")
        return EXIT_FAILED
    count = len(rules.rules)
    if ctx.json:
        ctx.emit_json({"rules": count, "problems": []})
    else:
        ctx.out(f"{ctx.args.rules}: {count} rule(s), no problems")
    return EXIT_OK
