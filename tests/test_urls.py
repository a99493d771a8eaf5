"""AllowedHosts: the open-redirect guard for return and redirect URLs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import AllowedHosts
from cancelflow.exceptions import DisallowedURLError, InvalidParameterError

HOSTS = AllowedHosts(
    ["example.com", "*.example.org", "localhost", "api.example.net:8443"]
)


def check(url: str) -> str:
    return HOSTS.check(url, field="return_url")


class TestAccepted:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("https://example.com/account", "https://example.com/account"),
            ("https://example.com", "https://example.com"),
            (
                "https://example.com/a?b=1&c=%20#frag",
                "https://example.com/a?b=1&c=%20#frag",
            ),
            ("HTTPS://EXAMPLE.COM/Path", "https://example.com/Path"),
            ("https://example.com./x", "https://example.com/x"),
            ("https://example.com:443/x", "https://example.com:443/x"),
            ("https://app.example.org/x", "https://app.example.org/x"),
            ("https://a.b.example.org/", "https://a.b.example.org/"),
            ("https://api.example.net:8443/done", "https://api.example.net:8443/done"),
            ("http://localhost:8000/account", "http://localhost:8000/account"),
            ("https://localhost/account", "https://localhost/account"),
        ],
    )
    def test_allowed_urls_pass_normalised(self, url, expected):
        """An https URL on an allowed host passes, with scheme and host lower-cased."""
        assert check(url) == expected

    def test_idn_host_is_normalised_to_punycode(self):
        """An IDN host matches its allowed entry and is sent to Stripe as xn--."""
        hosts = AllowedHosts(["bücher.de"])
        assert hosts.hosts == ("xn--bcher-kva.de",)
        assert hosts.check("https://BÜCHER.de/konto", field="f") == (
            "https://xn--bcher-kva.de/konto"
        )
        assert hosts.check("https://xn--bcher-kva.de/", field="f") == (
            "https://xn--bcher-kva.de/"
        )

    def test_loopback_ip_over_http(self):
        """http is accepted for 127.0.0.1 on any port when it is allowed."""
        hosts = AllowedHosts(["127.0.0.1"])
        assert (
            hosts.check("http://127.0.0.1:5000/x", field="f")
            == "http://127.0.0.1:5000/x"
        )

    def test_ipv6_literal(self):
        """A bracketed IPv6 entry matches the same literal in a URL."""
        hosts = AllowedHosts(["[::1]:8443"])
        assert hosts.check("https://[0:0::1]:8443/", field="f") == "https://[::1]:8443/"


class TestRefused:
    @pytest.mark.parametrize(
        ("url", "rule"),
        [
            ("http://example.com/", "must use https"),
            ("ftp://example.com/", "absolute https"),
            ("javascript:alert(1)", "absolute https"),
            ("//example.com/", "absolute https"),
            ("/relative/path", "absolute https"),
            ("https:example.com", "absolute https"),
            ("https:///example.com", "absolute https"),
            ("https://evil.com/", "not an allowed host"),
            ("https://example.com.evil.com/", "not an allowed host"),
            ("https://evilexample.com/", "not an allowed host"),
            ("https://example.org/", "not an allowed host"),  # *. excludes the apex
            ("https://evil.com#.example.com", "not an allowed host"),
            ("https://evil.com?.example.com", "not an allowed host"),
            ("https://example.com@evil.com/", "user info"),
            ("https://user:pass@example.com/", "user info"),
            ("https://example.com\\@evil.com/", "backslash"),
            ("https:\\\\evil.com", "backslash"),
            ("https://example.com/ x", "U+0020"),
            (" https://example.com/", "U+0020"),
            ("https://example.com/\n", "U+000A"),
            ("https://example.com/\t", "U+0009"),
            ("https://exam\x00ple.com/", "U+0000"),
            ("https://example.com/\u202e", "U+202E"),
            ("https://example.com/\u200b", "U+200B"),
            ("https://example.com:8443/", "not an allowed host"),
            ("https://api.example.net/", "not an allowed host"),  # entry has a port
            ("https://example.com:0/", "port 0"),
            ("https://example.com:99999/", "not a valid URL"),
            ("https://example.com:abc/", "not a valid URL"),
            ("https://exa%6dple.com/", "valid host"),
            ("https://2130706433/", "valid host"),
            ("https://0x7f.1/", "valid host"),
            ("https://exa_mple.com/", "valid host"),
            ("https://.example.com/", "valid host"),
            ("", "must not be empty"),
            ("https://example.com/" + "a" * 5000, "5000"),
        ],
    )
    def test_refused_with_rule(self, url, rule):
        """Each trick is refused with DisallowedURLError naming the field and the rule."""
        with pytest.raises(DisallowedURLError) as info:
            check(url)
        assert info.value.field == "return_url"
        assert rule in info.value.rule

    def test_http_on_loopback_needs_it_allowed(self):
        """http://localhost is refused when localhost is not an allowed host."""
        with pytest.raises(DisallowedURLError, match="not an allowed host"):
            AllowedHosts(["example.com"]).check("http://localhost:8000/", field="f")

    def test_non_string(self):
        """A URL that is not a string is refused, not crashed on."""
        with pytest.raises(DisallowedURLError, match="string"):
            HOSTS.check(b"https://example.com", field="return_url")

    def test_empty_allow_list_refuses_everything(self):
        """With no allowed host, every URL is refused and the message says so."""
        with pytest.raises(DisallowedURLError, match="none configured"):
            AllowedHosts([]).check("https://example.com", field="f")

    def test_lookalike_unicode_host_is_refused(self):
        """A Cyrillic look-alike of an allowed host is another host."""
        with pytest.raises(DisallowedURLError, match="not an allowed host"):
            check("https://ex\u0430mple.com/")  # Cyrillic a


