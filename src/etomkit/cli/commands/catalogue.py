"""``etomkit offerings …`` and ``etomkit products …``: import, export, list, show, transition."""

from __future__ import annotations

import argparse
from typing import Any

from etomkit import tmf
from etomkit.cli.base import EXIT_OK, Context, output_file, read_documents
from etomkit.model.queries import OfferingFilter, ProductFilter

__all__ = ["register"]

# (group, TMF name, filter options: option -> (filter field, help))
_KINDS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "offerings": (
        "ProductOffering",
        {
            "status": ("lifecycle_status", "lifecycle status (read leniently: 'launched')"),
            "category": ("category_id", "category id"),
            "name": ("name", "exact name"),
        },
    ),
    "products": (
        "Product",
        {
            "status": ("status", "product status"),
            "customer": ("customer_id", "customer (related party) id"),
            "offering": ("offering_id", "product offering id"),
        },
    ),
}


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``offerings`` and ``products`` groups."""
    for group, (entity, filters) in _KINDS.items():
        parser = commands.add_parser(
            group,
            parents=[common],
            help=f"the {entity} records (TMF{'620' if group == 'offerings' else '637'})",
            description=f"Import, export, list, show and transition {group}.",
        )
        parser.set_defaults(handler=lambda ctx, p=parser: _help(ctx, p))
        sub = parser.add_subparsers(title="actions", metavar="ACTION")

        imp = sub.add_parser(
            "import",
            parents=[common],
            help=f"import TMF JSON {group}, all or nothing",
            description=f"Import {group} from TMF JSON (an array, one object or JSON lines), "
            "all or nothing: any problem and nothing is stored.",
        )
        imp.add_argument("file", metavar="FILE|-", help="the JSON file (- for standard input)")
        imp.add_argument(
            "--mode",
            choices=["create", "upsert"],
            default="create",
            help="create: refuse ids already stored (default); upsert: replace them",
        )
        imp.set_defaults(handler=_import, group=group)

        exp = sub.add_parser(
            "export",
            parents=[common],
            help=f"export {group} as TMF JSON",
            description=f"Write {group} as TMF JSON (lossless: import reads it back).",
        )
        exp.add_argument("--format", choices=["jsonl", "json"], default="jsonl")
        exp.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
        _filters(exp, filters)
        exp.set_defaults(handler=_export, group=group)

        lst = sub.add_parser(
            "list", parents=[common], help=f"list {group}", description=f"List {group}."
        )
        _filters(lst, filters)
        lst.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
        lst.add_argument("--offset", type=int, default=0, help="skip this many first")
        lst.set_defaults(handler=_list, group=group)

        show = sub.add_parser("show", parents=[common], help=f"one of the {group} as TMF JSON")
        show.add_argument("id", metavar="ID")
        show.set_defaults(handler=_show, group=group)

        move = sub.add_parser(
            "transition",
            parents=[common],
            help="move one through its lifecycle",
            description="Move one record to STATE; the lifecycle table decides what is allowed.",
        )
        move.add_argument("id", metavar="ID")
        move.add_argument("state", metavar="STATE")
        move.set_defaults(handler=_transition, group=group)


def _filters(parser: argparse.ArgumentParser, filters: dict[str, tuple[str, str]]) -> None:
    for option, (_, text) in filters.items():
        parser.add_argument(f"--{option}", action="append", metavar="VALUE", help=text)


def _help(ctx: Context, parser: argparse.ArgumentParser) -> int:
    parser.print_help(ctx.stderr)
    return 2


def _criteria(ctx: Context) -> dict[str, Any]:
    _, filters = _KINDS[ctx.args.group]
    criteria: dict[str, Any] = {}
    for option, (field, _) in filters.items():
        values = getattr(ctx.args, option, None)
        if values:
            many = field in ("lifecycle_status", "status")
            criteria[field] = frozenset(values) if many else values[-1]
    return criteria


def _where(ctx: Context) -> Any:
    criteria = _criteria(ctx)
    if not criteria:
        return None
    cls = OfferingFilter if ctx.args.group == "offerings" else ProductFilter
    return cls(**criteria)


def _import(ctx: Context) -> int:
    group = ctx.args.group
    documents = read_documents(ctx.args.file, what=group)
    inv = ctx.inventory()
    before = len(ctx.store().offerings if group == "offerings" else ctx.store().products)
    load = inv.import_offerings if group == "offerings" else inv.import_products
    result = load(documents, mode=ctx.args.mode)
    if ctx.json:
        ctx.emit_json(
            {"created": list(result.created), "replaced": list(result.replaced), "before": before}
        )
    else:
        found = f"{len(result.replaced)} found from earlier runs (replaced)"
        ctx.out(
            f"{group}: {result.count} imported into {ctx.store_spec}: "
            f"{len(result.created)} new, {found}; the store held {before} before"
        )
    return EXIT_OK


def _export(ctx: Context) -> int:
    inv = ctx.inventory(read_only=True)
    download = inv.download_offerings if ctx.args.group == "offerings" else inv.download_products
    with output_file(ctx, ctx.args.out) as handle:
        download(_where(ctx), format=ctx.args.format, out=handle)
    return EXIT_OK


def _list(ctx: Context) -> int:
    inv = ctx.inventory(read_only=True)
    criteria = _criteria(ctx)
    if ctx.args.group == "offerings":
        page: Any = inv.list_offerings(offset=ctx.args.offset, limit=ctx.args.limit, **criteria)
    else:
        page = inv.list_products(offset=ctx.args.offset, limit=ctx.args.limit, **criteria)
    if ctx.json:
        ctx.emit_json(
            {
                "total": page.total,
                "offset": page.offset,
                "items": [tmf.to_json(item) for item in page.items],
            }
        )
        return EXIT_OK
    rows = [_summary_row(ctx.args.group, item) for item in page.items]
    ctx.out(_render(rows))
    shown = f"{len(page.items)} of {page.total}"
    ctx.note(f"{ctx.args.group}: {shown} shown" if page.total else f"no {ctx.args.group} found")
    return EXIT_OK


def _render(rows: list[dict[str, Any]]) -> str:
    from etomkit.cli.base import render_table

    return render_table(rows)


def _summary_row(group: str, item: Any) -> dict[str, Any]:
    if group == "offerings":
        return {
            "id": item.id,
            "name": item.name,
            "lifecycle_status": item.lifecycle_status,
            "category": [c.id for c in item.category],
            "revision": item.revision,
        }
    customer = next(
        (p.id for p in item.related_party if (getattr(p, "role", "") or "").lower() == "customer"),
        None,
    )
    return {
        "id": item.id,
        "name": item.name,
        "status": item.status,
        "customer_id": customer,
        "offering_id": item.product_offering.id,
        "revision": item.revision,
    }


def _show(ctx: Context) -> int:
    inv = ctx.inventory(read_only=True)
    get = inv.get_offering if ctx.args.group == "offerings" else inv.get_product
    ctx.emit_json(tmf.to_json(get(ctx.args.id)))
    return EXIT_OK


def _transition(ctx: Context) -> int:
    inv = ctx.inventory()
    if ctx.args.group == "offerings":
        before: Any = inv.get_offering(ctx.args.id).lifecycle_status
        after: Any = inv.transition_offering(ctx.args.id, ctx.args.state)
        state = after.lifecycle_status
    else:
        before = inv.get_product(ctx.args.id).status
        after = inv.transition_product(ctx.args.id, ctx.args.state)
        state = after.status
    if ctx.json:
        ctx.emit_json(tmf.to_json(after))
    else:
        ctx.out(f"{ctx.args.id}: {before} -> {state} (revision {after.revision})")
    return EXIT_OK
