"""Segments: which subscriptions a retention rule applies to.

A `Segment` is a set of conditions that must all hold; conditions left
out (``None``) do not restrict. Segments combine with ``&`` (`AllOf`),
``|`` (`AnyOf`) and ``~`` (`Not`). Every condition is pure: it
reads only the `DecisionContext`.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeAlias

import attrs

from cancelflow._pickle import reduce_by_init
from cancelflow._policy.context import DecisionContext
from cancelflow._stripe.subscription import SubscriptionSnapshot
from cancelflow._validate import is_bool, is_int, is_name
from cancelflow.exceptions import PolicyError

__all__ = [
    "AllOf",
    "AnyOf",
    "Condition",
    "MetadataTest",
    "Not",
    "Predicate",
    "Range",
    "Segment",
    "ShapeKey",
    "shape_key",
]

MetadataTest: TypeAlias = "str | Iterable[str] | bool"
MetadataTests: TypeAlias = (
    "Mapping[str, MetadataTest] | Iterable[tuple[str, MetadataTest]]"
)
"""What a metadata key must hold: one value, any of several values, ``True``
(present with any value) or ``False`` (absent)."""

_Check: TypeAlias = Callable[[DecisionContext], bool]

ShapeKey: TypeAlias = tuple[str, bool, tuple[tuple[str | None, int, str], ...]]
"""A subscription's shape: currency, whether it is trialing, and each item's
``(interval, interval_count, product_id)``: all that `Condition.prefilter`
reads. Many subscriptions share one."""


def shape_key(subscription: SubscriptionSnapshot) -> ShapeKey:
    """The `ShapeKey` of *subscription*."""
    return (
        subscription.currency,
        subscription.status == "trialing",
        tuple((i.interval, i.interval_count, i.product_id) for i in subscription.items),
    )


_MetaItems: TypeAlias = tuple[tuple[str, "frozenset[str] | bool"], ...]


def _fail(message: str, key: str) -> PolicyError:
    return PolicyError(message, key_path=key)


#: How deeply ``AllOf``, ``AnyOf`` and ``Not`` may nest. Matching, describing,
#: dumping and pickling a condition recurse once per level (pickling several
#: times), so a bound keeps them all far from Python's recursion limit; real
#: policies nest a few levels.
MAX_NESTING: Final = 32


def _nesting(conditions: Iterable[Condition]) -> int:
    """The nesting of a combinator of *conditions*; refused past :data:`MAX_NESTING`."""
    depth = 1 + max((c.nesting for c in conditions), default=0)
    if depth > MAX_NESTING:
        raise _fail(
            f"segments nest {depth} levels deep (all/any/not inside each other); "
            f"at most {MAX_NESTING} are allowed: flatten them",
            "conditions",
        )
    return depth


@attrs.frozen
class Range:
    """An inclusive integer range; a missing bound is open.

    `Range(min=5000)` is "5000 or more", `Range(max=0)` is "0 or less",
    `Range(1, 3)` is 1, 2 or 3.

    Attributes:
        min: the smallest value in the range, or `None`.
        max: the largest value in the range, or `None`.
    """

    min: int | None = None
    max: int | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("min", "max"):
            value = getattr(self, name)
            if value is not None and not is_int(value):
                raise _fail(f"must be an integer, got {value!r}", name)
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _fail(f"is greater than max ({self.min} > {self.max})", "min")

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        return (self.min is None or value >= self.min) and (
            self.max is None or value <= self.max
        )

    def describe(self, what: str) -> str:
        """Say the range in words, about a quantity.

        Args:
            what: the quantity's name (`"MRR"`).

        Returns:
            The words, such as `"MRR ≥ 5000"`.
        """
        if self.min is not None and self.max is not None:
            if self.min == self.max:
                return f"{what} = {self.min}"
            return f"{what} {self.min}..{self.max}"
        if self.min is not None:
            return f"{what} ≥ {self.min}"
        if self.max is not None:
            return f"{what} ≤ {self.max}"
        return f"any {what}"


@attrs.frozen
class Predicate:
    """A named custom condition, for anything the built-in ones do not cover.

    Two predicates are equal when their names are: in a TOML policy a predicate
    is referenced by its name, from a registry the host passes in.

    Attributes:
        name: the predicate's name (its key in TOML).
        fn: receives the [`DecisionContext`][cancelflow.DecisionContext] and
            returns whether it holds; it must be pure and fast.
    """

    name: str
    fn: _Check = attrs.field(eq=False, repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        if not is_name(self.name):
            raise _fail("a predicate needs a non-empty name", "predicate")
        if not callable(self.fn):
            raise _fail(f"{self.name!r} is not callable", "predicate")


class Condition(abc.ABC):
    """Base of everything a rule can match on: combine with ``&``, ``|``, ``~``."""

    __slots__ = ()

    @abc.abstractmethod
    def matches(self, context: DecisionContext) -> bool:
        """Tell whether the context satisfies this condition.

        Args:
            context: what the decision knows.

        Returns:
            Whether it holds.
        """

    @abc.abstractmethod
    def describe(self) -> str:
        """Say the condition in a few words, for explanations.

        Returns:
            The words.
        """

    def compile(self) -> Callable[[DecisionContext], bool]:
        """Return a function equivalent to `matches`, as fast as it can be.

        Returns:
            A function of a [`DecisionContext`][cancelflow.DecisionContext].
        """
        return self.matches

    def prefilter(self, key: ShapeKey) -> bool:  # noqa: ARG002 - overridden
        """Tell whether a subscription of this shape could match.

        Rules are indexed by shape (see `ShapeKey`), so a policy tries only the
        rules a subscription's shape allows.

        Args:
            key: the shape (currency, intervals, prices, products).

        Returns:
            `False` only if no subscription of this shape can match.
        """
        return True

    def residual(self) -> Callable[[DecisionContext], bool] | None:
        """Return the checks `prefilter` does not cover.

        Returns:
            A function of the context, or `None` when nothing is left to check.
        """
        return self.compile()

    @property
    def uses_customer(self) -> bool:
        """Whether matching may read the customer's facts, which must then be fetched.

        Those are the country, customer metadata or tenure, or a custom predicate.
        """
        return True

    @property
    def nesting(self) -> int:
        """How many levels of conditions this one holds (1 for a leaf).

        `AllOf`, `AnyOf` and `Not` nest at most 32 levels deep (`MAX_NESTING`).
        """
        return 1

    def __and__(self, other: Condition) -> AllOf:
        return AllOf((self, other))

    def __or__(self, other: Condition) -> AnyOf:
        return AnyOf((self, other))

    def __invert__(self) -> Not:
        return Not(self)


def _ids(
    value: object, key: str, case: Callable[[str], str] | None = None
) -> frozenset[str] | None:
    """*value* (one id or several) as a set, in *case*; errors name *key*."""
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset((value if case is None else case(value),))
    if isinstance(value, bytes) or not isinstance(value, Iterable):
        msg = f"expected a string or a list of strings, got {type(value).__name__}"
        raise _fail(msg, key)
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            msg = f"expected strings, got {type(item).__name__} {item!r}"
            raise _fail(msg, key)
    return frozenset(items if case is None else (case(v) for v in items))


def _prices(value: Iterable[str] | str | None) -> frozenset[str] | None:
    return _ids(value, "prices")


def _products(value: Iterable[str] | str | None) -> frozenset[str] | None:
    return _ids(value, "products")


def _intervals(value: Iterable[str] | str | None) -> frozenset[str] | None:
    return _ids(value, "interval", str.lower)


def _currencies(value: Iterable[str] | str | None) -> frozenset[str] | None:
    return _ids(value, "currencies", str.lower)


def _countries(value: Iterable[str] | str | None) -> frozenset[str] | None:
    return _ids(value, "countries", str.upper)


def _metadata(value: MetadataTests | None) -> _MetaItems | None:
    return _meta(value, "metadata")


def _customer_meta(value: MetadataTests | None) -> _MetaItems | None:
    return _meta(value, "customer_metadata")


def _meta(value: object, where: str) -> _MetaItems | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        pairs: Iterable[object] = list(value.items())
    elif isinstance(value, str | bytes) or not isinstance(value, Iterable):
        msg = f"expected a table of metadata keys, got {type(value).__name__}"
        raise _fail(msg, where)
    else:
        pairs = value
    out: list[tuple[str, frozenset[str] | bool]] = []
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise _fail(f"expected (key, test) pairs, got {pair!r}", where)
        key, test = pair
        if not isinstance(key, str) or not key:
            raise _fail(f"metadata keys are non-empty strings, got {key!r}", where)
        here = f"{where}.{key}"
        if isinstance(test, bool):
            out.append((key, test))
        elif isinstance(test, str):
            out.append((key, frozenset((test,))))
        elif isinstance(test, Iterable) and not isinstance(test, bytes):
            listed = list(test)
            if not listed or not all(isinstance(v, str) for v in listed):
                msg = "expected true, false, a string or a non-empty list of strings"
                raise _fail(msg, here)
            out.append((key, frozenset(listed)))
        else:
            msg = (
                "expected true, false, a string or a list of strings, "
                f"got {type(test).__name__}"
            )
            raise _fail(msg, here)
    out.sort(key=lambda pair: pair[0])
    return tuple(out)


def _names(values: frozenset[str]) -> str:
    inner = ", ".join(sorted(values))
    return inner if len(values) == 1 else f"{{{inner}}}"


def _meta_describe(items: _MetaItems, where: str) -> list[str]:
    parts = []
    for key, test in items:
        if isinstance(test, bool):
            parts.append(f"{where}[{key}] is {'set' if test else 'not set'}")
        else:
            verb = "=" if len(test) == 1 else "in"
            parts.append(f"{where}[{key}] {verb} {_names(test)}")
    return parts


def _meta_check(items: _MetaItems, *, customer: bool) -> _Check:
    if len(items) == 1:  # the usual case, specialised
        # The closures read the metadata themselves: a getter function would
        # cost more than the test.
        ((key, test),) = items
        if customer:
            if test is True:
                return lambda c: (u := c.customer) is not None and key in u.metadata
            if test is False:
                return lambda c: (u := c.customer) is not None and key not in u.metadata
            customer_values = test
            return lambda c: (
                (u := c.customer) is not None and u.metadata.get(key) in customer_values
            )
        if test is True:
            return lambda c: key in c.subscription.metadata
        if test is False:
            return lambda c: key not in c.subscription.metadata
        values = test
        return lambda c: c.subscription.metadata.get(key) in values
    get = _customer_metadata if customer else _subscription_metadata

    def check(context: DecisionContext) -> bool:
        metadata = get(context)
        if metadata is None:
            return False
        for key, test in items:
            value = metadata.get(key)
            if test is True:
                if value is None:
                    return False
            elif test is False:
                if value is not None:
                    return False
            elif value is None or value not in test:
                return False
        return True

    return check


def _customer_metadata(context: DecisionContext) -> Mapping[str, str] | None:
    return None if context.customer is None else context.customer.metadata


def _subscription_metadata(context: DecisionContext) -> Mapping[str, str] | None:
    return context.subscription.metadata


def _all(checks: list[_Check]) -> _Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda c: a(c) and b(c)
    if len(checks) == 3:
        a, b, d = checks
        return lambda c: a(c) and b(c) and d(c)
    frozen = tuple(checks)

    def every(c: DecisionContext) -> bool:
        # A plain loop: measurably faster than all() over a generator here.
        for check in frozen:  # noqa: SIM110
            if not check(c):
                return False
        return True

    return every


def _any(checks: list[_Check]) -> _Check:
    if len(checks) == 1:
        return checks[0]
    frozen = tuple(checks)

    def some(c: DecisionContext) -> bool:
        for check in frozen:  # noqa: SIM110
            if check(c):
                return True
        return False

    return some


def _always(context: DecisionContext) -> bool:  # noqa: ARG001
    return True


def _never(context: DecisionContext) -> bool:  # noqa: ARG001
    return False


def _interval_check(names: frozenset[str] | None, count: int | None) -> _Check:
    if count is None:
        assert names is not None

        def by_name(c: DecisionContext) -> bool:
            for item in c.subscription.items:  # noqa: SIM110
                if item.interval in names:
                    return True
            return False

        return by_name

    def by_name_and_count(c: DecisionContext) -> bool:
        for item in c.subscription.items:
            if (
                item.interval is not None
                and (names is None or item.interval in names)
                and item.interval_count == count
            ):
                return True
        return False

    return by_name_and_count


def _price_check(ids: frozenset[str]) -> _Check:
    def check(c: DecisionContext) -> bool:
        for item in c.subscription.items:  # noqa: SIM110
            if item.price_id in ids:
                return True
        return False

    return check


def _product_check(ids: frozenset[str]) -> _Check:
    def check(c: DecisionContext) -> bool:
        for item in c.subscription.items:  # noqa: SIM110
            if item.product_id in ids:
                return True
        return False

    return check


def _bounds(bounds: Range) -> tuple[float, float]:
    """The range's bounds, an open one as minus or plus infinity, so that one
    chained comparison tests any range (Python compares ints with floats
    exactly, however large)."""
    return (
        -math.inf if bounds.min is None else bounds.min,
        math.inf if bounds.max is None else bounds.max,
    )


@attrs.frozen(kw_only=True)
class Segment(Condition):
    """Subscriptions for which every given condition holds.

    ``Segment()`` matches everyone. Ids and codes may be given as one string or
    any iterable of strings.

    Attributes:
        prices: at least one item has one of these price ids.
        products: at least one item has one of these product ids.
        interval: at least one recurring item bills every ``day``, ``week``,
            ``month`` or ``year`` (one of these).
        interval_count: ... every this many intervals (with *interval*, the same
            item must satisfy both).
        mrr: the MRR (minor units of the subscription's own currency, see
            `SubscriptionSnapshot.mrr`) is in this range. Pair it with
            *currencies*: 5000 is $50 in ``usd`` but ¥5000 in ``jpy``.
        currencies: the subscription's currency is one of these.
        tenure_days: whole days since the subscription started.
        customer_tenure_days: whole days since the customer was created.
        trialing: the subscription is (``True``) or is not (``False``) trialing.
        countries: the customer's country (ISO 3166-1 alpha-2) is one of these;
            never matches when the country is unknown.
        metadata: conditions on the subscription's metadata, each key mapped to
            a value, a list of values, ``True`` (set) or ``False`` (not set).
        customer_metadata: the same on the customer's metadata; never matches
            when the customer is unknown.
        attempts: the number of the customer's *earlier* cancellation attempts
            (from the ledger) is in this range.
        predicate: a custom `Predicate` must hold too.
    """

    prices: frozenset[str] | None = attrs.field(default=None, converter=_prices)
    products: frozenset[str] | None = attrs.field(default=None, converter=_products)
    interval: frozenset[str] | None = attrs.field(default=None, converter=_intervals)
    interval_count: int | None = None
    mrr: Range | None = None
    currencies: frozenset[str] | None = attrs.field(default=None, converter=_currencies)
    tenure_days: Range | None = None
    customer_tenure_days: Range | None = None
    trialing: bool | None = None
    countries: frozenset[str] | None = attrs.field(default=None, converter=_countries)
    metadata: _MetaItems | None = attrs.field(default=None, converter=_metadata)
    customer_metadata: _MetaItems | None = attrs.field(
        default=None, converter=_customer_meta
    )
    attempts: Range | None = None
    predicate: Predicate | None = None
    _test: _Check = attrs.field(init=False, eq=False, repr=False, hash=False)
    _rest: _Check | None = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        self._validate()
        shape = self._shape_checks()
        rest = self._other_checks()
        object.__setattr__(self, "_test", _all(shape + rest))
        object.__setattr__(self, "_rest", _all(rest) if rest else None)

    def _validate(self) -> None:
        intervals = {"day", "week", "month", "year"}
        if self.interval is not None and not self.interval <= intervals:
            bad = sorted(self.interval - intervals)
            raise _fail(
                f"unknown interval {bad[0]!r}; use day, week, month or year", "interval"
            )
        if self.interval_count is not None and (
            not is_int(self.interval_count) or self.interval_count < 1
        ):
            raise _fail("must be a positive integer", "interval_count")
        for name in ("mrr", "tenure_days", "customer_tenure_days", "attempts"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Range):
                raise _fail(f"must be a Range, got {value!r}", name)
        if self.trialing is not None and not is_bool(self.trialing):
            raise _fail("must be true or false", "trialing")
        if self.predicate is not None and not isinstance(self.predicate, Predicate):
            raise _fail("must be a Predicate", "predicate")
        for name in ("prices", "products", "currencies", "countries"):
            value = getattr(self, name)
            if value is not None and not all(is_name(v) for v in value):
                raise _fail("must be non-empty strings", name)

    def _shape_checks(self) -> list[_Check]:
        """The checks that depend only on the subscription's shape."""
        checks: list[_Check] = []
        if self.currencies is not None:
            currencies = self.currencies
            checks.append(lambda c: c.subscription.currency in currencies)
        if self.trialing is not None:
            trialing = self.trialing
            checks.append(lambda c: (c.subscription.status == "trialing") is trialing)
        if self.interval is not None or self.interval_count is not None:
            checks.append(_interval_check(self.interval, self.interval_count))
        if self.products is not None:
            checks.append(_product_check(self.products))
        return checks

    def prefilter(self, key: ShapeKey) -> bool:
        currency, trialing, items = key
        if self.currencies is not None and currency not in self.currencies:
            return False
        if self.trialing is not None and trialing is not self.trialing:
            return False
        names, count = self.interval, self.interval_count
        if (names is not None or count is not None) and not any(
            interval is not None
            and (names is None or interval in names)
            and (count is None or interval_count == count)
            for interval, interval_count, _ in items
        ):
            return False
        products = self.products
        return products is None or any(p in products for _, _, p in items)

    def residual(self) -> _Check | None:
        return self._rest

    @property
    def uses_customer(self) -> bool:
        return (
            self.countries is not None
            or self.customer_metadata is not None
            or self.customer_tenure_days is not None
            or self.predicate is not None
        )

    def _other_checks(self) -> list[_Check]:
        # Cheapest and most selective first. Each check is a closure
        # specialised at construction, reading what it tests directly from the
        # context (no getter in between): deciding is the hot path.
        checks: list[_Check] = []
        if self.prices is not None:
            checks.append(_price_check(self.prices))
        if self.attempts is not None:
            a_low, a_high = _bounds(self.attempts)
            checks.append(lambda c: a_low <= c.history.attempts <= a_high)
        if self.countries is not None:
            countries = self.countries
            checks.append(lambda c: c.country in countries)
        if self.tenure_days is not None:
            t_low, t_high = _bounds(self.tenure_days)
            checks.append(
                lambda c: (v := c.tenure_days) is not None and t_low <= v <= t_high
            )
        if self.customer_tenure_days is not None:
            ct_low, ct_high = _bounds(self.customer_tenure_days)
            checks.append(
                lambda c: (
                    (v := c.customer_tenure_days) is not None and ct_low <= v <= ct_high
                )
            )
        if self.mrr is not None:
            m_low, m_high = _bounds(self.mrr)
            checks.append(lambda c: m_low <= c.mrr <= m_high)
        if self.metadata is not None:
            checks.append(_meta_check(self.metadata, customer=False))
        if self.customer_metadata is not None:
            checks.append(_meta_check(self.customer_metadata, customer=True))
        if self.predicate is not None:
            fn = self.predicate.fn
            checks.append(lambda c: bool(fn(c)))
        return checks

    def compile(self) -> _Check:
        return self._test

    def matches(self, context: DecisionContext) -> bool:
        return self._test(context)

    def describe(self) -> str:
        parts: list[str] = []
        if self.prices is not None:
            parts.append(f"price in {_names(self.prices)}")
        if self.products is not None:
            parts.append(f"product in {_names(self.products)}")
        if self.interval is not None or self.interval_count is not None:
            every = (
                f"every {self.interval_count} "
                if self.interval_count is not None
                else ""
            )
            what = _names(self.interval) if self.interval is not None else "interval"
            parts.append(f"billed {every}{what}".rstrip())
        if self.mrr is not None:
            parts.append(self.mrr.describe("MRR"))
        if self.currencies is not None:
            parts.append(f"currency in {_names(self.currencies)}")
        if self.tenure_days is not None:
            parts.append(self.tenure_days.describe("tenure days"))
        if self.customer_tenure_days is not None:
            parts.append(self.customer_tenure_days.describe("customer tenure days"))
        if self.trialing is not None:
            parts.append("trialing" if self.trialing else "not trialing")
        if self.countries is not None:
            parts.append(f"country in {_names(self.countries)}")
        if self.metadata is not None:
            parts.extend(_meta_describe(self.metadata, "metadata"))
        if self.customer_metadata is not None:
            parts.extend(_meta_describe(self.customer_metadata, "customer metadata"))
        if self.attempts is not None:
            parts.append(self.attempts.describe("earlier attempts"))
        if self.predicate is not None:
            parts.append(f"{self.predicate.name}()")
        return " and ".join(parts) if parts else "everyone"


