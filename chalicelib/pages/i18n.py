"""The customer pages' words in English and Simplified Chinese, and the page locale choice.

The locale comes from `?lang=` (the switch on every page), else the order's customer locale
when known, else the browser's Accept-Language (Babel negotiates), else English. A decision is
explained from its deciding rule's message key and params (`policy.returns` trace): soft-rule
reviews are not explained in detail to the customer ("we review it"), hard refusals are.
Dates and money are formatted with Babel in the page locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency

__all__ = ["LOCALES", "choose_locale", "Words", "explain"]

LOCALES = ("en", "zh-CN")
LANGUAGE_NAMES = {"en": "English", "zh-CN": "中文"}

_EN: dict[str, str] = {
    "brand.powered": "Returns and tracking by Aftercare",
    "lookup.title": "Start a return",
    "lookup.intro": "Enter your order number and the e-mail or phone number you used at checkout.",
    "lookup.number": "Order number",
    "lookup.number_hint": "For example #1001, from your order confirmation",
    "lookup.contact": "E-mail or phone",
    "lookup.submit": "Find my order",
    "lookup.not_found": "We could not find an order with these details. Check the order number "
    "and the e-mail or phone number used for the order.",
    "lookup.rate_limited": "Too many attempts. For your security, please wait 15 minutes and "
    "try again.",
    "order.title": "Order {number}",
    "order.pick": "Choose what you want to return",
    "order.qty": "Quantity",
    "order.of": "of {count}",
    "order.reason": "Reason",
    "order.note": "Anything else we should know? (optional)",
    "order.submit": "Request return",
    "order.none": "Choose at least one item and a quantity.",
    "order.track": "Track this order",
    "order.photos": "Photos (optional)",
    "order.photos_hint": "Up to {count} photos, JPEG, PNG or WebP, 2 MB each",
    "order.already": "Already returned",
    "reason.wrong_size": "Wrong size",
    "reason.damaged": "Arrived damaged",
    "reason.not_as_described": "Not as described",
    "reason.quality": "Quality not as expected",
    "reason.late": "Arrived too late",
    "reason.changed_mind": "Changed my mind",
    "reason.other": "Other reason",
    "reason.no_reason": "No reason",
    "reason.choose": "Choose a reason",
    "result.approved": "Your return is approved",
    "result.needs_review": "We are reviewing your request",
    "result.not_eligible": "This return cannot be accepted",
    "result.code": "Your return code",
    "result.qr": "QR code of return code {code}",
    "result.dropoff": "Pack the items with this code inside. Show the code or the QR code at "
    "the drop-off point. Your refund starts when we receive the parcel.",
    "result.review_next": "A member of our team will look at it and reply by text message, "
    "usually within one business day.",
    "result.sms": "We also sent this to your phone.",
    "label.title": "Prepaid return label",
    "csat.question": "How happy are you with how we handled your request?",
    "csat.score.1": "1 · very unhappy",
    "csat.score.2": "2 · unhappy",
    "csat.score.3": "3 · okay",
    "csat.score.4": "4 · happy",
    "csat.score.5": "5 · very happy",
    "csat.send": "Send rating",
    "csat.thanks": "Thank you for your rating.",
    "label.preparing": "Your prepaid return label is being prepared. We will text you the link.",
    "label.link": "Print your return label",
    "label.tracking": "{carrier} tracking number {number}",
    "label.expires": "Please send the parcel by {date}.",
    "result.items": "Items",
    "result.back": "Back to your order",
    "status.title": "Order {number}",
    "status.shipments": "Delivery",
    "status.none": "Your order has not shipped yet. We will text you when it does.",
    "status.eta": "Estimated delivery: {date}",
    "status.tracking": "{carrier} tracking number {number}",
    "status.returns": "Returns",
    "status.refunds": "Refunds",
    "status.refund": "{amount} refunded on {date}",
    "status.ship_to": "Ships to {city}",
    "status.contact": "Updates go to {phone}",
    "status.ask": "Questions about this order?",
    "status.message": "Your message to the shop",
    "status.send": "Send message",
    "status.sent": "Thanks, we got your message. We reply by text message.",
    "return.approved": "Approved: return code {code}",
    "return.pending_review": "Being reviewed",
    "return.rejected": "Not accepted",
    "return.received": "Received at our warehouse",
    "return.resolved": "Completed",
    "return.other": "In progress",
    "ship.label_created": "Label created",
    "ship.in_transit": "On its way",
    "ship.out_for_delivery": "Out for delivery",
    "ship.available_for_pickup": "Ready for pickup",
    "ship.delivered": "Delivered",
    "ship.delivery_failed": "Delivery attempt failed",
    "ship.exception": "Delayed: carrier reported a problem",
    "ship.returned_to_sender": "Returned to sender",
    "ship.unknown": "Status unknown",
    "error.title": "Sorry",
    "error.404": "This page does not exist or the link has expired.",
    "error.403": "Your session has expired or the form was changed. Please look up your "
    "order again.",
    "error.400": "We could not understand that request. Please go back and try again.",
    "error.413": "That file is too large. Photos can be up to 2 MB each.",
    "error.415": "Only photos can be attached (JPEG, PNG or WebP).",
    "error.photos_count": "You can attach up to 3 photos.",
    "error.503": "This page is not available right now. Please try again later.",
    "error.500": "Something went wrong on our side. Please try again in a few minutes.",
    "error.again": "Start again",
    "why.returns.order_active.dead": "This order was {status}, so there is nothing left to return.",
    "why.returns.delivered.required": "Returns open once your order has been delivered.",
    "why.returns.delivered.not_shipped": "Your order has not shipped yet. Contact us to cancel "
    "it instead.",
    "why.returns.return_window.late": "Returns are accepted within {window} days of delivery. "
    "This order was delivered {days} days ago.",
    "why.returns.product_returnable.sku": "{item} is a final-sale item and cannot be returned.",
    "why.returns.product_returnable.tag": "{item} is a final-sale item and cannot be returned.",
    "why.returns.quantity_available.exceeds": "Only {available} of {item} can still be returned.",
    "why.approved": "Your request meets the shop's return policy.",
    "why.fallback": "This request does not meet the shop's return policy.",
}

_ZH: dict[str, str] = {
    "brand.powered": "退货与物流服务由 Aftercare 提供",
    "lookup.title": "申请退货",
    "lookup.intro": "请输入订单号，以及下单时使用的电子邮箱或手机号码。",
    "lookup.number": "订单号",
    "lookup.number_hint": "例如 #1001，可在订单确认信息中找到",
    "lookup.contact": "电子邮箱或手机号码",
    "lookup.submit": "查找订单",
    "lookup.not_found": "未找到与这些信息匹配的订单。请核对订单号及下单时使用的邮箱或手机号码。",
    "lookup.rate_limited": "尝试次数过多。为保障您的安全，请 15 分钟后再试。",
    "order.title": "订单 {number}",
    "order.pick": "请选择要退回的商品",
    "order.qty": "数量",
    "order.of": "共 {count} 件",
    "order.reason": "退货原因",
    "order.note": "还有其他需要说明的吗？（选填）",
    "order.submit": "提交退货申请",
    "order.none": "请至少选择一件商品及数量。",
    "order.track": "查看订单物流",
    "order.photos": "照片（选填）",
    "order.photos_hint": "最多 {count} 张，JPEG、PNG 或 WebP 格式，每张不超过 2 MB",
    "order.already": "已退货",
    "reason.wrong_size": "尺码不合适",
    "reason.damaged": "商品到货时已损坏",
    "reason.not_as_described": "与描述不符",
    "reason.quality": "质量不如预期",
    "reason.late": "到货太晚",
    "reason.changed_mind": "不想要了",
    "reason.other": "其他原因",
    "reason.no_reason": "无理由",
    "reason.choose": "请选择原因",
    "result.approved": "您的退货申请已通过",
    "result.needs_review": "我们正在审核您的申请",
    "result.not_eligible": "此退货申请无法受理",
    "result.code": "您的退货码",
    "result.qr": "退货码 {code} 的二维码",
    "result.dropoff": "请将商品与此退货码一起打包，在投递点出示退货码或二维码。"
    "我们收到包裹后即开始退款。",
    "result.review_next": "我们的工作人员会尽快审核，并通过短信回复您，通常在一个工作日内。",
    "result.sms": "我们也已将此信息发送到您的手机。",
    "label.title": "预付退货运单",
    "csat.question": "您对我们处理您请求的方式满意吗？",
    "csat.score.1": "1 · 非常不满意",
    "csat.score.2": "2 · 不满意",
    "csat.score.3": "3 · 一般",
    "csat.score.4": "4 · 满意",
    "csat.score.5": "5 · 非常满意",
    "csat.send": "提交评分",
    "csat.thanks": "感谢您的评分。",
    "label.preparing": "您的预付退货运单正在生成，生成后我们会短信发送链接。",
    "label.link": "打印退货运单",
    "label.tracking": "{carrier} 运单号 {number}",
    "label.expires": "请于 {date} 前寄出包裹。",
    "result.items": "商品",
    "result.back": "返回订单",
    "status.title": "订单 {number}",
    "status.shipments": "配送",
    "status.none": "您的订单尚未发货。发货后我们会短信通知您。",
    "status.eta": "预计送达：{date}",
    "status.tracking": "{carrier} 运单号 {number}",
    "status.returns": "退货",
    "status.refunds": "退款",
    "status.refund": "已于 {date} 退款 {amount}",
    "status.ship_to": "寄往 {city}",
    "status.contact": "通知发送至 {phone}",
    "status.ask": "对此订单有疑问？",
    "status.message": "给店铺的留言",
    "status.send": "发送留言",
    "status.sent": "已收到您的留言，我们会通过短信回复您。",
    "return.approved": "已通过：退货码 {code}",
    "return.pending_review": "审核中",
    "return.rejected": "未通过",
    "return.received": "仓库已收货",
    "return.resolved": "已完成",
    "return.other": "处理中",
    "ship.label_created": "已创建运单",
    "ship.in_transit": "运输中",
    "ship.out_for_delivery": "派送中",
    "ship.available_for_pickup": "待取件",
    "ship.delivered": "已签收",
    "ship.delivery_failed": "派送未成功",
    "ship.exception": "延误：承运商报告异常",
    "ship.returned_to_sender": "已退回寄件人",
    "ship.unknown": "状态未知",
    "error.title": "抱歉",
    "error.404": "此页面不存在或链接已过期。",
    "error.403": "会话已过期或表单已被修改。请重新查找您的订单。",
    "error.400": "无法处理该请求。请返回后重试。",
    "error.413": "文件过大。每张照片不超过 2 MB。",
    "error.415": "只能上传照片（JPEG、PNG 或 WebP）。",
    "error.photos_count": "最多可上传 3 张照片。",
    "error.503": "此页面暂时无法使用，请稍后再试。",
    "error.500": "我们这边出了点问题，请几分钟后再试。",
    "error.again": "重新开始",
    "why.returns.order_active.dead": "此订单状态为 {status}，已没有可退的商品。",
    "why.returns.delivered.required": "订单签收后才可申请退货。",
    "why.returns.delivered.not_shipped": "您的订单尚未发货，请联系我们取消订单。",
    "why.returns.return_window.late": "退货须在签收后 {window} 天内申请。此订单已签收 {days} 天。",
    "why.returns.product_returnable.sku": "{item} 为不退换商品，无法退货。",
    "why.returns.product_returnable.tag": "{item} 为不退换商品，无法退货。",
    "why.returns.quantity_available.exceeds": "{item} 仅剩 {available} 件可退。",
    "why.approved": "您的申请符合本店的退货政策。",
    "why.fallback": "此申请不符合本店的退货政策。",
}

_MESSAGES: dict[str, dict[str, str]] = {"en": _EN, "zh-CN": _ZH}
_STATUS_WORDS = {"zh-CN": {"cancelled": "已取消", "refunded": "已退款"}}


def _known(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("_", "-")
    for locale in LOCALES:
        if value.lower() == locale.lower():
            return locale
    if value.lower().startswith("zh"):
        return "zh-CN"
    if value.lower().startswith("en"):
        return "en"
    return None


def _accept_language(header: str | None) -> str | None:
    if not header:
        return None
    wanted: list[tuple[float, str]] = []
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            wanted.append((quality, tag))
    for _, tag in sorted(wanted, key=lambda pair: -pair[0]):
        found = _known(tag)
        if found:
            return found
    return None


def choose_locale(
    query_lang: str | None, customer_locale: str | None, accept_language: str | None
) -> str:
    """`?lang=` first, then the customer's locale, then the browser's, then English."""
    return (
        _known(query_lang) or _known(customer_locale) or _accept_language(accept_language) or "en"
    )


class Words:
    """Translation and formatting in one locale, handed to the templates as `t`."""

    def __init__(self, locale: str, zone: tzinfo | None = None) -> None:
        self.locale = locale if locale in _MESSAGES else "en"
        self.babel = Locale.parse(self.locale.replace("-", "_"))
        self.zone = zone
        self.lang_names = LANGUAGE_NAMES

    def __call__(self, key: str, **params: Any) -> str:
        text = _MESSAGES[self.locale].get(key) or _EN.get(key) or key
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text

    def has(self, key: str) -> bool:
        return key in _EN

    def status_word(self, status: str) -> str:
        return _STATUS_WORDS.get(self.locale, {}).get(status, status)

    def date(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        if self.zone is not None and moment.tzinfo is not None:
            moment = moment.astimezone(self.zone)
        return format_date(moment, format="medium", locale=self.babel)

    def datetime(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        if self.zone is not None and moment.tzinfo is not None:
            moment = moment.astimezone(self.zone)
        day = format_date(moment, format="medium", locale=self.babel)
        return f"{day} {format_time(moment, format='short', locale=self.babel)}"

    def money(self, amount: str | Decimal, currency: str) -> str:
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            return f"{amount} {currency}"
        return format_currency(value, currency, locale=self.babel)


def explain(
    decision: Mapping[str, Any], words: Words, names: Mapping[str, str] | None = None
) -> str:
    """The decision in the customer's words: approved, a review, or the refusing rule.
    `names` turns the SKUs the rules name into the product titles the customer knows."""
    outcome = decision.get("outcome")
    if outcome == "approved":
        return words("why.approved")
    if outcome != "not_eligible":
        return words("result.review_next")
    deciding = decision.get("deciding_rule")
    for rule in decision.get("trace") or []:
        if rule.get("rule") == deciding and not rule.get("passed", True):
            key = "why." + str(rule.get("key", ""))
            params = dict(rule.get("params") or {})
            if "item" in params and names:
                params["item"] = names.get(str(params["item"]), params["item"])
            if "status" in params:
                params["status"] = words.status_word(str(params["status"]))
            if words.has(key):
                return words(key, **params)
    return words("why.fallback")
