"""The report's words in English and French, and numbers written per locale.

Reasons use Stripe's own portal wording (:class:`~cancelflow.FeedbackLabels`);
everything else is ours. Amounts come in minor units and are written with the
currency's own number of decimals (none for JPY, three for KWD), never added
across currencies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from cancelflow._format import major_units
from cancelflow._stripe.labels import FeedbackLabels
from cancelflow._stripe.reasons import CancellationFeedback
from cancelflow.exceptions import InvalidParameterError

__all__ = ["LOCALES", "Words", "words_for"]

LOCALES: Final = ("en", "fr")

_EN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "title": "Cancellation report",
        "colon": ": ",
        "source": "Source",
        "window": "Window",
        "from": "from",
        "until": "until",
        "everything": "all cases",
        "generated": "Generated",
        "summary": "Summary",
        "cases": "Cases opened",
        "cancellations": "Cancellations",
        "scheduled": "still scheduled",
        "ended": "ended",
        "withdrawn": "Withdrawn (renewed before the end)",
        "saved": "Saved by an offer",
        "opened": "Left the cancel page without cancelling",
        "involuntary": "Ended without anyone asking (payment failed…)",
        "mrr_lost": "MRR lost",
        "reasons": "Why customers leave",
        "reason": "Reason",
        "count": "Count",
        "share": "Share",
        "mrr": "MRR",
        "no_answer": "No reason given",
        "unknown_value": "not known to this cancelflow",
        "options": "Custom feedback options",
        "option": "Option",
        "prices": "By product and price",
        "product": "Product",
        "price": "Price",
        "unknown": "unknown",
        "tenure": "By tenure",
        "band": "Months subscribed",
        "band_unknown": "start unknown",
        "months": "Cancellations by month",
        "month": "Month",
        "comments": "What customers wrote",
        "comments_shown": "the {shown} newest of {total}",
        "customer": "Customer",
        "date": "Date",
        "comment": "Comment",
        "withdrawn_title": "Withdrawn cancellations",
        "offers": "Retention offers",
        "coupon": "Coupon",
        "shown": "Offered",
        "redeemed": "Redeemed",
        "redemption": "Redemption rate",
        "stayed": "Stayed",
        "save": "Save rate",
        "interval": "95 % interval",
        "arms": "Experiments",
        "experiment": "Experiment",
        "arm": "Arm",
        "holdout": "holdout (no offer)",
        "holdout_short": "holdout",
        "attempts": "Cancel links",
        "lift": "Lift over holdout",
        "no_holdout": "no holdout",
        "revenue": "Revenue kept by redeemed offers",
        "currency": "Currency",
        "saves": "Saves",
        "kept_mrr": "MRR kept",
        "kept": "Kept over {h} months",
        "cost": "Discount cost",
        "net": "Net",
        "cost_unknown": "Cost unknown",
        "later": "Cancelled later",
        "later_mrr": "MRR cancelled later",
        "none": "Nothing in this window.",
        "chart_reasons": "Cancellations by reason",
        "chart_arms": "Save rate by experiment arm, with its 95 % interval",
        "chart_months": "Cancellations by month",
        "definitions": "Definitions: see docs/reports.md in cancelflow.",
        "method_note": (
            "Save rate = stayed / cancel links; intervals: Wilson score; lift: "
            "Newcombe's hybrid score interval."
        ),
    }
)

_FR: Final[Mapping[str, str]] = MappingProxyType(
    {
        "title": "Rapport des résiliations",
        "colon": "\u202f: ",
        "source": "Source",
        "window": "Période",
        "from": "du",
        "until": "au",
        "everything": "tous les cas",
        "generated": "Établi le",
        "summary": "Résumé",
        "cases": "Cas ouverts",
        "cancellations": "Résiliations",
        "scheduled": "encore programmées",
        "ended": "terminées",
        "withdrawn": "Annulées (renouvelées avant la fin)",
        "saved": "Retenues par une offre",
        "opened": "Page de résiliation quittée sans résilier",
        "involuntary": "Terminées sans demande (paiement échoué…)",
        "mrr_lost": "MRR perdu",
        "reasons": "Pourquoi les clients partent",
        "reason": "Motif",
        "count": "Nombre",
        "share": "Part",
        "mrr": "MRR",
        "no_answer": "Aucun motif donné",
        "unknown_value": "inconnu de cette version de cancelflow",
        "options": "Options de retour personnalisées",
        "option": "Option",
        "prices": "Par produit et par prix",
        "product": "Produit",
        "price": "Prix",
        "unknown": "inconnu",
        "tenure": "Par ancienneté",
        "band": "Mois d’abonnement",
        "band_unknown": "début inconnu",
        "months": "Résiliations par mois",
        "month": "Mois",
        "comments": "Ce que les clients ont écrit",
        "comments_shown": "les {shown} plus récents sur {total}",
        "customer": "Client",
        "date": "Date",
        "comment": "Commentaire",
        "withdrawn_title": "Résiliations annulées",
        "offers": "Offres de fidélisation",
        "coupon": "Coupon",
        "shown": "Proposées",
        "redeemed": "Acceptées",
        "redemption": "Taux d’acceptation",
        "stayed": "Restés",
        "save": "Taux de rétention",
        "interval": "Intervalle à 95 %",
        "arms": "Expériences",
        "experiment": "Expérience",
        "arm": "Bras",
        "holdout": "témoin (sans offre)",
        "holdout_short": "témoin",
        "attempts": "Liens de résiliation",
        "lift": "Gain sur le témoin",
        "no_holdout": "pas de témoin",
        "revenue": "Revenu conservé par les offres acceptées",
        "currency": "Devise",
        "saves": "Retenus",
        "kept_mrr": "MRR conservé",
        "kept": "Conservé sur {h} mois",
        "cost": "Coût des remises",
        "net": "Net",
        "cost_unknown": "Coût inconnu",
        "later": "Résiliés plus tard",
        "later_mrr": "MRR résilié plus tard",
        "none": "Rien sur cette période.",
        "chart_reasons": "Résiliations par motif",
        "chart_arms": "Taux de rétention par bras d’expérience, avec son intervalle à 95 %",
        "chart_months": "Résiliations par mois",
        "definitions": "Définitions : voir docs/reports.md dans cancelflow.",
        "method_note": (
            "Taux de rétention = restés / liens de résiliation ; intervalles : score "
            "de Wilson ; gain : intervalle hybride de Newcombe."
        ),
    }
)

_TABLES: Final = {"en": _EN, "fr": _FR}
_LABELS: Final = FeedbackLabels()


class Words:
    """The words and number formats of one locale (``en`` or ``fr``)."""

    __slots__ = ("_table", "locale")

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._table = _TABLES[locale]

    def __getitem__(self, key: str) -> str:
        return self._table[key]

    def feedback(self, value: str | None) -> str:
        """Stripe's portal label of a feedback value; an unknown value as itself."""
        if value is None:
            return self["no_answer"]
        try:
            member = CancellationFeedback(value)
        except ValueError:
            return f"{value} ({self['unknown_value']})"
        return _LABELS.label(member, self.locale)

    def band(self, band: str | None) -> str:
        """A tenure band's label (``"1-3"`` → ``"1–3"``)."""
        if band is None:
            return self["band_unknown"]
        return band.replace("-", "–")

    def _separators(self, number: str) -> str:
        """*number* written with ``,`` and ``.`` in the locale's separators."""
        if self.locale == "fr":
            return number.replace(",", "\u202f").replace(".", ",")
        return number

    def integer(self, value: int) -> str:
        """``1234567`` → ``1,234,567`` (en) or ``1 234 567`` (fr, narrow spaces)."""
        return self._separators(f"{value:,}")

    def decimal(self, value: float, digits: int = 1) -> str:
        """A decimal number with the locale's separators."""
        return self._separators(f"{value:,.{digits}f}")

    def percent(self, value: float | None) -> str:
        """``0.125`` → ``12.5%`` (en) or ``12,5 %`` (fr); ``None`` → ``–``."""
        if value is None:
            return "–"
        number = self.decimal(value * 100)
        return f"{number}\u202f%" if self.locale == "fr" else f"{number}%"

    def points(self, value: float) -> str:
        """A difference of rates in percentage points, signed: ``+3.2 pts``."""
        sign = "+" if value >= 0 else "−"
        return f"{sign}{self.decimal(abs(value) * 100)} pts"

    def money(self, amount: int, currency: str | None) -> str:
        """Minor units written in *currency* (``1500, "eur"`` → ``15.00 EUR``)."""
        if currency is None:
            return self.integer(amount)
        number = self._separators(major_units(amount, currency, grouped=True))
        return f"{number}\u00a0{currency.upper()}"

    def amounts(self, amounts: Mapping[str, int]) -> str:
        """Amounts of several currencies, each on its own: ``15.00 EUR · 2,000 JPY``."""
        if not amounts:
            return "–"
        return " · ".join(self.money(v, c) for c, v in amounts.items())

    def date(self, timestamp: int) -> str:
        """Unix seconds as a UTC date, ``2026-03-02``."""
        try:
            return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d")
        except (OverflowError, OSError, ValueError):
            return str(timestamp)

    def moment(self, timestamp: int) -> str:
        """Unix seconds as ``2026-03-02 09:00 UTC``."""
        try:
            return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime(
                "%Y-%m-%d %H:%M UTC"
            )
        except (OverflowError, OSError, ValueError):
            return str(timestamp)


def words_for(locale: object) -> Words:
    """The :class:`Words` of *locale* (``en``, ``fr``, or a regional tag of them).

    Raises:
        InvalidParameterError: another language.
    """
    if not isinstance(locale, str) or not locale.strip():
        raise InvalidParameterError("locale", "give en or fr")
    language = locale.strip().replace("_", "-").split("-", 1)[0].lower()
    if language not in _TABLES:
        raise InvalidParameterError(
            "locale",
            f"{locale!r} is not available; reports are in {', '.join(LOCALES)}",
        )
    return Words(language)
