"""The issuer's standard path: match and produce for one rule bucket, generated code.

A :class:`Bucket` (the 'add' rules of the service specifications of one
:class:`~etomkit.ordering.index.BucketShape`: alike but for their refs, which
each call passes) runs its rules as data until it has been used
:data:`COMPILE_AFTER` times, then as code that :func:`compile_bucket`
generated for it. :func:`compile_bucket`
writes one function that tests the rules in order (stopping at a final one)
and builds the items of the matching plain rules, with the common template
shapes inlined: constant templates by position, one mapped characteristic
by value, copied characteristics checked in place. Anything else calls the
template's :class:`TemplateBuilder`, as the general path does, so the items
and problems are the same. The source depends only on the bucket's shape
(not its constants), so buckets of the same shape share one compiled code
object; each bucket binds its own constants.

Both return None when the item is not for this path (no rule matched, or a
special or feasibility rule did), :data:`STALE` when the request's resource
specification checks are not loaded yet or not the ones the code was bound
to, else ``(items, rule refs)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from etomkit.errors import Problem
from etomkit.model.issuance import RuleRef
from etomkit.model.resource_order import ResourceOrderItem
from etomkit.model.resource_spec import SpecificationCheck
from etomkit.model.values import Characteristic
from etomkit.ordering.index import CompiledRule
from etomkit.ordering.predicates import AllOf, AnyOf, Eq, Exists, In, Ne, Not, Predicate
from etomkit.ordering.produce import (
    CONST,
    COPY,
    MAPPED,
    CompiledTemplate,
    TemplateBuilder,
    original_characteristic,
)
from etomkit.ordering.rules import MISSING

__all__ = ["COMPILE_AFTER", "STALE", "Bucket", "bound_builder", "compile_bucket"]

STALE: Any = object()
"""Returned when the request's specification checks differ from the bound ones."""

_UNSEEN: Any = object()
POSITIONS = tuple(str(i) for i in range(1, 257))
_MAX_RULES = 200  # larger buckets stay interpreted
COMPILE_AFTER = 16
"""Uses of a bucket before it is compiled (compiling costs about as much as ~20 items)."""

BucketPlan = Callable[..., Any]
_MAKERS: dict[str, Callable[..., BucketPlan]] = {}


def bound_builder(
    builders: dict[CompiledTemplate, TemplateBuilder],
    template: CompiledTemplate,
    check: SpecificationCheck | None,
) -> TemplateBuilder:
    """The template's builder for ``check`` (shared; bound again when the check changed)."""
    builder = builders.get(template)
    if builder is None or builder.check is not check:
        builder = builders[template] = template.bind(check)
    return builder


class Bucket:
    """A bucket's rules for the standard path: interpreted (rules as data) until used
    :data:`COMPILE_AFTER` times, then as generated code bound to the request's checks.

    ``plan(values, chars, version, checks, found, refs)`` returns None (not for this
    path), STALE (a check in ``spec_ids`` is not in ``checks`` yet, or is not the one
    the generated code is bound to) or ``(items, rule refs)``; ``found`` gets the
    problems; ``refs`` holds each of the specification's rules' ref as a 1-tuple
    (``rules`` are its shape's: alike but for them), the one returned (shared, as
    the records keep it) when that rule alone matches.
    """

    __slots__ = ("builders", "checks", "plan", "rules", "spec_ids", "uses")

    def __init__(
        self,
        rules: Sequence[CompiledRule],
        builders: dict[CompiledTemplate, TemplateBuilder],
    ) -> None:
        self.rules = rules
        self.builders = builders
        ids = (t.spec_id for r in rules if r.plain for t in r.templates)
        self.spec_ids = tuple(dict.fromkeys(ids))
        self.checks: tuple[SpecificationCheck | None, ...] | None = None  # None: interpreted
        self.uses = 0
        self.plan: BucketPlan = self._interpret

    def unbind(self) -> None:
        """Back to interpreting (the checks changed); compiled again once used enough."""
        self.plan, self.checks, self.uses = self._interpret, None, 0

    def _interpret(
        self,
        values: Mapping[str, Any],
        chars: Sequence[Characteristic],
        version: str | None,
        checks: Mapping[str, SpecificationCheck | None],
        found: list[Problem],
        refs: Sequence[tuple[RuleRef]],
    ) -> Any:
        for spec_id in self.spec_ids:
            if spec_id not in checks:
                return STALE
        self.uses += 1
        if self.uses == COMPILE_AFTER:
            self._compile(checks)
        matched: list[int] = []
        rules = self.rules
        for n, rule in enumerate(rules):
            if rule.version is not None and rule.version != version:
                continue
            test = rule.test
            if test is not None and not test(values):
                continue
            if not rule.plain:
                return None
            matched.append(n)
            if rule.final:
                break
        if not matched:
            return None
        builders = self.builders
        items: list[ResourceOrderItem] = []
        for n in matched:
            rule, ref = rules[n], refs[n][0]
            for template in rule.templates:
                check = checks[template.spec_id]
                builder = builders.get(template)
                if builder is None or builder.check is not check:
                    builder = bound_builder(builders, template, check)
                position = POSITIONS[len(items)]
                added = builder.added
                built = None if added is None else added.get(position)
                if built is None:
                    built = builder.build(position, "add", values, chars, found, ref)
                items.append(built)
        if len(matched) == 1:
            return tuple(items), refs[matched[0]]
        return tuple(items), tuple([refs[n][0] for n in matched])

    def _compile(self, checks: Mapping[str, SpecificationCheck | None]) -> None:
        bound = tuple(checks[s] for s in self.spec_ids)
        plan = compile_bucket(self.rules, checks, self.builders)
        if plan is not None:
            self.plan, self.checks = plan, bound


