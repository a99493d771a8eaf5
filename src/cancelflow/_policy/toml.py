"""A retention policy as a TOML file: read with `tomllib`, written back.

The format is documented in ``docs/policy-toml.md``. Every error is a
`PolicyError` whose ``key_path`` names the
offending key, such as ``rules[2].segment.mrr.min``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, Final

from cancelflow._policy.context import DecisionContext
from cancelflow._policy.experiments import Arm, Experiment
from cancelflow._policy.guards import Guard, Guards
from cancelflow._policy.offers import NO_OFFER, NoOffer, Offer
from cancelflow._policy.policy import Outcome, RetentionPolicy, Rule
from cancelflow._policy.segments import (
    AllOf,
    AnyOf,
    Condition,
    Not,
    Predicate,
    Range,
    Segment,
)
from cancelflow._toml import at, describe, join
from cancelflow._toml import toml_string as _str
from cancelflow._toml import toml_value as _value
from cancelflow._validate import is_int, is_name
from cancelflow.exceptions import PolicyError

__all__ = ["dump_policy", "load_policy", "parse_policy"]

PredicateRegistry = Mapping[str, Callable[[DecisionContext], bool]]


_ID_LISTS: Final = ("prices", "products", "currencies", "countries")
_RANGES: Final = ("mrr", "tenure_days", "customer_tenure_days", "attempts")
_SEGMENT_KEYS: Final = frozenset(
    {
        *_ID_LISTS,
        *_RANGES,
        "interval",
        "interval_count",
        "trialing",
        "metadata",
        "customer_metadata",
        "predicate",
    }
)
_COMBINATORS: Final = frozenset({"all", "any", "not"})

#: The deepest nesting of arrays and inline tables a policy file may have. A
#: policy needs a handful of levels (a segment inside ``all``/``any``/``not``
#: takes two); ``tomllib`` recurses once per level and would overflow Python's
#: stack a few hundred levels down, so deeper files are refused before it reads
#: them.
MAX_TOML_NESTING: Final = 64
_OUTCOMES: Final = ("offer", "no_offer", "experiment")


class _Loader:
    def __init__(self, predicates: PredicateRegistry) -> None:
        self.predicates = predicates

    # -- typed access ------------------------------------------------------------

    @staticmethod
    def table(value: object, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise PolicyError(f"expected a table, got {describe(value)}", key_path=path)
        return value

    @staticmethod
    def known(table: Mapping[str, Any], allowed: frozenset[str], path: str) -> None:
        for key in table:
            if key not in allowed:
                hint = f"expected one of: {', '.join(sorted(allowed))}"
                if key in _OUTCOMES and path.endswith(".segment"):
                    hint = (
                        f"{key} belongs to the rule, not its segment: write it "
                        "before the [rules.segment] header (keys after a table "
                        "header belong to that table)"
                    )
                raise PolicyError(f"unknown key; {hint}", key_path=join(path, key))

    @staticmethod
    def string(value: object, path: str) -> str:
        if not is_name(value):
            raise PolicyError(
                f"expected a non-empty string, got {describe(value)}", key_path=path
            )
        assert isinstance(value, str)
        return value

    @staticmethod
    def boolean(value: object, path: str) -> bool:
        if not isinstance(value, bool):
            raise PolicyError(
                f"expected true or false, got {describe(value)}", key_path=path
            )
        return value

    @staticmethod
    def integer(value: object, path: str) -> int:
        if not is_int(value):
            raise PolicyError(
                f"expected an integer, got {describe(value)}", key_path=path
            )
        assert isinstance(value, int)
        return value

    def strings(self, value: object, path: str) -> list[str]:
        if isinstance(value, str):
            return [self.string(value, path)]
        if not isinstance(value, list):
            raise PolicyError(
                f"expected a string or a list of strings, got {describe(value)}",
                key_path=path,
            )
        if not value:
            raise PolicyError("the list is empty", key_path=path)
        return [self.string(v, join(path, n)) for n, v in enumerate(value)]

    # -- pieces ----------------------------------------------------------------------

    def range(self, value: object, path: str) -> Range:
        table = self.table(value, path)
        self.known(table, frozenset({"min", "max"}), path)
        low = table.get("min")
        high = table.get("max")
        low = None if low is None else self.integer(low, join(path, "min"))
        high = None if high is None else self.integer(high, join(path, "max"))
        return at(path, lambda: Range(low, high), PolicyError)

    def metadata(self, value: object, path: str) -> dict[str, str | list[str] | bool]:
        table = self.table(value, path)
        out: dict[str, str | list[str] | bool] = {}
        for key, test in table.items():
            where = join(path, key)
            out[key] = test if isinstance(test, bool) else self.strings(test, where)
        return out

    def segment(self, value: object, path: str) -> Condition:
        table = self.table(value, path)
        self.known(table, _SEGMENT_KEYS | _COMBINATORS, path)
        plain = {k: v for k, v in table.items() if k in _SEGMENT_KEYS}
        parts: list[Condition] = []
        if plain or not (table.keys() & _COMBINATORS):
            parts.append(self.plain_segment(plain, path))
        for key in ("all", "any"):
            if key in table:
                where = join(path, key)
                items = table[key]
                if not isinstance(items, list):
                    raise PolicyError(
                        f"expected a list of segments, got {describe(items)}",
                        key_path=where,
                    )
                inner = [self.segment(v, join(where, n)) for n, v in enumerate(items)]
                parts.append(AllOf(inner) if key == "all" else AnyOf(inner))
        if "not" in table:
            parts.append(Not(self.segment(table["not"], join(path, "not"))))
        return parts[0] if len(parts) == 1 else AllOf(parts)

    def plain_segment(self, table: Mapping[str, Any], path: str) -> Segment:
        kwargs: dict[str, Any] = {}
        for key in _ID_LISTS:
            if key in table:
                kwargs[key] = self.strings(table[key], join(path, key))
        for key in _RANGES:
            if key in table:
                kwargs[key] = self.range(table[key], join(path, key))
        if "interval" in table:
            kwargs["interval"] = self.strings(table["interval"], join(path, "interval"))
        if "interval_count" in table:
            kwargs["interval_count"] = self.integer(
                table["interval_count"], join(path, "interval_count")
            )
        if "trialing" in table:
            kwargs["trialing"] = self.boolean(table["trialing"], join(path, "trialing"))
        for key in ("metadata", "customer_metadata"):
            if key in table:
                kwargs[key] = self.metadata(table[key], join(path, key))
        if "predicate" in table:
            where = join(path, "predicate")
            name = self.string(table["predicate"], where)
            fn = self.predicates.get(name)
            if fn is None:
                known = ", ".join(sorted(self.predicates)) or "none were given"
                raise PolicyError(
                    f"unknown predicate {name!r} (registered: {known})", key_path=where
                )
            kwargs["predicate"] = at(where, lambda: Predicate(name, fn), PolicyError)
        return at(path, lambda: Segment(**kwargs), PolicyError)

    def offer(self, value: object, path: str) -> Offer:
        table = self.table(value, path)
        self.known(table, frozenset({"coupon", "replace_discount"}), path)
        if "coupon" not in table:
            raise PolicyError("missing", key_path=join(path, "coupon"))
        coupon = self.string(table["coupon"], join(path, "coupon"))
        replace = table.get("replace_discount", False)
        replace = self.boolean(replace, join(path, "replace_discount"))
        return at(path, lambda: Offer(coupon, replace_discount=replace), PolicyError)

    def experiment(self, value: object, path: str) -> Experiment:
        table = self.table(value, path)
        self.known(table, frozenset({"name", "salt", "arms"}), path)
        for key in ("name", "arms"):
            if key not in table:
                raise PolicyError("missing", key_path=join(path, key))
        name = self.string(table["name"], join(path, "name"))
        salt = table.get("salt")
        salt = None if salt is None else self.string(salt, join(path, "salt"))
        arms_path = join(path, "arms")
        raw_arms = table["arms"]
        if not isinstance(raw_arms, list):
            raise PolicyError(
                f"expected a list of arms, got {describe(raw_arms)}", key_path=arms_path
            )
        arms = [self.arm(v, join(arms_path, n)) for n, v in enumerate(raw_arms)]
        return at(path, lambda: Experiment(name, arms, salt=salt), PolicyError)

    def arm(self, value: object, path: str) -> Arm:
        table = self.table(value, path)
        self.known(table, frozenset({"name", "weight", "offer"}), path)
        for key in ("name", "weight"):
            if key not in table:
                raise PolicyError("missing", key_path=join(path, key))
        name = self.string(table["name"], join(path, "name"))
        weight = self.integer(table["weight"], join(path, "weight"))
        offer = (
            self.offer(table["offer"], join(path, "offer"))
            if "offer" in table
            else None
        )
        return at(path, lambda: Arm(name, weight, offer), PolicyError)

    def outcome(self, table: Mapping[str, Any], path: str) -> Outcome:
        given = [key for key in _OUTCOMES if key in table]
        if len(given) != 1:
            problem = (
                "give one of offer, no_offer = true or experiment"
                if not given
                else f"give only one of {', '.join(given)}"
            )
            raise PolicyError(problem, key_path=path or None)
        key = given[0]
        where = join(path, key)
        if key == "offer":
            return self.offer(table[key], where)
        if key == "experiment":
            return self.experiment(table[key], where)
        if self.boolean(table[key], where) is not True:
            raise PolicyError(
                "no_offer = false means nothing; give an offer instead", key_path=where
            )
        return NO_OFFER

    def rule(self, value: object, path: str) -> Rule:
        table = self.table(value, path)
        self.known(table, frozenset({"name", "segment", *_OUTCOMES}), path)
        if "name" not in table:
            raise PolicyError("missing", key_path=join(path, "name"))
        name = self.string(table["name"], join(path, "name"))
        segment = self.segment(table.get("segment", {}), join(path, "segment"))
        outcome = self.outcome(table, path)
        return at(path, lambda: Rule(name, segment, outcome), PolicyError)

    def guards(self, value: object, path: str) -> Guards:
        table = self.table(value, path)
        allowed = frozenset({*(g.value for g in Guard), "cooldown_days"})
        self.known(table, allowed, path)
        kwargs: dict[str, Any] = {}
        for key, raw in table.items():
            where = join(path, key)
            kwargs[key] = (
                self.integer(raw, where)
                if key == "cooldown_days"
                else self.boolean(raw, where)
            )
        return at(path, lambda: Guards(**kwargs), PolicyError)

    def policy(self, data: Mapping[str, Any]) -> RetentionPolicy:
        self.known(data, frozenset({"name", "rules", "default", "guards"}), "")
        name = data.get("name")
        name = None if name is None else self.string(name, "name")
        raw_rules = data.get("rules", [])
        if not isinstance(raw_rules, list):
            raise PolicyError(
                f"expected an array of tables ([[rules]]), got {describe(raw_rules)}",
                key_path="rules",
            )
        rules = [self.rule(v, join("rules", n)) for n, v in enumerate(raw_rules)]
        default: Outcome = NO_OFFER
        if "default" in data:
            table = self.table(data["default"], "default")
            self.known(table, frozenset(_OUTCOMES), "default")
            default = self.outcome(table, "default")
        guards = self.guards(data.get("guards", {}), "guards")
        return at(
            "",
            lambda: RetentionPolicy(
                rules=rules, default=default, guards=guards, name=name
            ),
            PolicyError,
        )


def _check_nesting(text: str) -> None:
    """Refuse *text* if arrays and inline tables nest deeper than
    :data:`MAX_TOML_NESTING`, reading strings and comments as TOML does (their
    brackets do not count), without recursion.

    Raises:
        PolicyError: the nesting is too deep; the message gives the line.
    """
    depth, line, i, end = 0, 1, 0, len(text)
    while i < end:
        char = text[i]
        if char == "\n":
            line += 1
        elif char == "#":
            newline = text.find("\n", i)
            i = end if newline < 0 else newline
            continue
        elif char in "\"'":
            quote = text[i : i + 3] if text.startswith(char * 3, i) else char
            i += len(quote)
            while i < end and not text.startswith(quote, i):
                if text[i] == "\n":
                    line += 1
                # a backslash escapes the next character in basic strings only
                i += 2 if char == '"' and text[i] == "\\" else 1
            i += len(quote)
            continue
        elif char in "[{":
            depth += 1
            if depth > MAX_TOML_NESTING:
                raise PolicyError(
                    f"arrays and inline tables nest more than {MAX_TOML_NESTING} "
                    f"levels deep (line {line}); a policy needs a few levels: "
                    "flatten the all/any/not segments"
                )
        elif char in "]}":
            depth = max(depth - 1, 0)
        i += 1


def parse_policy(
    text: str, *, predicates: PredicateRegistry | None = None
) -> RetentionPolicy:
    """Read a policy from TOML text.

    Args:
        text: the TOML document (format: `docs/policy-toml.md`).
        predicates: custom predicates by name, for `predicate = "name"`.

    Returns:
        The [`RetentionPolicy`][cancelflow.RetentionPolicy].

    Example:
        ```python
        import cancelflow

        policy = cancelflow.parse_policy('''
        name = "retention"

        [[rules]]
        name = "no offer during trials"
        segment = { trialing = true }
        no_offer = true
        ''')
        assert policy.name == "retention"
        ```

    Raises:
        PolicyError: the text is not TOML, nests arrays and inline tables
            more than 64 levels deep, or is not a valid policy; `key_path`
            names the key (`rules[2].segment.mrr.min`).
    """
    given: object = text
    if not isinstance(given, str):
        raise PolicyError(f"expected TOML text (str), got {type(given).__name__}")
    _check_nesting(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PolicyError(f"not valid TOML: {err}") from None
    except RecursionError:  # pragma: no cover - _check_nesting comes first
        raise PolicyError("nested too deeply to read") from None
    return _Loader(predicates or {}).policy(data)


def load_policy(
    path: str | PathLike[str], *, predicates: PredicateRegistry | None = None
) -> RetentionPolicy:
    """Read a policy from a TOML file (the format of `docs/policy-toml.md`).

    Args:
        path: the file.
        predicates: custom predicates by name, for `predicate = "name"`.

    Returns:
        The policy, as [`parse_policy`][cancelflow.parse_policy] reads it.

    Example:
        ```python
        from pathlib import Path

        import cancelflow

        Path("policy.toml").write_text('''
        [[rules]]
        name = "monthly plans"
        segment = { interval = "month" }
        offer = { coupon = "STAY20" }
        ''')
        policy = cancelflow.load_policy("policy.toml")
        assert policy.coupon_ids == {"STAY20"}
        ```

    Raises:
        PolicyError: the file cannot be read or is not a valid policy.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyError(f"cannot read {path}: {err}") from None
    return parse_policy(text, predicates=predicates)


