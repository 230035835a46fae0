"""The console's UI words in English and Simplified Chinese, and the locale choice.

Message ids are the English strings themselves (gettext style), so a missing translation
shows English. The locale comes from `?lang=` (remembered in a cookie), else the cookie,
else the browser's Accept-Language (Babel negotiates, as the customer pages do), else `en`.
Case data (subjects, notes, customer messages) is shown as written.
"""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie

__all__ = ["LOCALES", "LANG_COOKIE", "choose", "translator", "lang_cookie"]

LOCALES = ("en", "zh-CN")
LANG_COOKIE = "console_lang"

ZH: dict[str, str] = {
    # chrome
    "Queue": "工单队列",
    "Rules": "规则",
    "Messages": "消息",
    "Insights": "数据洞察",
    "Team": "团队",
    "Sign out": "退出",
    "Console": "控制台",
    # sign-in
    "Sign in": "登录",
    "Sign in to the console": "登录控制台",
    "Use your shop's API key, or the personal key your admin created for you.": (
        "使用店铺的 API 密钥，或管理员为您创建的个人密钥。"
    ),
    "Sign-in key": "登录密钥",
    "That key is not valid. Check it and try again.": "密钥无效，请检查后重试。",
    "Sessions last 2 hours. Inside Shopify admin you are signed in automatically.": (
        "会话有效期 2 小时。在 Shopify 后台中会自动登录。"
    ),
    # queue
    "open cases": "未结",
    "open": "处理中",
    "angry": "愤怒",
    "frustrated": "沮丧",
    "disappointed": "失望",
    "breached": "已超时",
    "at risk": "即将超时",
    "updated": "更新于",
    "All types": "全部类型",
    "All statuses": "全部状态",
    "All priorities": "全部优先级",
    "Anyone": "任何人",
    "Unassigned": "未分配",
    "Any SLA state": "全部 SLA 状态",
    "At risk or breached": "即将超时或已超时",
    "Breached": "已超时",
    "At risk": "即将超时",
    "VIP": "VIP",
    "High risk": "高风险",
    "Apply": "应用",
    "Reset": "重置",
    "selected": "已选",
    "Assign to…": "分配给…",
    "Assign selected": "分配所选",
    "Case": "工单",
    "Type": "类型",
    "Status": "状态",
    "Priority": "优先级",
    "Assignee": "处理人",
    "SLA": "SLA",
    "Opened": "创建时间",
    "No open cases match these filters.": "没有符合筛选条件的未结工单。",
    "Page": "第",
    "of": "页，共",
    "Newer due": "更早到期",
    "Later due": "更晚到期",
    "left": "剩余",
    "overdue": "已超时",
    "first response": "首次响应",
    "resolution": "解决",
    "priority target": "优先级目标",
    # case
    "Actions": "操作",
    "Assign": "分配",
    "Move to…": "变更为…",
    "Set status": "设置状态",
    "Approve return": "批准退货",
    "Reject": "拒绝",
    "Resolve": "解决",
    "Send an SMS…": "发送短信…",
    "Send SMS": "发送短信",
    "Add note": "添加备注",
    "Add an internal note…": "添加内部备注…",
    "Timeline": "时间线",
    "Customer": "客户",
    "Name": "姓名",
    "Tier": "等级",
    "Language": "语言",
    "Contact": "联系方式",
    "History": "历史",
    "Earlier cases": "以往工单",
    "Order": "订单",
    "Decision": "决策",
    "No messages for this case yet.": "此工单暂无消息。",
    "Assignee:": "处理人：",
    "opened": "创建于",
    "nobody": "无人",
    "subscribed": "已订阅",
    "opted out": "已退订",
    # insights
    "week": "周",
    "Download CSV": "下载 CSV",
    "last week": "上周",
    "target": "目标",
    # case types and statuses (labels)
    "return": "退货",
    "exchange": "换货",
    "complaint": "投诉",
    "dispute": "争议",
    "shipping exception": "物流异常",
    "inquiry": "咨询",
    "new": "新建",
    "awaiting customer": "等待客户",
    "pending review": "待审核",
    "approved": "已批准",
    "rejected": "已拒绝",
    "in transit back": "退回途中",
    "received": "已收货",
    "inspected": "已检验",
    "replacement sent": "已发换货",
    "refund pending": "待退款",
    "refunded": "已退款",
    "resolved": "已解决",
    "closed": "已关闭",
    "cancelled": "已取消",
    "urgent": "紧急",
    "high": "高",
    "normal": "普通",
    "low": "低",
    "queued": "排队中",
    "sent": "已发送",
    "delivered": "已送达",
    "failed": "失败",
}
_CATALOGS = {"en": {}, "zh-CN": ZH}


def _cookie(header: str | None) -> str | None:
    if not header:
        return None
    try:
        morsel = SimpleCookie(header).get(LANG_COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel else None


def choose(query_lang: str | None, cookie_header: str | None, accept_language: str | None) -> str:
    """`?lang=`, else the remembered choice, else the browser's language, else English."""
    from chalicelib.pages.i18n import choose_locale

    return choose_locale(query_lang, _cookie(cookie_header), accept_language)


def translator(locale: str) -> Callable[[str], str]:
    """`t(english) -> the words in `locale`` (English when untranslated)."""
    catalog = _CATALOGS.get(locale, {})
    return lambda text: catalog.get(text, text)


def lang_cookie(locale: str) -> str:
    return f"{LANG_COOKIE}={locale}; Path=/console; Max-Age=31536000; Secure; SameSite=Strict"
