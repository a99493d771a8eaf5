"""Checks of single values Stripe refuses: URLs, currencies, over-long strings (strictly private).

Each check raises the 400 ``invalid_request_error`` Stripe answers, naming the
parameter, before the request changes anything (a validation failure: no
idempotency key remembers it).

* URLs: Stripe refuses a ``return_url`` that is not a URL; the rule used here
  (a scheme, ``://`` and a host, no white space) and the message are
  UNCONFIRMED.
* Currencies: Stripe refuses a code it does not support. The reference has
  no list of Stripe's currencies, so `CURRENCIES` is the ISO 4217
  currencies (without fund and precious-metal codes) plus a few retired codes
  Stripe is known to have listed: UNCONFIRMED as Stripe's exact list.
* Lengths: only the limits stripe-python's parameter docs state (``This may be
  up to *512 characters*``), listed in `CUSTOMER_LIMITS` and at their
  call sites; the message wording is UNCONFIRMED.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from cancelflow.testing._errors import ApiError

__all__ = [
    "CURRENCIES",
    "CUSTOMER_LIMITS",
    "check_currency",
    "check_length",
    "check_lengths",
    "check_url",
]

CURRENCIES: Final = frozenset(
    """
    aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl
    bsd btn bwp byn bzd cad cdf chf clp cny cop crc cuc cup cve czk djf dkk dop dzd
    egp ern etb eur fjd fkp gbp gel ghs gip gmd gnf gtq gyd hkd hnl hrk htg huf idr
    ils inr iqd irr isk jmd jod jpy kes kgs khr kmf kpw krw kwd kyd kzt lak lbp lkr
    lrd lsl lyd mad mdl mga mkd mmk mnt mop mro mru mur mvr mwk mxn myr mzn nad ngn
    nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr
    sdg sek sgd shp sle sll sos srd ssp std stn svc syp szl thb tjs tmt tnd top try
    ttd twd tzs uah ugx usd uyu uzs ved vef ves vnd vuv wst xaf xcd xcg xof xpf yer
    zar zmw zwg zwl
    eek lvl ltl usdc
    """.split()  # noqa: SIM905 - a block of codes reads better than 170 strings
)
"""Lowercase ISO 4217 codes the fake accepts (UNCONFIRMED as Stripe's list),
plus the retired ``eek``, ``lvl``, ``ltl`` and ``usdc``, which Stripe's own
"Invalid currency" message lists."""

CUSTOMER_LIMITS: Final[Mapping[str, int]] = {
    "business_name": 150,
    "email": 512,
    "individual_name": 150,
    "name": 150,
}
"""Customer fields with a length stripe-python's ``CustomerCreateParams`` documents."""

_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_SPACE: Final = re.compile(r"\s")


def check_url(value: Any, param: str) -> None:
    """Refuse *value* unless it is an absolute URL with a host (``""`` is left alone)."""
    if not isinstance(value, str) or value == "":
        return
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # a malformed IPv6 host or port
        host = None
    if (
        host is None
        or _SPACE.search(value) is not None
        or not _SCHEME.fullmatch(parts.scheme)
        or not value[len(parts.scheme) :].startswith("://")
    ):
        raise ApiError.invalid_url(param)


def check_currency(value: Any, param: str) -> str:
    """The lowercase currency code, or Stripe's refusal of an unknown one."""
    code = str(value).lower()
    if code not in CURRENCIES:
        raise ApiError.invalid_currency(param, str(value), sorted(CURRENCIES))
    return code


def check_length(value: Any, param: str, limit: int) -> None:
    """Refuse a string longer than *limit* characters."""
    if isinstance(value, str) and len(value) > limit:
        raise ApiError.too_long(param, value, limit)


def check_lengths(params: Mapping[str, Any], limits: Mapping[str, int]) -> None:
    """`check_length` for each field of *limits* present in *params*."""
    for field, limit in limits.items():
        if field in params:
            check_length(params[field], field, limit)
