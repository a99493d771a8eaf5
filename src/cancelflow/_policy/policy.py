"""The retention policy: ordered rules, a default, guards; a pure ``decide``.

The first rule whose segment matches gives the outcome (an offer, no offer, or
an experiment); the default applies when none does; the guards then veto
offers that must not be made. Same inputs, same decision: nothing here reads
the clock, the network or a random number generator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

import attrs

from cancelflow._pickle import reduce_by_init
from cancelflow._policy.context import CustomerFacts, DecisionContext
from cancelflow._policy.decision import Decision, trusted_decision
from cancelflow._policy.experiments import Arm, Experiment
from cancelflow._policy.guards import CouponFacts, GuardBlock, Guards
from cancelflow._policy.history import CustomerHistory
from cancelflow._policy.offers import NO_OFFER, NoOffer, Offer
from cancelflow._policy.segments import Condition, Segment, ShapeKey, shape_key
from cancelflow._stripe.coupon import Coupon
from cancelflow._stripe.subscription import SubscriptionSnapshot
from cancelflow._validate import is_name
from cancelflow.exceptions import InvalidParameterError, PolicyError

__all__ = ["Outcome", "RetentionPolicy", "Rule"]

Outcome: TypeAlias = Offer | NoOffer | Experiment
"""What a rule decides: an `Offer`, `NoOffer` or an
`Experiment`."""

DEFAULT_RULE = "default"

_CouponLookup: TypeAlias = Callable[[str], Coupon | None]
_Check: TypeAlias = Callable[[DecisionContext], bool]

_INDEX_LIMIT = 4096

_IndexKey: TypeAlias = ShapeKey | tuple[str, bool, str | None, int, str]
"""A shape, or for one item, its flat form (see ``RetentionPolicy._match``)."""

Evaluation: TypeAlias = tuple[
    "Rule", Offer | None, Experiment | None, Arm | None, int | None, list[GuardBlock]
]


@attrs.frozen
class Rule:
    """One rule: when *segment* matches, *outcome* applies.

    Attributes:
        name: unique in the policy; recorded in every decision it makes.
        segment: who the rule is for (`Segment`, or a combination).
        outcome: `Offer`, `NoOffer` or `Experiment`.
    """

    name: str
    segment: Condition
    outcome: Outcome
    _description: str = attrs.field(init=False, eq=False, repr=False, hash=False)
    _test: Callable[[DecisionContext], bool] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        if not is_name(self.name):
            raise PolicyError("a rule needs a non-empty name", key_path="name")
        if not isinstance(self.segment, Condition):
            raise PolicyError(
                f"expected a segment, got {self.segment!r}", key_path="segment"
            )
        if not isinstance(self.outcome, Offer | NoOffer | Experiment):
            raise PolicyError(
                "expected Offer, NoOffer or Experiment, got "
                f"{type(self.outcome).__name__}",
                key_path="outcome",
            )
        object.__setattr__(self, "_description", self.segment.describe())
        object.__setattr__(self, "_test", self.segment.compile())

    @property
    def description(self) -> str:
        """The segment in words."""
        return self._description


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    given: object = value
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise PolicyError(
            f"rules must be a list of Rule, got {type(given).__name__}",
            key_path="rules",
        )
    return tuple(value)


@attrs.frozen(kw_only=True)
class RetentionPolicy:
    """Who gets which retention offer.

    Attributes:
        rules: tried in order; the first whose segment matches decides.
        default: the outcome when no rule matches (no offer unless said).
        guards: which guards may veto an offer (all on by default).
        name: a name (or version) for the policy, recorded in decisions.
    """

    rules: tuple[Rule, ...] = attrs.field(converter=_rules)
    default: Outcome = NO_OFFER
    guards: Guards = attrs.field(factory=Guards)
    name: str | None = None
    _default_rule: Rule = attrs.field(init=False, eq=False, repr=False, hash=False)
    # The rules each subscription shape can match, memoised: a cache, never
    # observable in results (shapes are few; it is emptied when it grows big).
    _index: dict[_IndexKey, tuple[tuple[Rule, _Check | None], ...]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False, hash=False
    )

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        names: set[str] = set()
        experiments: dict[str, Experiment] = {}
        for n, rule in enumerate(self.rules):
            where = f"rules[{n}]"
            if not isinstance(rule, Rule):
                raise PolicyError(f"expected a Rule, got {rule!r}", key_path=where)
            if rule.name in names or rule.name == DEFAULT_RULE:
                raise PolicyError(
                    f"duplicate rule name {rule.name!r}"
                    if rule.name in names
                    else f"{DEFAULT_RULE!r} is reserved for the default",
                    key_path=f"{where}.name",
                )
            names.add(rule.name)
            self._check_experiment(rule.outcome, experiments, f"{where}.experiment")
        if not isinstance(self.default, Offer | NoOffer | Experiment):
            raise PolicyError(
                "expected Offer, NoOffer or Experiment", key_path=DEFAULT_RULE
            )
        self._check_experiment(self.default, experiments, "default.experiment")
        if not isinstance(self.guards, Guards):
            raise PolicyError("expected Guards", key_path="guards")
        if self.name is not None and not is_name(self.name):
            raise PolicyError("must be a non-empty string", key_path="name")
        object.__setattr__(
            self, "_default_rule", Rule(DEFAULT_RULE, Segment(), self.default)
        )

    @staticmethod
    def _check_experiment(
        outcome: Outcome, seen: dict[str, Experiment], where: str
    ) -> None:
        if not isinstance(outcome, Experiment):
            return
        other = seen.setdefault(outcome.name, outcome)
        if other != outcome:
            raise PolicyError(
                f"another experiment is already named {outcome.name!r}; "
                "reuse the same arms and salt or pick another name",
                key_path=f"{where}.name",
            )

    # -- introspection -------------------------------------------------------------

    @property
    def all_rules(self) -> tuple[Rule, ...]:
        """The rules followed by the default (as a rule named ``default``)."""
        return (*self.rules, self._default_rule)

    @property
    def experiments(self) -> tuple[Experiment, ...]:
        """Every experiment, once, in order of appearance."""
        seen: dict[str, Experiment] = {}
        for rule in self.all_rules:
            if isinstance(rule.outcome, Experiment):
                seen.setdefault(rule.outcome.name, rule.outcome)
        return tuple(seen.values())

    @property
    def coupon_ids(self) -> frozenset[str]:
        """Every coupon the policy can offer (prefetch these)."""
        ids: set[str] = set()
        for rule in self.all_rules:
            outcome = rule.outcome
            if isinstance(outcome, Offer):
                ids.add(outcome.coupon)
            elif isinstance(outcome, Experiment):
                ids |= outcome.coupon_ids
        return frozenset(ids)

    @property
    def uses_customer(self) -> bool:
        """Whether some rule reads the customer's facts.

        Then `Cancelflow` retrieves the customer before deciding.
        """
        return any(rule.segment.uses_customer for rule in self.rules)

    # -- deciding -------------------------------------------------------------------

    def decide(
        self,
        subscription: SubscriptionSnapshot,
        *,
        now: int,
        customer: CustomerFacts | None = None,
        history: CustomerHistory | None = None,
        coupons: CouponFacts | None = None,
    ) -> Decision:
        """Decide the retention offer for one cancellation attempt.

        Pure and deterministic: the same arguments give an equal
        `Decision`.

        Args:
            subscription: the subscription the customer wants to cancel.
            now: the decision time, unix seconds.
            customer: facts about the customer (country, metadata), if known.
            history: the customer's earlier attempts, from the ledger
                (``Ledger.customer_history``); none means a first attempt.
            coupons: the coupons' facts, by id: a ``Mapping[str, Coupon]`` or a
                `CouponSource` (such as a `CouponCache`). A
                coupon missing from it is treated as not existing.

        Returns:
            The [`Decision`][cancelflow.Decision], with its explanation.

        Raises:
            PolicyError: a custom predicate raised; the key path names its rule.
        """
        context = DecisionContext(
            subscription, now=now, customer=customer, history=history
        )
        return self.decide_context(context, lookup_for(coupons))

    def decide_context(
        self, context: DecisionContext, coupons: _CouponLookup
    ) -> Decision:
        """Decide on a prepared context (for hot loops and backtests).

        Args:
            context: the [`DecisionContext`][cancelflow.DecisionContext].
            coupons: a `coupon_id -> Coupon | None` function.

        Returns:
            The [`Decision`][cancelflow.Decision].
        """
        rule, proposed, experiment, arm, bucket, blocks = self.evaluate(
            context, coupons
        )
        sub = context.subscription
        return trusted_decision(
            {
                "subscription": sub.id,
                "customer": sub.customer,
                "decided_at": context.now,
                "rule": rule.name,
                "segment": rule._description,
                "proposed": proposed,
                "offer": None if blocks else proposed,
                "experiment": None if experiment is None else experiment.name,
                "arm": None if arm is None else arm.name,
                "bucket": bucket,
                "blocked_by": tuple(blocks) if blocks else (),
                "policy": self.name,
            }
        )

    def proposal(self, context: DecisionContext) -> Offer | None:
        """Return the offer the rules (and experiment arm) propose, before the guards.

        Needs no coupon facts: `Cancelflow` uses it to learn which coupon to fetch
        before deciding.

        Args:
            context: the [`DecisionContext`][cancelflow.DecisionContext].

        Returns:
            The offer, or `None` when the rules offer nothing.
        """
        outcome = self._match(context).outcome
        if isinstance(outcome, Offer):
            return outcome
        if isinstance(outcome, Experiment):
            return outcome.assign(context.subscription.customer)[0].offer
        return None

    def evaluate(self, context: DecisionContext, coupons: _CouponLookup) -> Evaluation:
        """Return the parts of a decision, without building a `Decision`.

        Backtests use this to skip the cost of a million `Decision` objects.

        Args:
            context: the [`DecisionContext`][cancelflow.DecisionContext].
            coupons: a `coupon_id -> Coupon | None` function.

        Returns:
            `(rule, proposed, experiment, arm, bucket, blocks)`: the offer is
            `proposed` when `blocks` is empty.
        """
        rule = self._match(context)
        outcome = rule.outcome
        experiment: Experiment | None = None
        arm: Arm | None = None
        bucket: int | None = None
        proposed: Offer | None
        if isinstance(outcome, Offer):
            proposed = outcome
        elif isinstance(outcome, Experiment):
            arm, bucket = outcome.assign(context.subscription.customer)
            experiment = outcome
            proposed = arm.offer
        else:
            proposed = None
        blocks: list[GuardBlock]
        guards = self.guards
        if proposed is not None:
            coupon = coupons(proposed.coupon) if guards.coupon else None
            blocks = guards.offer_blocks(context, proposed, coupon)
        elif arm is not None:
            blocks = guards.subscription_blocks(context)
        else:
            blocks = []
        return rule, proposed, experiment, arm, bucket, blocks

    def _candidates(
        self, key: _IndexKey, shape: ShapeKey
    ) -> tuple[tuple[Rule, _Check | None], ...]:
        found: list[tuple[Rule, _Check | None]] = []
        for rule in self.rules:
            if rule.segment.prefilter(shape):
                residual = rule.segment.residual()
                found.append((rule, residual))
                if residual is None:
                    break  # this rule always matches this shape: the rest cannot
        candidates = tuple(found)
        if len(self._index) >= _INDEX_LIMIT:
            self._index.clear()
        self._index[key] = candidates
        return candidates

    def _match(self, context: DecisionContext) -> Rule:
        sub = context.subscription
        items = sub.items
        key: _IndexKey
        if len(items) == 1:
            # A single item, the common case, gets a flat key: much cheaper to
            # build and hash than shape_key()'s nested tuples. It holds the
            # same facts, and its length (5) tells it apart from a ShapeKey's.
            item = items[0]
            key = (
                sub.currency,
                sub.status == "trialing",
                item.interval,
                item.interval_count,
                item.product_id,
            )
        else:
            key = shape_key(sub)
        candidates = self._index.get(key)
        if candidates is None:
            candidates = self._candidates(key, shape_key(sub))
        rule = self._default_rule
        try:
            for rule, test in candidates:
                if test is None or test(context):
                    return rule
        except PolicyError:
            raise
        except Exception as err:
            index = self.rules.index(rule)
            msg = (
                f"rule {rule.name!r}: a custom predicate raised "
                f"{type(err).__name__}: {err}"
            )
            raise PolicyError(msg, key_path=f"rules[{index}].segment") from err
        return self._default_rule


def lookup_for(coupons: CouponFacts | None) -> _CouponLookup:
    """A ``coupon_id -> Coupon | None`` function over any kind of coupon facts."""
    if coupons is None:
        return _no_coupon
    get_coupon: _CouponLookup | None = getattr(coupons, "get_coupon", None)
    if get_coupon is not None:
        return get_coupon
    if isinstance(coupons, Mapping):
        return coupons.get
    msg = f"give a Mapping or a CouponSource, got {type(coupons).__name__}"
    raise InvalidParameterError("coupons", msg)


def _no_coupon(coupon_id: str) -> Coupon | None:  # noqa: ARG001 - lookup signature
    return None


def example_policy() -> RetentionPolicy:
    """A small policy for demos: annual customers get 20 % off, monthly
    customers are split between 10 % off, 25 % off and a 10 % holdout.

    Its coupons are ``RETAIN10``, ``RETAIN20`` and ``RETAIN25`` (create them,
    e.g. in a FakeStripe account). ``cancelflow demo`` uses it as:

    ```python
    flow = Cancelflow(client, allowed_hosts=[...], policy=example_policy())
    link = flow.create_cancel_link(customer=..., subscription=...)
    print(link.decision.explain())
    ```
    """
    return RetentionPolicy(
        name="example",
        rules=[
            Rule("no offer to trials", Segment(trialing=True), NoOffer()),
            Rule("annual plans", Segment(interval="year"), Offer("RETAIN20")),
            Rule(
                "monthly plans",
                Segment(interval="month"),
                Experiment(
                    "monthly-discount",
                    arms=[
                        Arm("holdout", 10),
                        Arm("ten-percent", 45, Offer("RETAIN10")),
                        Arm("quarter-off", 45, Offer("RETAIN25")),
                    ],
                ),
            ),
        ],
    )
