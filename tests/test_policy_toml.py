"""Policies as TOML: reading, writing back equal, and errors that name the key path."""

from __future__ import annotations

import pickle
import tomllib

import pytest
from hypothesis import given, settings

from cancelflow import (
    AllOf,
    AnyOf,
    Arm,
    Condition,
    Experiment,
    Guards,
    NoOffer,
    Not,
    Offer,
    Range,
    RetentionPolicy,
    Rule,
    Segment,
    dump_policy,
    load_policy,
    parse_policy,
)
from cancelflow._policy.policy import example_policy
from cancelflow.exceptions import PolicyError
from hostile import deep_toml
from policy_strategies import PREDICATES, policies

FULL = """
name = "retention-2026"

[guards]
multi_item = false
cooldown_days = 60

[[rules]]
name = "no offer to trials"
segment = { trialing = true }
no_offer = true

[[rules]]
name = "big annual"
segment = { interval = "year", currencies = ["usd"], mrr = { min = 10000 } }
offer = { coupon = "ANNUAL20", replace_discount = true }

[[rules]]
name = "cheap countries"
offer = { coupon = "PPP50" }
[rules.segment]
countries = ["IN", "BR"]
any = [{ products = "prod_basic" }, { mrr = { max = 1500 } }]
not = { metadata = { plan = "enterprise" } }

[[rules]]
name = "monthly"
segment = { interval = "month", predicate = "even_customer" }

[rules.experiment]
name = "monthly-2026"
salt = "m26"
arms = [
  { name = "holdout", weight = 10 },
  { name = "ten", weight = 45, offer = { coupon = "TEN" } },
  { name = "quarter", weight = 45, offer = { coupon = "QUARTER" } },
]

[default]
no_offer = true
"""


def test_reads_every_feature():
    """A file with every kind of rule reads into the equivalent Python policy."""
    policy = parse_policy(FULL, predicates=PREDICATES)
    assert policy.name == "retention-2026"
    assert policy.guards == Guards(multi_item=False, cooldown_days=60)
    trials, annual, countries, monthly = policy.rules
    assert trials == Rule("no offer to trials", Segment(trialing=True), NoOffer())
    assert annual.segment == Segment(
        interval="year", currencies="usd", mrr=Range(min=10_000)
    )
    assert annual.outcome == Offer("ANNUAL20", replace_discount=True)
    assert countries.segment == AllOf(
        [
            Segment(countries=["IN", "BR"]),
            AnyOf([Segment(products="prod_basic"), Segment(mrr=Range(max=1_500))]),
            Not(Segment(metadata={"plan": "enterprise"})),
        ]
    )
    assert monthly.outcome == Experiment(
        "monthly-2026",
        [
            Arm("holdout", 10),
            Arm("ten", 45, Offer("TEN")),
            Arm("quarter", 45, Offer("QUARTER")),
        ],
        salt="m26",
    )
    assert monthly.segment.predicate.fn is PREDICATES["even_customer"]
    assert policy.default == NoOffer()


def test_round_trip_of_the_full_file():
    """dump_policy writes TOML that reads back to an equal policy."""
    policy = parse_policy(FULL, predicates=PREDICATES)
    text = dump_policy(policy)
    tomllib.loads(text)  # valid TOML
    assert parse_policy(text, predicates=PREDICATES) == policy


def test_dump_is_readable():
    """The dump of the example policy is the file a person would write."""
    assert dump_policy(example_policy()).startswith(
        'name = "example"\n\n[[rules]]\nname = "no offer to trials"\n'
        "segment = { trialing = true }\nno_offer = true\n"
    )


def test_dump_refuses_what_is_not_a_policy():
    """dump_policy of anything but a RetentionPolicy is a PolicyError, not a crash."""
    with pytest.raises(PolicyError) as info:
        dump_policy(5)  # type: ignore[arg-type]
    assert info.value.key_path == "policy"


@settings(max_examples=100)
@given(policies())
def test_round_trip_of_any_policy(policy):
    """Any policy made of built-in conditions and named predicates round-trips."""
    assert parse_policy(dump_policy(policy), predicates=PREDICATES) == policy


def test_load_policy_from_a_file(tmp_path):
    """load_policy reads a file; an unreadable one is a PolicyError."""
    path = tmp_path / "policy.toml"
    path.write_text(dump_policy(example_policy()), encoding="utf-8")
    assert load_policy(path) == example_policy()
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.toml")