class TestConfiguration:
    @pytest.mark.parametrize(
        "entry",
        [
            "https://example.com",
            "example.com/path",
            "",
            "exa mple.com",
            "*",
            "a.*.com",
            "example.com:0",
            "example.com:70000",
            "ex@mple.com",
        ],
    )
    def test_bad_entries_refused(self, entry):
        """A URL, a path, a bad wildcard or a bad port is not a host entry."""
        with pytest.raises(InvalidParameterError) as info:
            AllowedHosts(["ok.com", entry])
        assert info.value.field == "allowed_hosts[1]"

    @pytest.mark.parametrize("hosts", [None, 42, 1.5])
    def test_a_non_list_is_refused(self, hosts):
        """Something that is not a list of hosts is an InvalidParameterError, not a TypeError."""
        with pytest.raises(InvalidParameterError) as info:
            AllowedHosts(hosts)
        assert info.value.field == "allowed_hosts"

    def test_an_allowed_hosts_is_taken_as_is(self):
        """AllowedHosts(hosts) of an AllowedHosts keeps its entries."""
        assert AllowedHosts(HOSTS) == HOSTS

    def test_single_string_is_one_host(self):
        """A single string is one host, not a list of characters."""
        assert AllowedHosts("example.com").hosts == ("example.com",)

    def test_contains_and_repr(self):
        """Membership uses the same normalisation; repr lists the entries."""
        assert "EXAMPLE.com" in HOSTS
        assert "a.example.org" in HOSTS
        assert "evil.com" not in HOSTS
        assert 42 not in HOSTS
        assert len(HOSTS) == 4
        assert repr(HOSTS) == (
            "AllowedHosts(['example.com', '*.example.org', 'localhost', "
            "'api.example.net:8443'])"
        )

    def test_frozen_and_equal_by_value(self):
        """Two guards with the same entries are equal and hashable."""
        assert AllowedHosts(["Example.com"]) == AllowedHosts(["example.com."])
        assert len({AllowedHosts(["a.com"]), AllowedHosts(["A.com"])}) == 1


@given(st.text(max_size=80))
def test_any_text_is_allowed_or_refused_cleanly(text):
    """Any string either passes (and then is https on an allowed host) or raises
    DisallowedURLError; nothing else escapes."""
    try:
        url = check(text)
    except DisallowedURLError:
        return
    assert url.startswith(("https://", "http://localhost"))


@given(
    st.sampled_from(["evil.com", "example.com.evil.com", "attacker.example"]),
    st.sampled_from(["", "@", "#", "?", "/", "\\", ":443@", "%2F"]),
    st.sampled_from(["example.com", "app.example.org"]),
)
def test_allowed_host_after_a_separator_never_passes(evil, sep, good):
    """Putting an allowed host after an evil one (any separator) never makes a
    URL whose real destination is not an allowed host."""
    url = f"https://{evil}{sep}{good}/"
    try:
        result = check(url)
    except DisallowedURLError:
        return
    host = result.split("/")[2].split(":")[0]
    assert host in HOSTS
    assert host != evil