class _Source:
    """Source lines and the constants they name (``c0``, ``c1``, ...)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.values: list[Any] = []

    def const(self, value: Any) -> str:
        self.values.append(value)
        return f"c{len(self.values) - 1}"

    def add(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def compile_bucket(
    rules: Sequence[CompiledRule],
    checks: Mapping[str, SpecificationCheck | None],
    builders: dict[CompiledTemplate, TemplateBuilder],
) -> BucketPlan | None:
    """The generated ``plan`` for ``rules`` (one bucket, best first); None if too large.

    ``checks`` holds the check of every plain rule template's specification; the
    code is bound to them (it returns STALE for a request whose checks differ). The
    rules' refs are not in the code: it takes them (``r``, a 1-tuple per rule), so
    the buckets of one shape share it.
    """
    templates = sum(len(r.templates) for r in rules if r.plain)
    if len(rules) > _MAX_RULES or templates > len(POSITIONS):
        return None
    src = _Source()
    spec_ids: list[str] = []
    used: dict[CompiledTemplate, TemplateBuilder] = {}
    for rule in rules:
        if rule.plain:
            for template in rule.templates:
                if template not in used:
                    check = checks[template.spec_id]
                    used[template] = bound_builder(builders, template, check)
                if template.spec_id not in spec_ids:
                    spec_ids.append(template.spec_id)
    bound = {t.spec_id: b.check for t, b in used.items()}
    P = src.const(POSITIONS)  # noqa: N806
    if spec_ids:
        stale = " or ".join(f"g({src.const(s)}, U) is not {src.const(bound[s])}" for s in spec_ids)
        src.add(1, "g = checks.get")
        src.add(1, f"if {stale}:")
        src.add(2, "return STALE")
    flags = [f"m{n}" for n in range(len(rules))]
    src.add(1, " = ".join([*flags, "done = False"]))
    _matching(src, rules)
    odd = [f for f, r in zip(flags, rules, strict=True) if not r.plain]
    if odd:
        src.add(1, f"if {' or '.join(odd)}:")
        src.add(2, "return None")
    plain = [f for f, r in zip(flags, rules, strict=True) if r.plain]
    if not plain:
        src.add(1, "return None")
    else:
        src.add(1, f"if not ({' or '.join(plain)}):")
        src.add(2, "return None")
        src.add(1, "items = []")
        src.add(1, "ap = items.append")
        src.add(1, "refs = []")
        for n, (flag, rule) in enumerate(zip(flags, rules, strict=True)):
            if not rule.plain:
                continue
            src.add(1, f"if {flag}:")
            src.add(2, f"refs.append({n})")
            for template in rule.templates:
                _produce(src, used[template], f"r[{n}][0]", P, templates)
        src.add(1, "if len(refs) == 1:")
        src.add(2, "return tuple(items), r[refs[0]]")
        src.add(1, "return tuple(items), tuple([r[n][0] for n in refs])")
    names = ", ".join(f"c{n}" for n in range(len(src.values)))
    body = "\n".join(src.lines)
    text = (
        f"def make({names}):\n"
        "    def plan(values, chars, version, checks, found, r):\n"
        f"{_indent(body)}\n"
        "    return plan\n"
    )
    maker = _MAKERS.get(text)
    if maker is None:
        namespace: dict[str, Any] = {"STALE": STALE, "U": _UNSEEN, "MISSING": MISSING}
        exec(compile(text, "<etomkit bucket>", "exec"), namespace)
        maker = _MAKERS[text] = namespace["make"]
    plan: BucketPlan = maker(*src.values)
    return plan


def _indent(body: str) -> str:
    return "\n".join(f"    {line}" for line in body.splitlines())


def _matching(src: _Source, rules: Sequence[CompiledRule]) -> None:
    """``m<n> = True`` for each matching rule, in order; a matching final rule ends the list."""
    ended = False  # a final rule came before: the ones after it need 'not done'
    for n, rule in enumerate(rules):
        tests = ["not done"] if ended else []
        if rule.version is not None:
            tests.append(f"version == {src.const(rule.version)}")
        if rule.test is not None:
            when = rule.rule.when
            assert when is not None  # the test is compiled from it
            tests.append(_test(src, when))
        src.add(1, f"if {' and '.join(tests) or 'True'}:")
        src.add(2, f"m{n} = True")
        if rule.final:
            src.add(2, "done = True")
            ended = True


def _test(src: _Source, predicate: Predicate) -> str:
    """An expression of ``values`` true when ``predicate`` holds (as its compiled test;
    subclasses, which may compile differently, are called as they compile)."""
    kind = type(predicate)
    if isinstance(predicate, Eq) and kind is Eq and type(predicate.value) in (str, bool):
        how = "==" if type(predicate.value) is str else "is"
        default = "" if how == "==" else ", MISSING"
        name, want = src.const(predicate.characteristic), src.const(predicate.value)
        return f"values.get({name}{default}) {how} {want}"
    if isinstance(predicate, Ne) and kind is Ne and type(predicate.value) is str:
        name, want = src.const(predicate.characteristic), src.const(predicate.value)
        return f"values.get({name}) != {want}"
    if (
        isinstance(predicate, In)
        and kind is In
        and predicate.values
        and all(type(o) is str for o in predicate.values)
    ):
        got = f"x{len(src.values)}"
        name, options = src.const(predicate.characteristic), src.const(frozenset(predicate.values))
        return f"(type({got} := values.get({name})) is str and {got} in {options})"
    if isinstance(predicate, Exists) and kind is Exists:
        how = "in" if predicate.present else "not in"
        return f"{src.const(predicate.characteristic)} {how} values"
    if isinstance(predicate, AllOf) and kind is AllOf and predicate.predicates:
        return f"({' and '.join(_test(src, p) for p in predicate.predicates)})"
    if isinstance(predicate, AnyOf) and kind is AnyOf and predicate.predicates:
        return f"({' or '.join(_test(src, p) for p in predicate.predicates)})"
    if isinstance(predicate, Not) and kind is Not:
        return f"(not {_test(src, predicate.predicate)})"
    return f"{src.const(predicate.compile())}(values)"


def _produce(src: _Source, builder: TemplateBuilder, ref: str, P: str, count: int) -> None:  # noqa: N803
    """The lines appending one template's item (at position ``len(items)``) to ``items``."""
    general = f"{src.const(builder.build)}({P}[len(items)], 'add', values, chars, found, {ref})"
    if builder.added is not None:
        # Constants the specification accepts: one shared item per position.
        src.add(2, f"ap({src.const(builder.added_items(count))}[len(items)])")
        return
    slots = builder.slots
    mapped = [s for s in slots if s[0] == MAPPED]
    copies = [s for s in slots if s[0] == COPY]
    if builder.static or (mapped and copies) or len(mapped) > 1:
        src.add(2, f"ap({general})")
        return
    if mapped:
        # One mapped characteristic: the item is the same for the same value and position.
        _, _, source, table, _, _ = mapped[0]
        accepted = frozenset(
            k for k, (_, problem) in table.items() if type(k) is str and not problem
        )
        cache = src.const(builder.mapped_items)
        src.add(2, f"x = values.get({src.const(source)})")
        src.add(2, f"if type(x) is str and x in {src.const(accepted)}:")
        src.add(3, "k = (len(items), x)")
        src.add(3, f"it = {cache}.get(k)")
        src.add(3, "if it is None:")
        src.add(4, f"it = {cache}[k] = {general}")
        src.add(3, "ap(it)")
        src.add(2, "else:")
        src.add(3, f"ap({general})")
        return
    # Constants and copied values: checked here, the item built in place.
    conditions: list[str] = []
    parts: list[str] = []
    for n, slot in enumerate(slots):
        if slot[0] == CONST:
            parts.append(src.const(slot[1]))
            continue
        _, target, source, (value_check, renamed), _, _ = slot
        name = src.const(source)
        src.add(2, f"x{n} = values.get({name}, MISSING)")
        conditions.append(f"x{n} is not MISSING")
        if value_check is not None:
            conditions.append(f"{src.const(value_check)}(x{n}) is None")
        if target == source:
            parts.append(f"{src.const(original_characteristic)}(chars, {name})")
        else:
            parts.append(f"{src.const(renamed)}(x{n})")
    make = src.const(builder.maker("add"))
    characteristic = f"({', '.join(parts)},)" if parts else "()"
    src.add(2, f"if {' and '.join(conditions) or 'True'}:")
    src.add(3, f"ap({make}({P}[len(items)], {characteristic}))")
    src.add(2, "else:")
    src.add(3, f"ap({general})")
