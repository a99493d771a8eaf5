"""What the portal pages say, in English and French (strictly private).

The reasons' labels are Stripe's own (``cancelflow._stripe.labels``); the
rest is cancelflow's wording. A page is in the session's ``locale``; for
``auto`` (or none) it follows the browser's ``Accept-Language``. Locales
other than English and French read in English, as does any text missing
from a locale. Dates and amounts are written the way each language writes
them.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from cancelflow.testing._server.html import Markup, escape

__all__ = ["Words", "amount", "negotiate", "words_for"]

_TEXT: Final[dict[str, dict[str, str]]] = {
    "en": {
        "test_mode": "Test mode · cancelflow fake Stripe",
        "return_to": "Return to {host}",
        "cancel_title": "Cancel your plan",
        "ends_at_period_end": (
            "Your plan will be canceled, but it stays available until the end of "
            "your billing period on {date}."
        ),
        "ends_now": "Your plan will be canceled now: you lose access to it right away.",
        "you_lose": "What you will lose",
        "offer_title": "Before you go",
        "offer_text": "Keep your plan and get {discount} {duration}.",
        "accept_offer": "Accept offer",
        "reason_legend": "Why are you canceling? (optional)",
        "comment_label": "Tell us more (optional)",
        "confirm": "Cancel plan",
        "go_back": "Go back",
        "canceled_title": "Your plan has been canceled",
        "canceled_until": "It stays available until {date}.",
        "canceled_now": "It has ended.",
        "offer_done_title": "Offer accepted",
        "offer_done_text": "{discount} {duration} now applies to your plan.",
        "renewed": "Your plan has been renewed.",
        "left_title": "Nothing was changed",
        "left_text": "You left the page; your plan stays as it was.",
        "home_title": "Your plans",
        "renews_on": "Renews on {date}",
        "cancels_on": "Cancels on {date}",
        "trial_ends": "Trial ends on {date}",
        "cancel_link": "Cancel plan",
        "renew": "Renew plan",
        "no_plans": "You have no active plan.",
        "flow_done": "This link has been used. Ask for a new one to change your plan.",
        "expired_title": "This link has expired",
        "not_found_title": "This link is not valid",
        "problem_title": "This cannot be done",
        "check_answer": "Please check your answer: {message}",
        "not_modeled": (
            "The fake portal has the cancel page and the homepage; the {flow} "
            "flow is not modeled."
        ),
        "per_1": "per {unit}",
        "per_n": "every {count} {units}",
        "day": "day",
        "days": "days",
        "week": "week",
        "weeks": "weeks",
        "month": "month",
        "months": "months",
        "year": "year",
        "years": "years",
        "percent_off": "{percent}% off",
        "amount_off": "{amount} off",
        "once": "on your next invoice",
        "repeating": "for {count} months",
        "forever": "for as long as you keep your plan",
        "quantity": "× {count}",
    },
    "fr": {
        "test_mode": "Mode test · faux Stripe de cancelflow",
        "return_to": "Retour sur {host}",
        "cancel_title": "Annuler votre abonnement",
        "ends_at_period_end": (
            "Votre abonnement sera annulé, mais il reste disponible jusqu’à la fin "
            "de votre période de facturation, le {date}."
        ),
        "ends_now": (
            "Votre abonnement sera annulé maintenant : vous en perdez l’accès "
            "immédiatement."
        ),
        "you_lose": "Ce que vous perdrez",
        "offer_title": "Avant de partir",
        "offer_text": "Gardez votre abonnement et profitez de {discount} {duration}.",
        "accept_offer": "Accepter l’offre",
        "reason_legend": "Pourquoi annulez-vous ? (facultatif)",
        "comment_label": "Dites-nous en plus (facultatif)",
        "confirm": "Annuler l’abonnement",
        "go_back": "Revenir en arrière",
        "canceled_title": "Votre abonnement a été annulé",
        "canceled_until": "Il reste disponible jusqu’au {date}.",
        "canceled_now": "Il a pris fin.",
        "offer_done_title": "Offre acceptée",
        "offer_done_text": (
            "La réduction ({discount} {duration}) s’applique désormais à votre "
            "abonnement."
        ),
        "renewed": "Votre abonnement a été renouvelé.",
        "left_title": "Aucune modification",
        "left_text": "Vous avez quitté la page ; votre abonnement reste inchangé.",
        "home_title": "Vos abonnements",
        "renews_on": "Se renouvelle le {date}",
        "cancels_on": "Prend fin le {date}",
        "trial_ends": "L’essai se termine le {date}",
        "cancel_link": "Annuler l’abonnement",
        "renew": "Renouveler l’abonnement",
        "no_plans": "Vous n’avez aucun abonnement actif.",
        "flow_done": (
            "Ce lien a déjà servi. Demandez-en un nouveau pour modifier votre "
            "abonnement."
        ),
        "expired_title": "Ce lien a expiré",
        "not_found_title": "Ce lien n’est pas valide",
        "problem_title": "Action impossible",
        "check_answer": "Vérifiez votre réponse : {message}",
        "not_modeled": (
            "Le faux portail a la page d’annulation et la page d’accueil ; le "
            "parcours {flow} n’est pas simulé."
        ),
        "per_1": "par {unit}",
        "per_n": "tous les {count} {units}",
        "day": "jour",
        "days": "jours",
        "week": "semaine",
        "weeks": "semaines",
        "month": "mois",
        "months": "mois",
        "year": "an",
        "years": "ans",
        "percent_off": "{percent} % de réduction",
        "amount_off": "{amount} de réduction",
        "once": "sur votre prochaine facture",
        "repeating": "pendant {count} mois",
        "forever": "tant que vous gardez votre abonnement",
        "quantity": "× {count}",
    },
}

_MONTHS: Final = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
}  # fmt: skip

#: Stripe's zero-decimal and three-decimal currencies (amounts are in these units).
#: The fake keeps its own table rather than the library's: it is what tests them.
_ZERO_DECIMAL: Final = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
})  # fmt: skip
_THREE_DECIMAL: Final = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
_SYMBOLS: Final = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹"}


class Words:
    """The pages' text in one language."""

    __slots__ = ("_text", "lang")

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._text = _TEXT[lang]

    def __call__(self, key: str, **values: object) -> Markup:
        """The text *key*, HTML-escaped, with escaped *values* put in."""
        text = self._text.get(key) or _TEXT["en"][key]
        return Markup(escape(text).format(**{k: escape(v) for k, v in values.items()}))

    def date(self, when: int) -> str:
        """*when* (unix seconds) as a date: ``January 31, 2026``, ``31 janvier 2026``."""
        day = dt.datetime.fromtimestamp(when, tz=dt.UTC)
        month = _MONTHS[self.lang][day.month - 1]
        if self.lang == "fr":
            return f"{'1er' if day.day == 1 else day.day} {month} {day.year}"
        return f"{month} {day.day}, {day.year}"

    def interval(self, interval: str, count: int) -> Markup:
        """``per month``, ``every 3 months``, ``par mois``, ``tous les 3 mois``."""
        if count == 1:
            return self("per_1", unit=self(interval))
        return self("per_n", count=count, units=self(interval + "s"))

    def amount(self, value: int, currency: str) -> str:
        """*value* minor units of *currency*: ``€15.00``, ``15,00 €``."""
        return amount(value, currency, self.lang)


