"""One copy of the equal immutable parts of stored products (issue #13: memory).

A store holds many products that name the same offering, the same customer or
the same plain characteristics, each as objects of its own. The product
repository stores a product with those parts replaced by an equal one it
already holds, so a million products keep one offering reference per
offering and one related-party tuple per customer. Sharing is invisible: the
parts are frozen, of exactly the same types and values (a part whose
equality could hide a difference — extras, or a characteristic value such as
``1.0`` against ``1`` — is not shared), and only storable products (already
checked) get here.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from typing import Any

from etomkit.model._copy import replacer
from etomkit.model.product import CUSTOMER_ROLE, Product
from etomkit.model.values import NO_EXTRAS, RelatedParty

__all__ = ["ProductParts"]

# Characteristic values whose equality implies the same type and JSON (with the
# type in the key: True == 1, but bool and int differ). Floats are left out
# (0.0 == -0.0), and so are arrays and objects.
_PLAIN = frozenset({str, int, bool, type(None)})
_MIN_LIMIT = 4096


class ProductParts:
    """The shared parts of one repository's products; :meth:`stored` gives the copy to store.

    A part is looked up by its fields (references) or by its first id or name
    (parties, characteristics: one entry per customer, not a copy of each key)
    and compared field by field in C (``attrgetter`` tuples: every field is a
    ``str`` or None, or a plain characteristic value of the same type). The
    latest part for a key replaces an unequal one. A memo is cleared when it
    outgrows twice the number of stored products (parts of removed products are
    not kept for long); products already stored keep what they share.
    """

    __slots__ = ("_chars", "_last_ref", "_live", "_parties", "_refs")

    def __init__(self, live: Callable[[], int] = int) -> None:
        self._live = live  # the number of products stored (for customer_parties)
        self._refs: dict[tuple[Any, ...], Any] = {}  # EntityRef fields -> a stored EntityRef
        self._parties: dict[str, Any] = {}  # first party's id -> a stored related_party
        self._chars: dict[str, Any] = {}  # first name -> a stored product_characteristic
        self._last_ref: Any = None  # the offering ref stored last (purchases repeat it)

    def parties_of(self, party: RelatedParty) -> tuple[RelatedParty, ...]:
        """``(party,)``, or the stored equal tuple when ``party`` is of exactly the
        types a store keeps (so sharing never makes a refused party storable)."""
        if type(party) is RelatedParty and type(party.id) is str:
            found = self._parties.get(party.id)
            if (
                found is not None
                and _party_fields(found[0]) == _party_fields(party)
                and _TEXT_KINDS.issuperset(map(type, _party_text(party)))
                and (party.extras is NO_EXTRAS or type(party.extras) is dict)
            ):
                return found  # type: ignore[no-any-return]
        return (party,)

    def customer_parties(self, customer_id: str, kind: str) -> tuple[RelatedParty, ...]:
        """The ``related_party`` of a purchase's customer of only an id and a kind
        (``str`` both): the stored tuple of an equal party, else a new one,
        remembered for the next product of that customer."""
        memo = self._parties
        found = memo.get(customer_id)
        if found is not None and _party_fields(found[0]) == (
            customer_id, CUSTOMER_ROLE, None, None, kind, None, None, None, NO_EXTRAS,
        ):  # fmt: skip
            return found  # type: ignore[no-any-return]
        if len(memo) > 2 * self._live() + _MIN_LIMIT:
            memo.clear()
        parties = memo[customer_id] = (_customer(_CUSTOMER, customer_id, kind),)
        return parties

    def stored(self, p: Product, live: int) -> Product:
        """``p`` at revision 1, its parts replaced by equal stored ones (``p`` itself
        if nothing changes); ``live`` is the number of products stored."""
        refs, parties_memo, chars_memo = self._refs, self._parties, self._chars
        limit = 2 * live + _MIN_LIMIT
        if len(refs) > limit or len(parties_memo) > limit or len(chars_memo) > limit:
            refs.clear()
            parties_memo.clear()
            chars_memo.clear()
        offering = p.product_offering
        if offering is not self._last_ref and not offering.extras:
            offering = self._last_ref = refs.setdefault(_ref_fields(offering), offering)
        spec = p.product_specification
        if spec is not None and not spec.extras:
            spec = refs.setdefault(_ref_fields(spec), spec)
        parties = p.related_party
        if len(parties) == 1:
            party = parties[0]
            found = parties_memo.get(party.id)
            if found is None:
                if not party.extras:
                    parties_memo[party.id] = parties
            elif found is not parties:
                if _party_fields(found[0]) == _party_fields(party):
                    parties = found
                elif not party.extras:
                    parties_memo[party.id] = parties
        chars = p.product_characteristic
        if chars:
            first = chars[0]
            found = chars_memo.get(first.name)
            if found is chars:
                pass
            elif found is not None and len(found) == len(chars) and _same_chars(found, chars):
                chars = found
            elif _plain(chars):
                chars_memo[first.name] = chars
        if (
            offering is p.product_offering
            and spec is p.product_specification
            and parties is p.related_party
            and chars is p.product_characteristic
        ):
            return p if p.revision == 1 else _at_revision(p, 1)
        intern = sys.intern  # a new copy is made anyway: its repeated words shared too
        name = p.name
        copy: Product = _stored_copy(
            p, offering, spec, parties, chars, intern(p.status), name and intern(name), 1
        )
        return copy


_at_revision = replacer(Product, "revision")
_CUSTOMER = RelatedParty(id="", role=CUSTOMER_ROLE)
_customer = replacer(RelatedParty, "id", "referred_type")
_stored_copy = replacer(
    Product,
    "product_offering",
    "product_specification",
    "related_party",
    "product_characteristic",
    "status",
    "name",
    "revision",
)
_REF = ("id", "href", "name", "version", "referred_type", "type", "base_type", "schema_location")
_ref_fields = operator.attrgetter(*_REF)
_PARTY = ("id", "role", "name", "href", "referred_type", "type", "base_type", "schema_location")
_party_text = operator.attrgetter(*_PARTY)
_party_fields = operator.attrgetter(*_PARTY, "extras")
_TEXT_KINDS = frozenset({str, type(None)})
_char_fields = operator.attrgetter(
    "name", "value", "value_type", "type", "base_type", "schema_location", "extras"
)


def _plain(chars: Any) -> bool:
    """Characteristics that may be shared: no extras, values of the plain kinds."""
    return all(type(c.value) in _PLAIN and not c.extras for c in chars)


def _same_chars(stored: Any, chars: Any) -> bool:
    """``chars`` (as many as ``stored``) equal ``stored``, values of the same types too."""
    if len(chars) == 1:
        a, b = stored[0], chars[0]
        return a is b or (type(a.value) is type(b.value) and _char_fields(a) == _char_fields(b))
    for a, b in zip(stored, chars, strict=True):
        if a is not b and (
            type(a.value) is not type(b.value) or _char_fields(a) != _char_fields(b)
        ):
            return False
    return True
