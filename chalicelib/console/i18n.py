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
    # rules (D2)
    "Rules & SLAs": "规则与 SLA",
    "settings version": "设置版本",
    "Saved": "已保存",
    "The change is in the audit log below.": "此次更改已记录在下方的审计日志中。",
    "Each section is validated on the server before it is saved; every save is audited "
    "(who, when, old → new).": (
        "每个部分在保存前都会经服务器校验；每次保存都会记录审计（谁、何时、旧值 → 新值）。"
    ),
    "Try the return rules": "试用退货规则",
    "uses the return rules in the form below, saved or not; nothing is stored": (
        "使用下方表单中的退货规则（无论是否已保存）；不会存储任何内容"
    ),
    "Order id": "订单 ID",
    "a real order, e.g. o-1001": "真实订单，例如 o-1001",
    "or a scenario:": "或假设场景：",
    "Unit price": "单价",
    "Qty": "数量",
    "Delivered": "签收于",
    "days ago": "天前",
    "Reason": "原因",
    "Returns in 90 d": "90 天内退货次数",
    "Try it": "试一试",
    "Try the SLA": "试用 SLA",
    "a case opened now, under the SLA in the form below": (
        "按下方表单中的 SLA，假设现在创建一个工单"
    ),
    "VIP customer": "VIP 客户",
    "First response due": "首次响应截止",
    "resolution due": "解决截止",
    "Return rules": "退货规则",
    "SLA policies, business hours and holidays": "SLA 策略、营业时间与节假日",
    "VIP and risk thresholds": "VIP 与风险阈值",
    "Quiet hours": "免打扰时段",
    "Messaging (provider, locale, support contact)": "消息（服务商、语言、客服联系方式）",
    "Tracking": "物流跟踪",
    "Refunds": "退款",
    "Agents and escalation": "客服与升级",
    "Weekly digest": "每周摘要",
    "Return window (days after delivery)": "退货期限（签收后天数）",
    "Auto-approve up to (order value)": "自动批准上限（订单金额）",
    "Returns allowed per customer in 90 days": "每位客户 90 天内可退货次数",
    "Approve automatically when every rule passes": "所有规则通过时自动批准",
    "Only delivered orders can be returned": "仅已签收的订单可退货",
    "Allowed reasons": "允许的退货原因",
    "Excluded product tags (comma-separated)": "不可退货的商品标签（以逗号分隔）",
    "Excluded SKUs (comma-separated)": "不可退货的 SKU（以逗号分隔）",
    "Save": "保存",
    "Hours to first response / to resolution. Blank: the broader rule applies (the “any” "
    "row or column).": "首次响应 / 解决所需小时数。留空则沿用更宽泛的规则（“任意”行或列）。",
    "any": "任意",
    "hours": "小时",
    "VIP multiplier (0.5 = half the time)": "VIP 系数（0.5 = 时限减半）",
    "Count business hours only": "仅计算营业时间",
    "advanced (JSON)": "高级（JSON）",
    "Save JSON": "保存 JSON",
    "Audit log": "审计日志",
    "When": "时间",
    "Who": "操作人",
    "Section": "部分",
    "Changed": "更改项",
    "Version": "版本",
    "No saved changes yet.": "尚无已保存的更改。",
    "changed mind": "改变主意",
    "damaged": "商品损坏",
    "late": "送达过晚",
    "no reason": "无理由",
    "not as described": "与描述不符",
    "other": "其他",
    "quality": "质量问题",
    "wrong size": "尺码不合适",
    # messages (D2)
    "Saved the template": "已保存模板",
    "The change is in the audit log.": "此次更改已记录在审计日志中。",
    "Message kinds": "消息类型",
    "SMS templates": "短信模板",
    "your text": "自定义文本",
    "default text": "默认文本",
    "Template text": "模板文本",
    "Preview with sample values": "使用示例值预览",
    "segment": "段",
    "segments": "段",
    "characters": "个字符",
    "Outbox": "发件箱",
    "newest": "最新",
    "Message": "消息",
    "To": "收件人",
    "Cost": "费用",
    "Created": "创建时间",
    "attempt": "次尝试",
    "attempts": "次尝试",
    "Retry": "重试",
    "Nothing sent yet.": "尚未发送任何消息。",
    "pending": "排队中",
    "deferred": "已延后",
    "sms": "短信",
    "email": "邮件",
    "shipment in transit": "运输中",
    "shipment out for delivery": "派送中",
    "shipment delivered": "已签收",
    "shipment delivery failed": "派送失败",
    "shipment exception": "物流异常",
    "shipment available for pickup": "可自提",
    "shipment returned to sender": "已退回寄件人",
    "shipment stale": "物流停滞",
    "return approved": "退货已批准",
    "return needs review": "退货待审核",
    "return rejected": "退货被拒绝",
    "return received": "退货已收到",
    "return label ready": "退货面单已就绪",
    "return in transit": "退货运输中",
    "return expiry reminder": "退货到期提醒",
    "return expired": "退货已过期",
    "refund issued": "已退款",
    "csat question": "满意度调查",
    "opt out confirmed": "退订确认",
    "opt in confirmed": "订阅确认",
    "help": "帮助",
    # team (D2)
    "Team sign-in keys": "团队登录密钥",
    "The new key is shown only this once. Copy it and hand it to its owner:": (
        "新密钥仅显示这一次。请复制并交给其使用者："
    ),
    "Name, e.g. Maya Chen": "姓名，例如 Maya Chen",
    "Role": "角色",
    "Create key": "创建密钥",
    "Agents work cases; seniors also approve and reject returns; supervisors also "
    "bulk-assign and change rules; admins also manage keys.": (
        "客服处理工单；高级客服还可批准和拒绝退货；主管还可批量分配和修改规则；管理员还可管理密钥。"
    ),
    "Key ends": "密钥结尾",
    "By": "创建人",
    "No personal keys yet: everyone signs in with the shop key.": (
        "尚无个人密钥：所有人都使用店铺密钥登录。"
    ),
    "agent": "客服",
    "senior": "高级客服",
    "supervisor": "主管",
    "admin": "管理员",
    "owner": "店主",
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
