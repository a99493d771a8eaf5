"""The customer portal's pages, served to a browser (strictly private).

``GET /p/session/<token>`` is what a portal session's ``url`` opens: the
cancel page of a ``subscription_cancel`` deep link (the subscription, what
the customer would lose, the reason question with the configuration's
options and custom feedback options, a free-text box for "other", the
retention offer, confirm / accept the offer / go back), or the portal's
homepage (the customer's plans, with "Cancel plan" and "Renew plan"). The
forms POST to ``/p/session/<token>/<action>``; every action goes through the
portal driver (:mod:`cancelflow.testing._portal`) via the served account, so
the browser and ``fake.portal.visit`` can never disagree. After a deep-link
flow, the page follows its ``after_completion``: a redirect, a hosted
confirmation with the custom message, or the homepage.

Plain HTML and CSS (no script, no external asset), labelled controls, every
string from the host or the customer escaped (:mod:`.html`), text in the
session's locale (:mod:`.wording`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, quote, urlsplit

from cancelflow.exceptions import (
    FakeStripeError,
    PortalError,
    PortalReasonNotOfferedError,
    PortalSessionExpiredError,
)
from cancelflow.testing._server.html import Markup, join, link_target, render, template
from cancelflow.testing._server.protocol import Request, Response
from cancelflow.testing._server.wording import Words, negotiate, words_for

if TYPE_CHECKING:
    from cancelflow.testing._portal import PortalVisit
    from cancelflow.testing._resources.portal_sessions import SessionRecord
    from cancelflow.testing._server.account import ServedAccount

__all__ = ["PREFIX", "Pages"]

JSON = dict[str, Any]
PREFIX: Final = "/p/session/"
_MAX_FORM: Final = 64 * 1024
_HEADERS: Final = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    (
        "Content-Security-Policy",
        (
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
            "frame-ancestors 'none'"
        ),
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),  # the session's URL is its only credential
)
_HIDDEN_SUBSCRIPTION: Final = '<input type="hidden" name="subscription" value="$id">'
_BACK_LINK: Final = '<a href="$href">&larr; $text</a>'
_ALERT: Final = '<p class="alert" role="alert">$text</p>'
_NOTICE: Final = '<p class="notice" role="status">$text</p>'
_DONE: Final = '<p class="notice" role="status"><strong>$title</strong> $text</p>'
_CUSTOM: Final = '<p class="custom">$text</p>'
_FEATURES: Final = '<h3 class="lose">$title</h3>\n<ul class="features">\n$items\n</ul>'
_FEATURE: Final = "<li>$name</li>"
_CANCEL_LINK: Final = '<a class="button secondary" href="$href">$text</a>'
_RENEW_FORM: Final = (
    '<form method="post" action="$action">'
    '<input type="hidden" name="subscription" value="$id">'
    '<button type="submit" class="primary">$text</button></form>'
)
_NOTICES: Final = {"canceled": "canceled_title", "renewed": "renewed"}


def _html(status: int, body: Markup) -> Response:
    return Response(status, body.encode("utf-8"), _HEADERS)


def _redirect(location: str) -> Response:
    safe = quote(location, safe=":/?#[]@!$&'()*+,;=%~")
    return Response(303, b"", [("Location", safe), ("Cache-Control", "no-store")])


class Pages:
    """Answers ``/p/session/…`` requests for one served account."""

    def __init__(self, account: ServedAccount) -> None:
        self._account = account

    def handle(self, request: Request) -> Response:
        """Route one page request (``GET`` shows, ``POST`` acts)."""
        rest = request.path[len(PREFIX) :]
        token, _, action = rest.partition("/")
        accept = request.headers.get("accept-language")
        backend = self._account.fake.backend
        with backend.lock:
            session_id = backend.portal_sessions.by_token.get(token)
            record = (
                None
                if session_id is None
                else backend.portal_sessions.store.by_id.get(session_id)
            )
            words = words_for(
                negotiate(None if record is None else record.locale, accept)
            )
            if record is None:
                return self._message(404, words, None, "not_found_title", "")
            if request.method in ("GET", "HEAD"):
                query = dict(parse_qsl(request.query, max_num_fields=10))
                if action == "":
                    return self._show(record, words, notice=query.get("notice"))
                if action == "cancel":
                    return self._show(
                        record, words, cancel=query.get("subscription", "")
                    )
                return self._message(404, words, record, "not_found_title", "")
            if request.method != "POST" or action not in (
                "cancel",
                "accept_offer",
                "renew",
                "back",
            ):
                return Response(405, b"", [("Allow", "GET, POST")])
            form = _form(request)
            if form is None:
                return self._message(400, words, record, "problem_title", "")
            return self._act(record, words, action, form)

    # -- GET -------------------------------------------------------------------------

    def _show(
        self,
        record: SessionRecord,
        words: Words,
        *,
        notice: str | None = None,
        cancel: str | None = None,
    ) -> Response:
        finished = record.state.get("finished")
        if finished is not None:
            return self._finished(record, words, str(finished))
        try:
            visit = self._account.visit(record.id)
        except PortalSessionExpiredError as err:
            return self._message(410, words, record, "expired_title", str(err))
        except FakeStripeError as err:
            return self._message(409, words, record, "problem_title", str(err))
        flow = visit.flow_type
        if flow == "subscription_cancel":
            return _html(200, self._cancel_page(record, visit, words))
        if flow is not None:
            return self._message(
                501, words, record, "problem_title", words("not_modeled", flow=flow)
            )
        if cancel:
            return self._homepage_cancel(record, visit, words, cancel)
        text = _NOTICES.get(notice or "")
        banner = render(_NOTICE, text=words(text)) if text else Markup("")
        return _html(
            200, self._homepage(record, words, visit.subscriptions, banner, visit)
        )

    def _homepage_cancel(
        self, record: SessionRecord, visit: PortalVisit, words: Words, sub_id: str
    ) -> Response:
        subscription = next((s for s in visit.subscriptions if s["id"] == sub_id), None)
        if subscription is None:
            return self._message(
                404, words, record, "problem_title", f"no plan {sub_id[:40]} here"
            )
        return _html(200, self._cancel_page(record, visit, words, subscription))

    def _finished(self, record: SessionRecord, words: Words, action: str) -> Response:
        """A deep-link flow that is done: what ``after_completion`` shows."""
        backend = self._account.fake.backend
        sub_id = record.subscription_id
        sub = None if sub_id is None else backend.subscriptions.store.by_id.get(sub_id)
        after = record.after_completion or {"type": "portal_homepage"}
        if action == "cancel":
            title = "canceled_title"
            if (
                sub is not None
                and sub.obj["status"] != "canceled"
                and sub.obj["cancel_at"]
            ):
                text = words("canceled_until", date=words.date(sub.obj["cancel_at"]))
            else:
                text = words("canceled_now")
        elif action == "accept_offer":
            title = "offer_done_title"
            text = self._offer_done(record, words)
        else:
            title, text = "left_title", words("left_text")
        if after["type"] == "portal_homepage":
            subs = backend.subscriptions.list_for_customer(record.customer_id)["data"]
            banner = render(_DONE, title=words(title), text=text)
            return _html(200, self._homepage(record, words, subs, banner, None))
        more = Markup("")
        hosted = after.get("hosted_confirmation") or {}
        if after["type"] == "hosted_confirmation" and hosted.get("custom_message"):
            more = render(_CUSTOM, text=hosted["custom_message"])
        return self._message(200, words, record, title, text, more=more)

    # -- POST ------------------------------------------------------------------------

    def _act(
        self, record: SessionRecord, words: Words, action: str, form: dict[str, str]
    ) -> Response:
        base = PREFIX + record.token
        sub_id = form.get("subscription") or None
        if action == "back":
            try:
                self._account.act(record.id, "abandon", {})
            except PortalError as err:
                return self._message(409, words, record, "problem_title", str(err))
            target = link_target(record.return_url)
            if target is not None:
                return _redirect(target)
            return self._message(200, words, record, "left_title", words("left_text"))
        args: JSON
        if action == "cancel":
            args = _cancel_args(form)
            if record.flow is None:
                args["subscription"] = sub_id
        elif action == "renew":
            args = {"subscription": sub_id}
        else:
            args = {}
        try:
            self._account.act(record.id, action, args)
        except PortalReasonNotOfferedError as err:
            return self._again(record, words, sub_id, str(err))
        except PortalError as err:
            return self._message(409, words, record, "problem_title", str(err))
        if record.flow is None:
            notice = "canceled" if action == "cancel" else "renewed"
            return _redirect(f"{base}?notice={notice}")
        after = record.after_completion or {}
        if after.get("type") == "redirect":
            target = link_target(after["redirect"]["return_url"])
            if target is not None:
                return _redirect(target)
        return _redirect(base)

    def _again(
        self, record: SessionRecord, words: Words, sub_id: str | None, problem: str
    ) -> Response:
        """The cancel page again, saying what was wrong with the answer."""
        try:
            visit = self._account.visit(record.id)
        except FakeStripeError as err:
            return self._message(409, words, record, "problem_title", str(err))
        subscription = None
        if record.flow is None:
            subscription = next(
                (s for s in visit.subscriptions if s["id"] == sub_id), None
            )
            if subscription is None:
                return self._message(409, words, record, "problem_title", problem)
        alert = render(_ALERT, text=words("check_answer", message=problem))
        return _html(400, self._cancel_page(record, visit, words, subscription, alert))

    # -- building pages ----------------------------------------------------------------

    def _layout(
        self, record: SessionRecord | None, words: Words, title: object, content: Markup
    ) -> Markup:
        back = Markup("")
        target = None if record is None else link_target(record.return_url)
        if target is not None:
            host = urlsplit(target).hostname or target
            back = render(_BACK_LINK, href=target, text=words("return_to", host=host))
        return render(
            template("page.html"),
            lang=words.lang,
            title=title,
            back=back,
            test_mode=words("test_mode"),
            content=content,
        )

    def _message(
        self,
        status: int,
        words: Words,
        record: SessionRecord | None,
        title_key: str,
        text: object,
        *,
        more: Markup = Markup(""),  # noqa: B008 - an immutable str
    ) -> Response:
        title = words(title_key)
        content = render(template("message.html"), title=title, text=text, more=more)
        return _html(status, self._layout(record, words, title, content))

    def _cancel_page(
        self,
        record: SessionRecord,
        visit: PortalVisit,
        words: Words,
        subscription: JSON | None = None,
        alert: Markup = Markup(""),  # noqa: B008 - an immutable str
    ) -> Markup:
        sub = subscription if subscription is not None else visit.subscription
        assert sub is not None
        base = PREFIX + record.token
        if visit.cancel_mode == "immediately":
            ends = words("ends_now")
        else:
            ends = words("ends_at_period_end", date=words.date(_period_end(sub)))
        offer = Markup("")
        coupon = visit.coupon if subscription is None else None
        if coupon is not None:
            offer = render(
                template("offer.html"),
                title=words("offer_title"),
                text=words("offer_text", **_discount(coupon, words)),
                action=f"{base}/accept_offer",
                accept=words("accept_offer"),
            )
        hidden = Markup("")
        if subscription is not None:
            hidden = render(_HIDDEN_SUBSCRIPTION, id=subscription["id"])
        title = words("cancel_title")
        content = render(
            template("cancel.html"),
            title=title,
            alert=alert,
            plan_label=self._plan_names(sub),
            items=self._items(sub, words),
            ends=ends,
            features=self._features(sub, words),
            offer=offer,
            action_cancel=f"{base}/cancel",
            action_back=f"{base}/back",
            subscription_field=hidden,
            reasons=self._reasons(record, visit, words),
            confirm=words("confirm"),
            go_back=words("go_back"),
        )
        return self._layout(record, words, title, content)

    def _reasons(
        self, record: SessionRecord, visit: PortalVisit, words: Words
    ) -> Markup:
        if not visit.reasons_enabled:
            return Markup("")
        from cancelflow._stripe.labels import FeedbackLabels

        labels = FeedbackLabels()
        locale = record.locale if record.locale not in (None, "auto") else words.lang
        choice = template("reason.html")
        options: list[Markup] = []
        for value in visit.cancellation_reasons:
            label = labels.label(value, locale)
            if value == "other":
                options.append(
                    render(
                        template("reason_other.html"),
                        id="reason-other",
                        label=label,
                        comment_label=words("comment_label"),
                    )
                )
            else:
                options.append(
                    render(choice, id=f"reason-{value}", value=value, label=label)
                )
        for i, (option_id, description) in enumerate(visit.feedback_options.items(), 1):
            options.append(
                render(
                    choice, id=f"reason-option-{i}", value=option_id, label=description
                )
            )
        if not options:
            return Markup("")
        return render(
            template("reasons.html"),
            legend=words("reason_legend"),
            options=join(options),
        )

    def _items(self, sub: JSON, words: Words) -> Markup:
        parts = []
        for item in sub["items"]["data"]:
            price = item["price"]
            text = _price_text(price, words)
            quantity = item.get("quantity") or 1
            if quantity != 1:
                text = f"{text} {words('quantity', count=quantity)}"
            parts.append(
                render(
                    template("item.html"), name=self._product_name(price), price=text
                )
            )
        return join(parts)

    def _product(self, price: JSON) -> tuple[str, JSON | None]:
        """A price's product: its id, and the product if the account has it."""
        product = price.get("product")
        product_id = str(product["id"] if isinstance(product, dict) else product)
        record = self._account.fake.backend.products.store.by_id.get(product_id)
        return product_id, None if record is None else record.obj

    def _product_name(self, price: JSON) -> str:
        product_id, product = self._product(price)
        return product_id if product is None else str(product["name"])

    def _plan_names(self, sub: JSON) -> str:
        return " + ".join(
            self._product_name(item["price"]) for item in sub["items"]["data"]
        )

    def _features(self, sub: JSON, words: Words) -> Markup:
        names: list[str] = []
        for item in sub["items"]["data"]:
            _, product = self._product(item["price"])
            if product is not None:
                for feature in product.get("marketing_features") or ():
                    if feature.get("name") and feature["name"] not in names:
                        names.append(feature["name"])
        if not names:
            return Markup("")
        return render(
            _FEATURES,
            title=words("you_lose"),
            items=join(render(_FEATURE, name=name) for name in names),
        )

    def _homepage(
        self,
        record: SessionRecord,
        words: Words,
        subscriptions: list[JSON],
        banner: Markup,
        visit: PortalVisit | None,
    ) -> Markup:
        base = PREFIX + record.token
        rows: list[Markup] = []
        live = [
            s
            for s in subscriptions
            if s["status"] not in ("canceled", "incomplete_expired")
        ]
        for sub in live:
            scheduled = bool(sub["cancel_at"]) or bool(sub["cancel_at_period_end"])
            if scheduled:
                status = words(
                    "cancels_on", date=words.date(sub["cancel_at"] or _period_end(sub))
                )
            elif sub["status"] == "trialing" and sub.get("trial_end"):
                status = words("trial_ends", date=words.date(sub["trial_end"]))
            else:
                status = words("renews_on", date=words.date(_period_end(sub)))
            action = Markup("")
            if visit is not None and scheduled:
                action = render(
                    _RENEW_FORM,
                    action=f"{base}/renew",
                    id=sub["id"],
                    text=words("renew"),
                )
            elif visit is not None and visit.cancel_enabled:
                action = render(
                    _CANCEL_LINK,
                    href=f"{base}/cancel?subscription={sub['id']}",
                    text=words("cancel_link"),
                )
            rows.append(
                render(
                    template("plan.html"),
                    name=self._plan_names(sub),
                    price=join(
                        (_price_text(i["price"], words) for i in sub["items"]["data"]),
                        " + ",
                    ),
                    status=status,
                    action=action,
                )
            )
        if visit is None:
            banner = join([banner, render(_NOTICE, text=words("flow_done"))])
        plans = join(rows) if rows else render("<li>$text</li>", text=words("no_plans"))
        title = words("home_title")
        content = render(template("home.html"), title=title, notice=banner, plans=plans)
        return self._layout(record, words, title, content)

    def _offer_done(self, record: SessionRecord, words: Words) -> Markup:
        coupon_id = record.coupon_id
        coupons = self._account.fake.backend.coupons
        found = None if coupon_id is None else coupons.store.by_id.get(coupon_id)
        if found is None:
            return Markup("")
        return words("offer_done_text", **_discount(coupons.render(found), words))