def amount(value: int, currency: str, lang: str) -> str:
    """*value* (minor units) of *currency* written as in *lang*."""
    code = currency.lower()
    digits = 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2
    whole, fraction = divmod(abs(value), 10**digits)  # exact, at any size
    number = f"{whole:,}.{fraction:0{digits}d}" if digits else f"{whole:,}"
    sign = "-" if value < 0 else ""
    symbol = _SYMBOLS.get(code)
    if lang == "fr":
        number = number.replace(",", "\u202f").replace(".", ",")
        return f"{sign}{number}\u00a0{symbol or code.upper()}"
    if symbol is None:
        return f"{sign}{code.upper()}\u00a0{number}"
    return f"{sign}{symbol}{number}"


def negotiate(locale: str | None, accept_language: str | None) -> str:
    """The pages' language: the session's locale, else the browser's, else English."""
    if locale and locale != "auto":
        return _language(locale)
    best = "en"
    best_q = -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        lang = _language(tag)
        if lang in _TEXT and q > best_q:
            best, best_q = lang, q
    return best


def _language(tag: str) -> str:
    lang = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return lang if lang in _TEXT else "en"


def words_for(lang: str) -> Words:
    """The text of *lang* (``en`` or ``fr``)."""
    return Words(lang if lang in _TEXT else "en")