# -- writing -------------------------------------------------------------------------


def _ids(values: frozenset[str]) -> str | list[str]:
    ordered = sorted(values)
    return ordered[0] if len(ordered) == 1 else ordered


def _segment_data(condition: Condition) -> dict[str, Any]:
    if isinstance(condition, AllOf):
        return {"all": [_segment_data(c) for c in condition.conditions]}
    if isinstance(condition, AnyOf):
        return {"any": [_segment_data(c) for c in condition.conditions]}
    if isinstance(condition, Not):
        return {"not": _segment_data(condition.condition)}
    if not isinstance(condition, Segment):
        raise PolicyError(
            f"{type(condition).__name__} has no TOML form; use Segment, AllOf, "
            "AnyOf, Not or a named Predicate"
        )
    out: dict[str, Any] = {}
    for key in ("prices", "products", "interval"):
        values = getattr(condition, key)
        if values is not None:
            out[key] = _ids(values)
    if condition.interval_count is not None:
        out["interval_count"] = condition.interval_count
    for key in ("mrr", "currencies", "tenure_days", "customer_tenure_days"):
        value = getattr(condition, key)
        if isinstance(value, Range):
            out[key] = {
                k: v
                for k, v in (("min", value.min), ("max", value.max))
                if v is not None
            }
        elif value is not None:
            out[key] = _ids(value)
    if condition.trialing is not None:
        out["trialing"] = condition.trialing
    if condition.countries is not None:
        out["countries"] = _ids(condition.countries)
    for key in ("metadata", "customer_metadata"):
        items = getattr(condition, key)
        if items is not None:
            out[key] = {
                k: test if isinstance(test, bool) else _ids(test) for k, test in items
            }
    if condition.attempts is not None:
        out["attempts"] = {
            k: v
            for k, v in (
                ("min", condition.attempts.min),
                ("max", condition.attempts.max),
            )
            if v is not None
        }
    if condition.predicate is not None:
        out["predicate"] = condition.predicate.name
    return out