def _price_text(price: JSON, words: Words) -> str:
    text = words.amount(int(price.get("unit_amount") or 0), str(price["currency"]))
    recurring = price.get("recurring")
    if recurring:
        text = f"{text} {words.interval(recurring['interval'], recurring['interval_count'])}"
    return text


def _period_end(sub: JSON) -> int:
    ends = [int(i["current_period_end"]) for i in sub["items"]["data"]]
    return max(ends) if ends else int(sub.get("cancel_at") or 0)


def _discount(coupon: JSON, words: Words) -> dict[str, Markup]:
    if coupon.get("percent_off") is not None:
        percent = f"{coupon['percent_off']:g}"
        if words.lang == "fr":
            percent = percent.replace(".", ",")
        discount = words("percent_off", percent=percent)
    else:
        discount = words(
            "amount_off",
            amount=words.amount(int(coupon["amount_off"]), str(coupon["currency"])),
        )
    duration = coupon.get("duration")
    if duration == "repeating":
        text = words("repeating", count=coupon.get("duration_in_months") or 1)
    elif duration == "forever":
        text = words("forever")
    else:
        text = words("once")
    return {"discount": discount, "duration": text}


def _form(request: Request) -> dict[str, str] | None:
    """The POSTed form, ``None`` if it is too big or not UTF-8."""
    if len(request.body) > _MAX_FORM:
        return None
    try:
        text = request.body.decode("utf-8")
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=20))
    except (UnicodeDecodeError, ValueError):
        return None


def _cancel_args(form: dict[str, str]) -> JSON:
    """The driver's ``cancel`` arguments from the form: the reason or custom option,
    and the comment when the reason is "other" (a hidden box's text is not an answer)."""
    args: JSON = {}
    reason = form.get("reason", "").strip()
    if reason.startswith("fo_"):
        args["feedback_option"] = reason
    elif reason:
        args["feedback"] = reason
        comment = form.get("comment", "").strip()
        if reason == "other" and comment:
            args["comment"] = comment
    return args
