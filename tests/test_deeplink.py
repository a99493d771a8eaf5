"""The pure builder of subscription_cancel portal-session parameters."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import (
    LOCALES,
    AllowedHosts,
    HostedConfirmation,
    PortalHomepage,
    Redirect,
    build_cancel_session_params,
    build_portal_session_params,
)
from cancelflow.exceptions import DisallowedURLError, InvalidParameterError
from hostile import key_shaped, unstorable_texts

HOSTS = AllowedHosts(["example.com"])
ID_CHARS = st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=127)


def build(**over):
    args = {"customer": "cus_1", "subscription": "sub_1", "allowed_hosts": HOSTS}
    args.update(over)
    return build_cancel_session_params(**args)


class TestShape:
    def test_minimal(self):
        """Only the customer and the flow are sent when nothing else is given."""
        assert build() == {
            "customer": "cus_1",
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {"subscription": "sub_1"},
            },
        }

    def test_allowed_hosts_may_be_a_list(self):
        """Both builders take a list of host entries as well as an AllowedHosts."""
        url = "https://example.com/account"
        assert build(allowed_hosts=["example.com"], return_url=url) == build(
            return_url=url
        )
        portal = build_portal_session_params(
            customer="cus_1", allowed_hosts=["example.com"], return_url=url
        )
        assert portal["return_url"] == url
        with pytest.raises(DisallowedURLError):
            build(allowed_hosts=["other.com"], return_url=url)

    def test_allowed_hosts_of_the_wrong_type_is_refused(self):
        """allowed_hosts=None is an InvalidParameterError, not an AttributeError."""
        with pytest.raises(InvalidParameterError) as info:
            build(allowed_hosts=None)
        assert info.value.field == "allowed_hosts"

    def test_everything(self):
        """Every option lands at Stripe's parameter path."""
        params = build(
            coupon="SAVE20",
            return_url="https://example.com/account",
            after_completion=Redirect("https://example.com/bye"),
            locale="fr",
            configuration="bpc_123",
            on_behalf_of="acct_123",
        )
        assert params == {
            "customer": "cus_1",
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {
                    "subscription": "sub_1",
                    "retention": {
                        "type": "coupon_offer",
                        "coupon_offer": {"coupon": "SAVE20"},
                    },
                },
                "after_completion": {
                    "type": "redirect",
                    "redirect": {"return_url": "https://example.com/bye"},
                },
            },
            "return_url": "https://example.com/account",
            "locale": "fr",
            "configuration": "bpc_123",
            "on_behalf_of": "acct_123",
        }

    @pytest.mark.parametrize(
        ("after", "expected"),
        [
            (HostedConfirmation(), {"type": "hosted_confirmation"}),
            (
                HostedConfirmation("À bientôt !"),
                {
                    "type": "hosted_confirmation",
                    "hosted_confirmation": {"custom_message": "À bientôt !"},
                },
            ),
            (PortalHomepage(), {"type": "portal_homepage"}),
        ],
    )
    def test_after_completion_variants(self, after, expected):
        """Each after_completion value becomes Stripe's after_completion object."""
        assert (
            build(after_completion=after)["flow_data"]["after_completion"] == expected
        )

    def test_portal_session_has_no_flow(self):
        """The portal-homepage builder sends no flow_data."""
        assert build_portal_session_params(
            customer="cus_1", allowed_hosts=HOSTS, return_url="https://example.com/a"
        ) == {"customer": "cus_1", "return_url": "https://example.com/a"}


class TestRules:
    def test_custom_message_limit(self):
        """500 characters pass; 501 are refused with the field path and the limit."""
        assert build(after_completion=HostedConfirmation("é" * 500))
        with pytest.raises(InvalidParameterError) as info:
            build(after_completion=HostedConfirmation("é" * 501))
        assert info.value.field == (
            "flow_data[after_completion][hosted_confirmation][custom_message]"
        )
        assert "501" in info.value.rule
        assert "500" in info.value.rule

    @pytest.mark.parametrize("message", ["", "   ", "\n"])
    def test_blank_custom_message_refused(self, message):
        """A blank message is refused: leave it out instead."""
        with pytest.raises(InvalidParameterError, match="blank"):
            build(after_completion=HostedConfirmation(message))

    def test_redirect_url_is_guarded(self):
        """The after-completion redirect goes through the open-redirect guard."""
        with pytest.raises(DisallowedURLError) as info:
            build(after_completion=Redirect("https://evil.com/"))
        assert info.value.field == "flow_data[after_completion][redirect][return_url]"

    def test_return_url_is_guarded(self):
        """The top-level return_url goes through the open-redirect guard."""
        with pytest.raises(DisallowedURLError) as info:
            build(return_url="http://example.com/")
        assert info.value.field == "return_url"

    @pytest.mark.parametrize(
        ("over", "field"),
        [
            ({"customer": "sub_1"}, "customer"),
            ({"customer": ""}, "customer"),
            ({"subscription": "cus_1"}, "flow_data[subscription_cancel][subscription]"),
            (
                {"subscription": "sub_1/../x"},
                "flow_data[subscription_cancel][subscription]",
            ),
            (
                {"subscription": "sub_1 "},
                "flow_data[subscription_cancel][subscription]",
            ),
            ({"subscription": None}, "flow_data[subscription_cancel][subscription]"),
            (
                {"coupon": ""},
                "flow_data[subscription_cancel][retention][coupon_offer][coupon]",
            ),
            (
                {"coupon": "a?b"},
                "flow_data[subscription_cancel][retention][coupon_offer][coupon]",
            ),
            ({"configuration": "cfg_1"}, "configuration"),
            ({"on_behalf_of": "cus_1"}, "on_behalf_of"),
            ({"locale": "xx"}, "locale"),
            ({"locale": 3}, "locale"),
            ({"after_completion": "redirect"}, "flow_data[after_completion]"),
        ],
    )
    def test_bad_field_names_its_stripe_path(self, over, field):
        """A bad value raises InvalidParameterError naming the Stripe form path."""
        with pytest.raises(InvalidParameterError) as info:
            build(**over)
        assert info.value.field == field
        assert str(info.value).startswith(f"{field}: ")

    def test_swapped_ids_hint(self):
        """Swapped customer and subscription ids are caught with a hint."""
        with pytest.raises(InvalidParameterError, match="argument order"):
            build(customer="sub_1", subscription="cus_1")

    @pytest.mark.parametrize(
        "over",
        [
            {"customer": "sk_live_51HxYzSECRETkey"},
            {"subscription": "rk_test_51HxYzSECRETkey"},
            {"coupon": "whsec_51HxYzSECRETkey/1"},
            {"customer": b"sk_live_51HxYzSECRETkey"},
        ],
    )
    def test_a_key_given_as_an_id_is_not_echoed(self, over):
        """An API key passed by mistake as an id never appears in the error message."""
        with pytest.raises(InvalidParameterError) as info:
            build(**over)
        assert "SECRET" not in str(info.value)


