"""Experiments: weighted arms, one of them possibly a no-offer holdout.

Assignment is a pure function of (experiment salt, customer id), so a customer
sees the same arm in every process, on every machine and in every Python
version, and an analyst can recompute it in SQL. The hash (bucketing v1):

1. ``s = salt.encode("utf-8")``, ``c = customer_id.encode("utf-8")``;
2. ``message = len(s).to_bytes(4, "big") + s + len(c).to_bytes(4, "big") + c``
   (length prefixes, so ``("ab", "c")`` and ``("a", "bc")`` differ);
3. ``digest = sha256(message)``;
4. ``bucket = int.from_bytes(digest[:8], "big") % 10_000`` — a basis point,
   0 to 9,999.

The arms, in the order written, own consecutive bucket ranges proportional to
their weights: with cumulative weights ``w₁ … wₙ = W``, arm *i* owns the
buckets ``[wᵢ₋₁ × 10000 // W, wᵢ × 10000 // W)``.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable
from typing import Any, Final

import attrs

from cancelflow._pickle import reduce_by_init
from cancelflow._policy.offers import Offer
from cancelflow._validate import is_int, is_list, is_name
from cancelflow.exceptions import InvalidParameterError, PolicyError

__all__ = ["BUCKETS", "Arm", "Experiment", "experiment_bucket"]

BUCKETS: Final = 10_000
"""Buckets per experiment: one basis point of traffic each."""


def _prefixed(text: str) -> bytes:
    # surrogatepass: a string that is not valid Unicode still hashes, instead of
    # raising; real ids and salts are plain UTF-8 and unaffected.
    data = text.encode("utf-8", "surrogatepass")
    return len(data).to_bytes(4, "big") + data


def experiment_bucket(salt: str, customer_id: str) -> int:
    """Return the bucket (0 to 9,999) of a customer in the experiment salted `salt`.

    SHA-256 of the length-prefixed UTF-8 salt and customer id; the first 8
    bytes of the digest, big-endian, modulo 10,000. See `docs/experiments.md`
    for the exact specification, to reproduce it elsewhere.

    Args:
        salt: the experiment's salt (its name unless set).
        customer_id: the `cus_…` id.

    Returns:
        The bucket; an [`Arm`][cancelflow.Arm] owns a range of buckets by weight.

    Raises:
        InvalidParameterError: `salt` or `customer_id` is not a string.

    Example:
        ```python
        import cancelflow

        bucket = cancelflow.experiment_bucket("offer-test", "cus_123")
        assert 0 <= bucket < 10_000
        assert bucket == cancelflow.experiment_bucket("offer-test", "cus_123")
        ```
    """
    for field, value in (("salt", salt), ("customer_id", customer_id)):
        if not isinstance(value, str):
            raise InvalidParameterError(field, f"must be a string, got {value!r}")
    digest = hashlib.sha256(_prefixed(salt) + _prefixed(customer_id)).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


@attrs.frozen
class Arm:
    """One arm of an experiment.

    Attributes:
        name: the arm's name, as recorded in decisions and reports.
        weight: its share of traffic, relative to the other arms' weights
            (``90, 5, 5`` gives 90 %, 5 % and 5 %); 0 disables the arm.
        offer: the offer this arm makes, or ``None`` for a no-offer holdout.
    """

    name: str
    weight: int
    offer: Offer | None = None

    def __attrs_post_init__(self) -> None:
        if not is_name(self.name):
            raise PolicyError("an arm needs a non-empty name", key_path="name")
        if not is_int(self.weight) or self.weight < 0:
            raise PolicyError(
                f"must be an integer ≥ 0, got {self.weight!r}", key_path="weight"
            )
        if self.offer is not None and not isinstance(self.offer, Offer):
            raise PolicyError("must be an Offer or None", key_path="offer")

    @property
    def holdout(self) -> bool:
        """Whether this arm offers nothing (the baseline)."""
        return self.offer is None


def _arms(value: Iterable[Arm]) -> tuple[Arm, ...]:
    if not is_list(value):
        raise PolicyError("must be a list of Arm", key_path="arms")
    return tuple(value)


@attrs.frozen
class Experiment:
    """A named experiment: each customer gets one arm, by a stable hash.

    Attributes:
        name: the experiment's name, recorded in decisions and reports.
        arms: the arms, in order (the order decides the bucket ranges).
        salt: what is hashed with the customer id; defaults to *name*. Change
            it to re-randomise; keep it to keep every customer in their arm.
    """

    name: str
    arms: tuple[Arm, ...] = attrs.field(converter=_arms)
    salt: str | None = None
    _bounds: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _prefix: bytes = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        if not is_name(self.name):
            raise PolicyError("an experiment needs a non-empty name", key_path="name")
        if self.salt is not None and not is_name(self.salt):
            raise PolicyError("must be a non-empty string", key_path="salt")
        if not self.arms:
            raise PolicyError("an experiment needs at least one arm", key_path="arms")
        seen: set[str] = set()
        for n, arm in enumerate(self.arms):
            if not isinstance(arm, Arm):
                raise PolicyError(
                    f"expected an Arm, got {arm!r}", key_path=f"arms[{n}]"
                )
            if arm.name in seen:
                raise PolicyError(
                    f"duplicate arm name {arm.name!r}", key_path=f"arms[{n}].name"
                )
            seen.add(arm.name)
        total = sum(arm.weight for arm in self.arms)
        if total <= 0:
            raise PolicyError("the arms' weights add up to 0", key_path="arms")
        bounds: list[int] = []
        cumulative = 0
        for arm in self.arms:
            cumulative += arm.weight
            bounds.append(cumulative * BUCKETS // total)
        object.__setattr__(self, "_bounds", tuple(bounds))
        object.__setattr__(self, "_prefix", _prefixed(self.effective_salt))

    @property
    def effective_salt(self) -> str:
        """The salt actually hashed: *salt*, or the name when none is set."""
        return self.name if self.salt is None else self.salt

    def share(self, arm: Arm) -> float:
        """Return the share of buckets an arm owns.

        Args:
            arm: one of this experiment's arms.

        Returns:
            The fraction, 0.0 to 1.0.
        """
        index = self.arms.index(arm)
        low = self._bounds[index - 1] if index else 0
        return (self._bounds[index] - low) / BUCKETS

    def bucket(self, customer_id: str) -> int:
        """Return a customer's bucket with this experiment's salt.

        Args:
            customer_id: the `cus_…` id.

        Returns:
            The bucket, 0 to 9,999, as [`experiment_bucket`][cancelflow.experiment_bucket] gives it.
        """
        digest = hashlib.sha256(self._prefix + _prefixed(customer_id)).digest()
        return int.from_bytes(digest[:8], "big") % BUCKETS

    def assign(self, customer_id: str) -> tuple[Arm, int]:
        """Return the arm a customer is in, and their bucket.

        Args:
            customer_id: the `cus_…` id.

        Returns:
            `(arm, bucket)`.
        """
        bucket = self.bucket(customer_id)
        return self.arms[bisect.bisect_right(self._bounds, bucket)], bucket

    @property
    def coupon_ids(self) -> frozenset[str]:
        """The coupons its arms offer."""
        return frozenset(a.offer.coupon for a in self.arms if a.offer is not None)