def test_strings_are_escaped():
    """Names with quotes, backslashes and control characters survive a round trip."""
    name = 'odd "name" \\ \t\x7f é'
    policy = RetentionPolicy(
        rules=[Rule(name, Segment(metadata={"a.b": "x\ny"}), NoOffer())], name=name
    )
    assert parse_policy(dump_policy(policy)) == policy


def test_custom_conditions_have_no_toml_form():
    """A Condition subclass of the host's own cannot be written as TOML."""

    class Mine(Condition):
        def matches(self, context):
            return True

        def describe(self):
            return "mine"

    policy = RetentionPolicy(rules=[Rule("r", Mine(), NoOffer())])
    with pytest.raises(PolicyError, match="no TOML form"):
        dump_policy(policy)


RULE = '[[rules]]\nname = "r"\n'


@pytest.mark.parametrize(
    ("text", "key_path", "message"),
    [
        ("x = ", None, "not valid TOML"),
        ('nme = "x"', "nme", "unknown key"),
        ("name = 3", "name", "expected a non-empty string"),
        ("rules = 3", "rules", "expected an array of tables"),
        ("[[rules]]\nno_offer = true", "rules[0].name", "missing"),
        (RULE, "rules[0]", "give one of offer, no_offer = true or experiment"),
        (
            RULE + 'no_offer = true\noffer = { coupon = "X" }',
            "rules[0]",
            "give only one",
        ),
        (RULE + "no_offer = false", "rules[0].no_offer", "means nothing"),
        (RULE + "offer = {}", "rules[0].offer.coupon", "missing"),
        (
            RULE + 'offer = { coupon = "A B" }',
            "rules[0].offer.coupon",
            "is not a Stripe id",
        ),
        (
            RULE + 'offer = { coupon = "half/off" }',
            "rules[0].offer.coupon",
            "Stripe refuses such a coupon id",
        ),
        (
            RULE + 'offer = { coupon = "X", extra = 1 }',
            "rules[0].offer.extra",
            "unknown key",
        ),
        (RULE + "offer = { coupon = 5 }", "rules[0].offer.coupon", "non-empty string"),
        (RULE + "no_offer = true\nsegment = 3", "rules[0].segment", "expected a table"),
        (
            RULE + "no_offer = true\nsegment = { colour = 1 }",
            "rules[0].segment.colour",
            "unknown key",
        ),
        (
            RULE + "no_offer = true\nsegment = { mrr = { min = 9, max = 1 } }",
            "rules[0].segment.mrr.min",
            "greater than max",
        ),
        (
            RULE + 'no_offer = true\nsegment = { mrr = { min = "9" } }',
            "rules[0].segment.mrr.min",
            "expected an integer, got a string",
        ),
        (
            RULE + "[rules.segment]\nmrr = { min = 1 }\nno_offer = true",
            "rules[0].segment.no_offer",
            "write it before the [rules.segment] header",
        ),
        (
            RULE + 'no_offer = true\nsegment = { interval = "fortnight" }',
            "rules[0].segment.interval",
            "unknown interval",
        ),
        (
            RULE + "no_offer = true\nsegment = { countries = [] }",
            "rules[0].segment.countries",
            "the list is empty",
        ),
        (
            RULE + 'no_offer = true\nsegment = { countries = ["FR", 3] }',
            "rules[0].segment.countries[1]",
            "non-empty string",
        ),
        (
            RULE + "no_offer = true\nsegment = { trialing = 1 }",
            "rules[0].segment.trialing",
            "true or false",
        ),
        (
            RULE + "no_offer = true\nsegment = { metadata = { plan = 3 } }",
            "rules[0].segment.metadata.plan",
            "string or a list",
        ),
        (
            RULE + "no_offer = true\nsegment = { any = 3 }",
            "rules[0].segment.any",
            "list of segments",
        ),
        (
            RULE + "no_offer = true\nsegment = { any = [{ mrr = 3 }] }",
            "rules[0].segment.any[0].mrr",
            "expected a table",
        ),
        (
            RULE + 'no_offer = true\nsegment = { predicate = "vip" }',
            "rules[0].segment.predicate",
            "unknown predicate 'vip'",
        ),
        (RULE + "[rules.experiment]\narms = []", "rules[0].experiment.name", "missing"),
        (
            RULE + '[rules.experiment]\nname = "e"\narms = 3',
            "rules[0].experiment.arms",
            "list of arms",
        ),
        (
            RULE + '[rules.experiment]\nname = "e"\narms = [{ name = "a" }]',
            "rules[0].experiment.arms[0].weight",
            "missing",
        ),
        (
            RULE
            + '[rules.experiment]\nname = "e"\narms = [{ name = "a", weight = -1 }]',
            "rules[0].experiment.arms[0].weight",
            "≥ 0",
        ),
        (
            RULE
            + '[rules.experiment]\nname = "e"\narms = [{ name = "a", weight = 1.5 }]',
            "rules[0].experiment.arms[0].weight",
            "expected an integer, got a float",
        ),
        (
            RULE
            + '[rules.experiment]\nname = "e"\narms = [{ name = "a", weight = 0 }]',
            "rules[0].experiment.arms",
            "add up to 0",
        ),
        (
            RULE
            + '[rules.experiment]\nname = "e"\narms = [{ name = "a", weight = 1 }, { name = "a", weight = 1 }]',
            "rules[0].experiment.arms[1].name",
            "duplicate arm",
        ),
        (
            RULE + 'no_offer = true\n[[rules]]\nname = "r"\nno_offer = true',
            "rules[1].name",
            "duplicate rule",
        ),
        (
            RULE
            + 'no_offer = true\n[[rules]]\nname = "b"\nno_offer = true\nsegment = { attempts = { max = true } }',
            "rules[1].segment.attempts.max",
            "expected an integer, got a boolean",
        ),
        ("[guards]\nmoon = true", "guards.moon", "unknown key"),
        ("[guards]\ntrialing = 1", "guards.trialing", "true or false"),
        ("[guards]\ncooldown_days = -5", "guards.cooldown_days", "≥ 0"),
        (
            '[default]\noffer = { coupon = "" }',
            "default.offer.coupon",
            "non-empty string",
        ),
        ("[default]\nextra = 1", "default.extra", "unknown key"),
        ("default = 1", "default", "expected a table"),
    ],
)
def test_errors_name_the_key_path(text, key_path, message):
    """Each invalid file raises PolicyError whose key_path names the bad key."""
    with pytest.raises(PolicyError) as info:
        parse_policy(text, predicates={})
    assert info.value.key_path == key_path
    assert message in str(info.value)
    if key_path:
        assert str(info.value).startswith(f"{key_path}: ")


