"""A retention decision as a value: what was offered, and why.

A `Decision` is what `RetentionPolicy.decide` returns and what the
ledger records with the case. It converts to JSON and back without loss.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import attrs

from cancelflow._policy.experiments import BUCKETS
from cancelflow._policy.guards import Guard, GuardBlock
from cancelflow._policy.offers import Offer
from cancelflow.exceptions import InvalidInputError

__all__ = ["Decision"]

FORMAT_VERSION: Final = 1


# An instance dict rather than slots (attrs' default): filling twelve slots of a
# frozen class goes through object.__setattr__ once per field, which was a
# third of the cost of a whole decision. With a dict, the policy's hot path
# hands over all the fields at once (see trusted_decision).
@attrs.frozen(kw_only=True, slots=False)
class Decision:
    """Which retention offer (if any) one customer gets, and why.

    Attributes:
        subscription: the subscription's id.
        customer: the customer's id.
        decided_at: when the decision was made (unix seconds).
        rule: the name of the rule that matched (``default`` when none did).
        segment: that rule's segment, in words.
        proposed: what the rule (or the experiment arm) proposed, before the
            guards; ``None`` for no offer.
        offer: what is actually offered: *proposed* if no guard blocked it,
            else ``None``.
        experiment: the experiment's name, when the rule ran one.
        arm: the experiment arm the customer is in.
        bucket: the customer's bucket in that experiment (0 to 9,999).
        blocked_by: every guard that blocked the proposed offer, in the order
            checked. For a holdout arm, the guards that *would* have blocked an
            offer, so that arms can be compared on eligible customers only.
        policy: the policy's name, if it has one.
    """

    subscription: str
    customer: str
    decided_at: int
    rule: str
    segment: str
    proposed: Offer | None = None
    offer: Offer | None = None
    experiment: str | None = None
    arm: str | None = None
    bucket: int | None = None
    blocked_by: tuple[GuardBlock, ...] = ()
    policy: str | None = None

    @property
    def coupon(self) -> str | None:
        """The coupon id to put on the cancel link, or ``None``."""
        return None if self.offer is None else self.offer.coupon

    @property
    def blocked(self) -> bool:
        """Whether a guard blocked (or, in a holdout, would have blocked) an offer."""
        return bool(self.blocked_by)

    @property
    def holdout(self) -> bool:
        """Whether the customer is in an experiment's no-offer arm."""
        return self.arm is not None and self.proposed is None

    @property
    def guards(self) -> frozenset[Guard]:
        """The guards in `blocked_by`."""
        return frozenset(b.guard for b in self.blocked_by)

    def explain(self) -> str:
        """Say how this decision came about, in one paragraph of plain English.

        Returns:
            The paragraph.
        """
        parts = [
            f"Subscription {self.subscription} of customer {self.customer} "
            + (
                "matched no rule, so the default applied"
                if self.rule == "default"
                else f"matched rule {self.rule!r} ({self.segment})"
            )
            + (f" of policy {self.policy!r}" if self.policy else "")
            + "."
        ]
        if self.experiment is not None:
            arm_text = (
                "a no-offer holdout"
                if self.proposed is None
                else f"which offers {self.proposed.describe()}"
            )
            parts.append(
                f"Experiment {self.experiment!r} put the customer in arm "
                f"{self.arm!r} (bucket {self.bucket} of {BUCKETS:,}), {arm_text}."
            )
        elif self.proposed is None:
            parts.append("The rule makes no offer.")
        else:
            parts.append(f"The rule offers {self.proposed.describe()}.")
        reasons = "; ".join(f"{b.guard.value}: {b.detail}" for b in self.blocked_by)
        if self.proposed is None:
            if self.blocked_by:
                parts.append(
                    f"An offer would also have been blocked by the guards ({reasons})."
                )
            parts.append("No retention offer is made.")
        elif self.offer is None:
            parts.append(
                f"The guards blocked it ({reasons}), so no retention offer is made."
            )
        else:
            parts.append(f"No guard blocked it, so {self.offer.describe()} is offered.")
        return " ".join(parts)

    # -- JSON ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the decision as a JSON-ready dict (the ledger stores this).

        Returns:
            The dict.
        """
        return {
            "v": FORMAT_VERSION,
            "subscription": self.subscription,
            "customer": self.customer,
            "decided_at": self.decided_at,
            "rule": self.rule,
            "segment": self.segment,
            "proposed": _offer_dict(self.proposed),
            "offer": _offer_dict(self.offer),
            "experiment": self.experiment,
            "arm": self.arm,
            "bucket": self.bucket,
            "blocked_by": [
                {"guard": b.guard.value, "code": b.code, "detail": b.detail}
                for b in self.blocked_by
            ],
            "policy": self.policy,
        }

    def to_json(self) -> str:
        """Return `to_dict` as compact JSON text.

        Returns:
            The text.
        """
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: object) -> Decision:
        """Read back `to_dict`'s output.

        Args:
            data: the dict.

        Returns:
            The decision.

        Raises:
            InvalidInputError: the data is not a decision; the message names the bad
                field.
        """
        d = _Reader(data, "decision")
        version = d.opt(int, "v")
        if version is not None and version > FORMAT_VERSION:
            raise InvalidInputError(
                f"decision.v: format {version} is newer than this cancelflow "
                f"understands ({FORMAT_VERSION}); upgrade cancelflow"
            )
        blocks = []
        for n, raw in enumerate(d.list("blocked_by")):
            b = _Reader(raw, f"decision.blocked_by[{n}]")
            guard = b.req(str, "guard")
            try:
                guard_value = Guard(guard)
            except ValueError:
                raise InvalidInputError(
                    f"{b.path}.guard: unknown guard {guard!r}"
                ) from None
            blocks.append(
                GuardBlock(guard_value, b.req(str, "code"), b.req(str, "detail"))
            )
        return cls(
            subscription=d.req(str, "subscription"),
            customer=d.req(str, "customer"),
            decided_at=d.req(int, "decided_at"),
            rule=d.req(str, "rule"),
            segment=d.opt(str, "segment") or "",
            proposed=d.offer("proposed"),
            offer=d.offer("offer"),
            experiment=d.opt(str, "experiment"),
            arm=d.opt(str, "arm"),
            bucket=d.opt(int, "bucket"),
            blocked_by=tuple(blocks),
            policy=d.opt(str, "policy"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Decision:
        """Read back `to_json`'s output.

        Args:
            text: the JSON text.

        Returns:
            The decision.

        Raises:
            InvalidInputError: the text is not JSON, or not a decision.
        """
        try:
            data = json.loads(text)
        except ValueError as err:
            raise InvalidInputError(f"decision: not JSON ({err})") from None
        return cls.from_dict(data)


def trusted_decision(fields: dict[str, Any]) -> Decision:
    """A `Decision` whose ``__dict__`` is *fields*, without ``__init__``.

    Only for `RetentionPolicy`'s hot path, which gives every field with
    the right type: Decision has no validators or converters that this skips,
    so the result equals ``Decision(**fields)`` (``tests/test_decision.py``
    checks that on the decisions of random policies).
    """
    decision = object.__new__(Decision)
    object.__setattr__(decision, "__dict__", fields)
    return decision


def _offer_dict(offer: Offer | None) -> dict[str, Any] | None:
    if offer is None:
        return None
    return {"coupon": offer.coupon, "replace_discount": offer.replace_discount}


class _Reader:
    __slots__ = ("data", "path")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"{path}: expected an object")
        self.data: Mapping[str, Any] = data
        self.path = path

    def opt(self, kind: type, key: str) -> Any:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidInputError(
                f"{self.path}.{key}: expected {kind.__name__}, got {value!r}"
            )
        return value

    def req(self, kind: type, key: str) -> Any:
        value = self.opt(kind, key)
        if value is None:
            raise InvalidInputError(f"{self.path}.{key}: missing")
        return value

    def list(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidInputError(f"{self.path}.{key}: expected a list")
        return value

    def offer(self, key: str) -> Offer | None:
        raw = self.data.get(key)
        if raw is None:
            return None
        o = _Reader(raw, f"{self.path}.{key}")
        coupon = o.req(str, "coupon")
        if not coupon:
            raise InvalidInputError(f"{o.path}.coupon: empty")
        return Offer(coupon, bool(o.opt(bool, "replace_discount")))
