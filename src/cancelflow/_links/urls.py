"""The open-redirect guard: which return and redirect URLs a cancel link may carry.

A portal session sends the customer back to ``return_url`` (any time) and to
``flow_data[after_completion][redirect][return_url]`` (after cancelling). If
either came from a request parameter unchecked, a cancel link would be an open
redirect on ``billing.stripe.com``. So every such URL must be an absolute
``https`` URL on a host the application allowed when it configured cancelflow
(``http`` only for ``localhost`` and ``127.0.0.1``, for development).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import SplitResult, urlsplit, urlunsplit

import attrs

from cancelflow.exceptions import DisallowedURLError, InvalidParameterError

__all__ = ["AllowedHosts"]

#: Hosts on which plain ``http`` is accepted (development servers), on any port.
LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1"})

#: Stripe's maximum length for URL fields (``maxLength`` in its API spec).
MAX_URL_LENGTH: Final = 5000

_DEFAULT_PORTS: Final = {"https": 443, "http": 80}
_LABEL: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_HOST_PORT: Final = re.compile(
    r"(?P<host>\[[^\]]*\]|[^:]*)(?::(?P<port>[0-9]{1,5}))?\Z"
)


def _bad_char(text: str) -> str | None:
    """Describe the first whitespace, control or backslash character, if any."""
    for char in text:
        if char == "\\":
            return "a backslash"
        if char.isspace() or unicodedata.category(char) in {
            "Cc",
            "Cf",
            "Cs",
            "Zl",
            "Zp",
        }:
            return f"the character U+{ord(char):04X}"
    return None


def _to_ascii(host: str) -> str | None:
    """*host* as browsers send it to DNS: UTS 46 non-transitional processing
    (``ß`` and ``ς`` kept, full-width dots read as dots, case folded), its
    labels in their ``xn--`` form; ``None`` if UTS 46 refuses it.

    Python's own ``idna`` codec is IDNA 2003, which maps ``ß`` to ``ss`` and
    ``ς`` to ``σ``: ``straße.de`` would become ``strasse.de``, another
    registrable domain. The maintained ``idna`` package does what browsers do;
    it is imported here, on the first non-ASCII host only.
    """
    if host.isascii():
        return host.lower()
    import idna

    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (UnicodeError, ValueError):
        return None


def normalise_host(host: str) -> str | None:
    """Lower-case *host*, encode an IDN to its ``xn--`` form as browsers do
    (UTS 46, non-transitional) and drop a final dot.

    Returns ``None`` when *host* is not a DNS name or an IP address.
    """
    if host.startswith("[") and host.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    host = host.removesuffix(".")
    if not host or _bad_char(host) is not None:
        return None
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    ascii_host = _to_ascii(host)
    if ascii_host is None:
        return None
    ascii_host = ascii_host.removesuffix(".")  # a final full-width dot, mapped
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():  # 0x7f.1, 2130706433 and other IPv4 spellings
        return None
    return ascii_host


@functools.cache
def _public_suffixes() -> Any:
    """The Public Suffix List, as shipped by the ``publicsuffixlist`` package
    (read from the package's data, never from the network), parsed once."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def public_suffix(host: str) -> bool:
    """Whether *host* (normalised) is a public suffix: a name under which
    anyone can register their own site (``com``, ``co.uk``, ``github.io``).

    Only names the list names count, not the list's default rule for unknown
    top-level names (so ``localhost`` and ``intranet`` are not suffixes).
    """
    if host.startswith("[") or host[-1].isdigit():  # an IP address
        return False
    found: str | None = _public_suffixes().publicsuffix(host, accept_unknown=False)
    return found == host


@attrs.frozen
class _HostRule:
    host: str
    """A normalised host name, or a parent domain when ``subdomains`` is set."""
    port: int | None
    """The one port allowed; ``None`` means the scheme's default port."""
    subdomains: bool

    @classmethod
    def parse(cls, entry: object, field: str) -> _HostRule:
        if not isinstance(entry, str):
            raise InvalidParameterError(field, "a host must be a string")
        text = entry.strip()
        if "://" in text or "/" in text:
            raise InvalidParameterError(
                field,
                f"{entry!r} is a URL; give the host name only, e.g. 'example.com'",
            )
        subdomains = text.startswith("*.")
        if subdomains:
            text = text[2:]
        match = _HOST_PORT.match(text)
        host = normalise_host(match["host"]) if match else None
        if match is None or host is None or "*" in text:
            raise InvalidParameterError(
                field,
                f"{entry!r} is not a host name; use 'example.com', "
                "'*.example.com' (any subdomain) or 'example.com:8443'",
            )
        port = int(match["port"]) if match["port"] else None
        if port is not None and not 0 < port < 65536:
            raise InvalidParameterError(field, f"port {port} is out of range")
        if public_suffix(host):
            if subdomains:
                problem = (
                    f"{entry!r} would allow every site under the public suffix "
                    f"{host!r} (Public Suffix List), where anyone can register a "
                    "domain, an attacker included; allow your own domain instead, "
                    f"e.g. '*.example.{host}'"
                )
            else:
                problem = (
                    f"{entry!r} is a public suffix (Public Suffix List): anyone can "
                    "register a domain under it, so it is no one's site; allow your "
                    f"own host instead, e.g. 'example.{host}'"
                )
            raise InvalidParameterError(field, problem)
        return cls(host, port, subdomains)

    def matches(self, host: str, port: int | None, default_port: int) -> bool:
        if self.subdomains:
            if not host.endswith("." + self.host):
                return False
        elif host != self.host:
            return False
        if host in LOOPBACK_HOSTS and not self.subdomains and self.port is None:
            return True  # development servers listen on any port
        wanted = default_port if self.port is None else self.port
        return (default_port if port is None else port) == wanted

    def __str__(self) -> str:
        text = f"*.{self.host}" if self.subdomains else self.host
        return f"{text}:{self.port}" if self.port else text


def _to_rules(hosts: Iterable[str] | str) -> tuple[_HostRule, ...]:
    if isinstance(hosts, AllowedHosts):
        return hosts._rules
    if isinstance(hosts, str):
        hosts = [hosts]
    elif not isinstance(hosts, Iterable):
        raise InvalidParameterError(
            "allowed_hosts",
            f"must be a list of host names such as ['example.com'], got "
            f"{type(hosts).__name__}",
        )
    return tuple(
        _HostRule.parse(entry, f"allowed_hosts[{n}]") for n, entry in enumerate(hosts)
    )


@attrs.frozen
class AllowedHosts:
    """The hosts that return and redirect URLs may point to.

    Configure it once, from the application's settings, never from a request:

    ```python
    from cancelflow import AllowedHosts

    hosts = AllowedHosts(["example.com", "*.example.com", "localhost"])
    hosts.check("https://app.example.com/account", field="return_url")
    ```

    An entry is a host name (``example.com``, matched exactly, IDN and case
    normalised), ``*.example.com`` (any subdomain, not the domain itself), or
    ``host:port`` (that port only; without one, only the scheme's default port).
    ``localhost`` and ``127.0.0.1`` entries accept ``http`` and any port.
    International names are read as browsers read them (UTS 46,
    non-transitional: ``straße.de`` is ``xn--strae-oqa.de``, not
    ``strasse.de``), in entries and URLs alike. An entry that is, or wildcards,
    a public suffix (``com``, ``*.co.uk``, ``*.github.io``: from the Public
    Suffix List shipped by the ``publicsuffixlist`` package) is refused.

    Args:
        hosts: the entries (see above).

    Raises:
        InvalidParameterError: an entry is not a host name, or is (or
            wildcards) a public suffix.
    """

    _rules: tuple[_HostRule, ...] = attrs.field(converter=_to_rules, alias="hosts")

    def __contains__(self, host: object) -> bool:
        if not isinstance(host, str):
            return False
        name = normalise_host(host)
        return name is not None and any(r.matches(name, None, 443) for r in self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"AllowedHosts({[str(r) for r in self._rules]!r})"

    @property
    def hosts(self) -> tuple[str, ...]:
        """The entries, normalised (``*.`` and ``:port`` kept)."""
        return tuple(str(r) for r in self._rules)

    def check(self, url: object, *, field: str) -> str:
        """Return the URL, normalised, if a customer may be sent there.

        The scheme and host are lower-cased and an IDN host is written in its
        `xn--` form; path, query and fragment are kept as given.

        Args:
            url: the URL to check (any value: a non-string is refused).
            field: the parameter it is for, named in the error
                (`return_url`, `flow_data[after_completion][redirect][return_url]`).

        Returns:
            The normalised URL.

        Raises:
            DisallowedURLError: the URL breaks a rule; the error's `field` is
                `field` and its `rule` says which rule.
        """
        if not isinstance(url, str):
            raise DisallowedURLError(field, "must be a string URL")
        if not url:
            raise DisallowedURLError(field, "must not be empty")
        if len(url) > MAX_URL_LENGTH:
            raise DisallowedURLError(
                field, f"is {len(url)} characters long; Stripe accepts {MAX_URL_LENGTH}"
            )
        bad = _bad_char(url)
        if bad is not None:
            raise DisallowedURLError(
                field,
                f"contains {bad}; whitespace, control characters and "
                "backslashes are refused",
            )
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise DisallowedURLError(field, "is not a valid URL") from None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.netloc:
            raise DisallowedURLError(
                field, "must be an absolute https:// URL (with a host)"
            )
        if "@" in parts.netloc:
            raise DisallowedURLError(
                field,
                "must not contain user info ('user@host'); it hides the real host",
            )
        # The host as written, not ``parts.hostname``: Python lower-cases it
        # with its own rules (a final capital sigma becomes ς), where
        # browsers apply UTS 46 to what was written (Σ becomes σ).
        written = _HOST_PORT.match(parts.netloc)
        host = normalise_host(written["host"]) if written else None
        if host is None or "%" in parts.netloc:
            raise DisallowedURLError(field, "does not have a valid host name")
        if port == 0:
            raise DisallowedURLError(field, "port 0 is not a valid port")
        if scheme == "http" and host not in LOOPBACK_HOSTS:
            raise DisallowedURLError(
                field,
                "must use https (http is accepted only for localhost and 127.0.0.1)",
            )
        if not any(r.matches(host, port, _DEFAULT_PORTS[scheme]) for r in self._rules):
            shown = f"{host}:{port}" if port else host
            allowed = ", ".join(self.hosts) or "none configured"
            raise DisallowedURLError(
                field,
                f"host {shown!r} is not an allowed host (allowed: {allowed}); add it "
                "to allowed_hosts when configuring cancelflow",
            )
        netloc = host if port is None else f"{host}:{port}"
        return urlunsplit(
            SplitResult(scheme, netloc, parts.path, parts.query, parts.fragment)
        )


def as_allowed_hosts(value: AllowedHosts | Iterable[str]) -> AllowedHosts:
    """*value* if it is an `AllowedHosts`, else the one its entries make."""
    return value if isinstance(value, AllowedHosts) else AllowedHosts(value)