# -- deep nesting ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(deep_toml())
def test_deep_nesting_is_a_policy_error_before_the_parser_recurses(text):
    """Arrays or inline tables nested more than 64 levels (a few hundred, as an
    attacker would) are a PolicyError saying so, never a RecursionError."""
    with pytest.raises(PolicyError, match="levels deep"):
        parse_policy(text)


@pytest.mark.parametrize(
    "text",
    [
        'a = "[[[[[[[[" # [[[[[[\n',
        "a = '''[[[[\n[[[['''\n",
        'a = "\\"[[[["\n',
        'a = """\n[[[[\\"""\n"""\n',
        "[table]\n[[array]]\n",
    ],
)
def test_brackets_in_strings_and_comments_do_not_count(text):
    """Brackets inside strings, comments and table headers are not nesting."""
    from cancelflow._policy.toml import MAX_TOML_NESTING, _check_nesting

    _check_nesting(text.replace("[[[[", "[" * (MAX_TOML_NESTING + 5)))


def test_segments_nest_at_most_32_levels_and_pickle_from_a_deep_stack():
    """AllOf/AnyOf/Not refuse a 33rd level with a PolicyError; a policy at the
    limit pickles even from deep inside a call stack."""
    condition = Segment(prices="price_1")
    for n in range(31):
        condition = AllOf([condition]) if n % 2 else Not(condition)
    assert condition.nesting == 32
    with pytest.raises(PolicyError, match="at most 32"):
        AnyOf([condition])
    policy = RetentionPolicy(rules=[Rule("deep", condition, NoOffer())])

    def pickled_at(depth: int) -> bytes:
        return pickle.dumps(policy) if depth == 0 else pickled_at(depth - 1)

    assert pickle.loads(pickled_at(600)) == policy
    assert parse_policy(dump_policy(policy)) == policy