def _offer_data(offer: Offer) -> dict[str, Any]:
    out: dict[str, Any] = {"coupon": offer.coupon}
    if offer.replace_discount:
        out["replace_discount"] = True
    return out


def _outcome_lines(outcome: Outcome, table: str) -> list[str]:
    if isinstance(outcome, Offer):
        return [f"offer = {_value(_offer_data(outcome))}"]
    if isinstance(outcome, NoOffer):
        return ["no_offer = true"]
    lines = ["", f"[{table}.experiment]", f"name = {_str(outcome.name)}"]
    if outcome.salt is not None:
        lines.append(f"salt = {_str(outcome.salt)}")
    lines.append("arms = [")
    for arm in outcome.arms:
        data: dict[str, Any] = {"name": arm.name, "weight": arm.weight}
        if arm.offer is not None:
            data["offer"] = _offer_data(arm.offer)
        lines.append(f"  {_value(data)},")
    lines.append("]")
    return lines


def dump_policy(policy: RetentionPolicy) -> str:
    """Return the policy as TOML text that `parse_policy` reads back equal.

    Custom predicates are written by name: pass the same registry when
    reading the text back.

    Args:
        policy: the policy to write.

    Returns:
        The TOML document.

    Example:
        ```python
        import cancelflow

        policy = cancelflow.RetentionPolicy(rules=[
            cancelflow.Rule("annual", cancelflow.Segment(interval="year"),
                            cancelflow.Offer("ANNUAL20")),
        ])
        assert cancelflow.parse_policy(cancelflow.dump_policy(policy)) == policy
        ```

    Raises:
        PolicyError: a segment is a custom `Condition` subclass, which
            has no TOML form, or *policy* is not a `RetentionPolicy`.
    """
    given: object = policy
    if not isinstance(given, RetentionPolicy):
        msg = f"expected a RetentionPolicy, got {type(given).__name__}"
        raise PolicyError(msg, key_path="policy")
    lines: list[str] = []
    if policy.name is not None:
        lines.append(f"name = {_str(policy.name)}")
    defaults = Guards()
    changed = {
        attr.name: getattr(policy.guards, attr.name)
        for attr in Guards.__attrs_attrs__
        if getattr(policy.guards, attr.name) != getattr(defaults, attr.name)
    }
    if changed:
        lines += ["", "[guards]"]
        lines += [f"{key} = {_value(value)}" for key, value in changed.items()]
    for rule in policy.rules:
        lines += ["", "[[rules]]", f"name = {_str(rule.name)}"]
        lines.append(f"segment = {_value(_segment_data(rule.segment))}")
        lines += _outcome_lines(rule.outcome, "rules")
    lines += ["", "[default]", *_outcome_lines(policy.default, "default")]
    return "\n".join(lines).lstrip("\n") + "\n"
