"""AllowedHosts: the open-redirect guard for return and redirect URLs."""

from __future__ import annotations

import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cancelflow import AllowedHosts
from cancelflow.exceptions import DisallowedURLError, InvalidParameterError
from hostile import IDN_DEVIATIONS, PUBLIC_SUFFIX_ENTRIES, idn_hosts

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


@given(
    st.text(max_size=80)
    | st.builds(
        "https://{}/{}".format, idn_hosts(), st.text(max_size=8)
    )  # international hosts too
)
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


# -- international names as browsers see them (UTS 46, non-transitional) --------------


@pytest.mark.parametrize(("host", "ascii_form"), sorted(IDN_DEVIATIONS.items()))
def test_deviation_characters_stay_as_browsers_keep_them(host, ascii_form):
    """ß and ς are kept (UTS 46 non-transitional, as browsers do), not mapped to
    ss and σ (IDNA 2003): an app on straße.de allows straße.de and its xn--
    form, and never strasse.de, another registrable domain."""
    hosts = AllowedHosts([host])
    assert hosts.hosts == (ascii_form,)
    assert hosts.check(f"https://{host}/x", field="f") == f"https://{ascii_form}/x"
    assert (
        hosts.check(f"https://{ascii_form}/x", field="f") == f"https://{ascii_form}/x"
    )
    idna2003 = host.encode("idna").decode("ascii")
    assert idna2003 != ascii_form
    with pytest.raises(DisallowedURLError):
        hosts.check(f"https://{idna2003}/x", field="f")
    assert AllowedHosts([idna2003]).hosts != (ascii_form,)


@settings(max_examples=200)
@given(idn_hosts())
def test_any_spelling_of_an_idn_host_matches_what_uts46_makes_of_it(host):
    """An international host in any case and with any of the dots browsers read
    as dots is allowed exactly when UTS 46 (non-transitional) makes the allowed
    entry of it, and is then written in its xn-- form."""
    try:
        expected = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        with pytest.raises(InvalidParameterError):
            AllowedHosts([host])
        return
    hosts = AllowedHosts([expected])
    assert hosts.check(f"https://{host}/p", field="f") == f"https://{expected}/p"
    assert AllowedHosts([host]) == hosts


def test_full_width_dots_are_dots():
    """A host written with an ideographic full stop is the same host, as in a browser."""
    hosts = AllowedHosts(["example.com"])
    assert hosts.check("https://example\u3002com/", field="f") == "https://example.com/"
    with pytest.raises(DisallowedURLError):
        hosts.check("https://evil\u3002com/", field="f")


def test_idn_and_public_suffix_libraries_load_only_when_needed():
    """import cancelflow loads neither idna nor the Public Suffix List; an ASCII
    URL check needs no idna either."""
    from test_import_cost import modules_after

    loaded = modules_after(
        "import cancelflow\n"
        "hosts = cancelflow.AllowedHosts(['example.com'])\n"
        "hosts.check('https://example.com/x', field='f')\n"
    )
    assert "idna" not in loaded
    assert "publicsuffixlist" in loaded  # entries are checked against the list
    bare = modules_after("import cancelflow\n")
    assert not {"idna", "publicsuffixlist"} & bare


# -- public suffixes ---------------------------------------------------------------------


@pytest.mark.parametrize("entry", PUBLIC_SUFFIX_ENTRIES)
def test_an_entry_over_a_public_suffix_is_refused(entry):
    """An entry that is, or wildcards, a public suffix (ICANN or private section
    of the Public Suffix List) is refused with an error that says why."""
    with pytest.raises(InvalidParameterError) as info:
        AllowedHosts(["example.com", entry])
    assert info.value.field == "allowed_hosts[1]"
    assert "public suffix" in info.value.rule
    assert "e.g." in info.value.rule


@pytest.mark.parametrize(
    "entry",
    [
        "example.com",
        "*.example.com",
        "*.example.co.uk",
        "user.github.io",
        "*.user.github.io",
        "localhost",
        "*.localhost",
        "intranet",
        "*.internal",
        "127.0.0.1",
        "[::1]",
        "xn--strae-oqa.de",
        "*.straße.de",
    ],
)
def test_a_site_of_ones_own_is_accepted(entry):
    """Registrable domains, their subdomains, names the list does not name and IP
    addresses are accepted."""
    assert len(AllowedHosts([entry])) == 1


def test_a_wildcarded_public_suffix_would_have_allowed_an_attacker():
    """The reason for the refusal: *.com would have matched attacker.com."""
    with pytest.raises(InvalidParameterError):
        AllowedHosts(["*.com"])
    hosts = AllowedHosts(["*.example.com"])
    with pytest.raises(DisallowedURLError):
        hosts.check("https://attacker.com/", field="return_url")


def test_a_capital_final_sigma_is_read_as_browsers_read_it():
    """UTS 46 maps Σ to σ wherever it stands; Python's str.lower() would make a
    final Σ a ς, another host: the guard reads the host as written, as a browser."""
    hosts = AllowedHosts(["βόλοσ.de"])
    assert hosts.check("https://ΒΌΛΟΣ.de/", field="f") == "https://xn--nxasmq6b.de/"
    with pytest.raises(DisallowedURLError):
        hosts.check("https://βόλος.de/", field="f")  # ς: xn--nxasmm1c.de


@pytest.mark.parametrize("bad", ["\ud800", "\x00"])
def test_a_lone_surrogate_or_nul_anywhere_is_refused(bad):
    """A lone surrogate or U+0000 in the path or query is refused: stripe-python
    could not encode it, and no ledger could store it."""
    with pytest.raises(DisallowedURLError):
        check(f"https://example.com/a{bad}b?q={bad}")