class TestLocales:
    def test_there_are_47(self):
        """LOCALES holds Stripe's 47 portal locales, without duplicates."""
        assert len(LOCALES) == 47
        assert len(set(LOCALES)) == 47
        assert {"auto", "en", "fr", "fr-CA", "es-419", "zh-TW", "pt-BR"} <= set(LOCALES)

    @pytest.mark.parametrize("locale", LOCALES)
    def test_each_accepted_as_is(self, locale):
        """Every Stripe locale is passed through unchanged."""
        assert build(locale=locale)["locale"] == locale

    @pytest.mark.parametrize(
        ("given_", "expected"), [("FR-ca", "fr-CA"), ("pt_br", "pt-BR"), ("EN", "en")]
    )
    def test_case_and_underscore_forgiven(self, given_, expected):
        """Case and an underscore separator are normalised to Stripe's spelling."""
        assert build(locale=given_)["locale"] == expected

    def test_unknown_region_suggests_language(self):
        """A region Stripe lacks suggests the bare language."""
        with pytest.raises(InvalidParameterError, match="did you mean 'fr'"):
            build(locale="fr-BE")

    def test_unknown_language_points_to_list(self):
        """An unknown language points to cancelflow.LOCALES."""
        with pytest.raises(InvalidParameterError, match="LOCALES"):
            build(locale="tlh")


# -- properties ----------------------------------------------------------------------

ids = st.text(ID_CHARS, min_size=1, max_size=24)
afters = st.one_of(
    st.none(),
    st.builds(PortalHomepage),
    st.builds(
        HostedConfirmation,
        st.none()
        | st.text(
            st.characters(exclude_characters="\x00"), min_size=1, max_size=500
        ).filter(str.strip),
    ),
    st.builds(Redirect, st.builds(lambda p: f"https://example.com/{p}", ids)),
)


@given(
    customer=ids,
    subscription=ids,
    coupon=st.none() | ids,
    after=afters,
    locale=st.none() | st.sampled_from(LOCALES),
    return_url=st.none() | st.builds(lambda p: f"https://example.com/{p}", ids),
)
def test_valid_input_always_builds_stripe_shape(
    *, customer, subscription, coupon, after, locale, return_url
):
    """Valid input always gives JSON-able params with Stripe's flow shape and
    nothing but the fields given."""
    params = build(
        customer=f"cus_{customer}",
        subscription=f"sub_{subscription}",
        coupon=coupon,
        after_completion=after,
        locale=locale,
        return_url=return_url,
    )
    json.dumps(params)
    flow = params["flow_data"]
    assert flow["type"] == "subscription_cancel"
    assert flow["subscription_cancel"]["subscription"] == f"sub_{subscription}"
    assert ("retention" in flow["subscription_cancel"]) is (coupon is not None)
    assert ("after_completion" in flow) is (after is not None)
    assert set(params) <= {"customer", "flow_data", "locale", "return_url"}
    assert ("locale" in params) is (locale is not None)
    assert "idempotency_key" not in params


@given(
    field=st.sampled_from(
        ["customer", "subscription", "coupon", "locale", "return_url"]
    ),
    value=st.one_of(
        st.text(max_size=30),
        st.integers(),
        st.none(),
        st.binary(max_size=5),
        unstorable_texts().map("x_{}".format),  # U+0000, lone surrogates
        key_shaped().map(lambda drawn: drawn[0]),
    ),
)
def test_any_value_builds_or_raises_invalid_parameter(field, value):
    """Whatever a field holds, the builder returns params or raises
    InvalidParameterError; never KeyError, TypeError or AttributeError; and
    what it builds holds no lone surrogate (stripe-python could not encode it)."""
    error = None
    try:
        params = build(**{field: value})
    except InvalidParameterError as err:
        error = err
    else:
        json.dumps(params, ensure_ascii=False).encode("utf-8")
        assert "\x00" not in json.dumps(params, ensure_ascii=False)
    if error is not None:
        assert error.field
        assert error.rule


def test_custom_message_must_be_text():
    """A custom message that is not a string is refused, not sent."""
    with pytest.raises(InvalidParameterError, match="must be a string"):
        build(after_completion=HostedConfirmation(42))  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_a_custom_message_stripe_could_not_receive_is_refused(bad):
    """A U+0000 or lone surrogate in the confirmation message is refused by
    name before any request (stripe-python could not encode a surrogate)."""
    with pytest.raises(InvalidParameterError) as info:
        build(after_completion=HostedConfirmation(f"Bye{bad}"))
    assert info.value.field.endswith("[custom_message]")