def _conditions(value: Iterable[Condition]) -> tuple[Condition, ...]:
    given: object = value
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise _fail(
            f"expected a list of segments, got {type(given).__name__}", "conditions"
        )
    conditions = tuple(value)
    for n, condition in enumerate(conditions):
        if not isinstance(condition, Condition):
            raise _fail(f"expected a segment, got {condition!r}", f"[{n}]")
    return conditions


@attrs.frozen
class AllOf(Condition):
    """Every one of the conditions holds (`a & b`).

    Attributes:
        conditions: the conditions, all of which must hold.
    """

    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)
    _test: _Check = attrs.field(init=False, eq=False, repr=False, hash=False)
    _nesting: int = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_nesting", _nesting(self.conditions))
        object.__setattr__(self, "_test", _all([c.compile() for c in self.conditions]))

    @property
    def nesting(self) -> int:
        """How many levels of conditions this one holds (at most 32)."""
        return self._nesting

    def compile(self) -> _Check:
        return self._test

    def prefilter(self, key: ShapeKey) -> bool:
        return all(c.prefilter(key) for c in self.conditions)

    @property
    def uses_customer(self) -> bool:
        return any(c.uses_customer for c in self.conditions)

    def residual(self) -> _Check | None:
        rest = [r for r in (c.residual() for c in self.conditions) if r is not None]
        return _all(rest) if rest else None

    def matches(self, context: DecisionContext) -> bool:
        return self._test(context)

    def describe(self) -> str:
        if not self.conditions:
            return "everyone"
        return " and ".join(_wrap(c) for c in self.conditions)


@attrs.frozen
class AnyOf(Condition):
    """At least one of the conditions holds (`a | b`).

    Attributes:
        conditions: the conditions, one of which must hold.
    """

    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)
    _test: _Check = attrs.field(init=False, eq=False, repr=False, hash=False)
    _nesting: int = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_by_init(self)

    @property
    def nesting(self) -> int:
        """How many levels of conditions this one holds (at most 32)."""
        return self._nesting

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_nesting", _nesting(self.conditions))
        tests = [c.compile() for c in self.conditions]
        object.__setattr__(self, "_test", _any(tests) if tests else _never)

    def compile(self) -> _Check:
        return self._test

    def prefilter(self, key: ShapeKey) -> bool:
        return any(c.prefilter(key) for c in self.conditions)

    @property
    def uses_customer(self) -> bool:
        return any(c.uses_customer for c in self.conditions)

    def matches(self, context: DecisionContext) -> bool:
        return self._test(context)

    def describe(self) -> str:
        if not self.conditions:
            return "no one"
        return " or ".join(_wrap(c) for c in self.conditions)


@attrs.frozen
class Not(Condition):
    """The condition does not hold (`~a`).

    Attributes:
        condition: the condition that must not hold.
    """

    condition: Condition
    _nesting: int = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.condition, Condition):
            raise _fail(f"expected a segment, got {self.condition!r}", "not")
        object.__setattr__(self, "_nesting", _nesting((self.condition,)))

    @property
    def nesting(self) -> int:
        """How many levels of conditions this one holds (at most 32)."""
        return self._nesting

    def compile(self) -> _Check:
        inner = self.condition.compile()
        return lambda c: not inner(c)

    def matches(self, context: DecisionContext) -> bool:
        return not self.condition.matches(context)

    @property
    def uses_customer(self) -> bool:
        return self.condition.uses_customer

    def describe(self) -> str:
        return f"not ({self.condition.describe()})"


def _wrap(condition: Condition) -> str:
    text = condition.describe()
    if isinstance(condition, Segment) and " and " not in text:
        return text
    if isinstance(condition, Not):
        return text
    return f"({text})"
