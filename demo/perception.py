"""Deterministic demo perception records for the ``zylker`` workspace (``manage.py seed_demo``): survey
responses (NPS, CES, CSAT), contracts with renewals and churn, retention spend and feedback texts in
Chinese and English, as batch items of ``POST /api/v1/records/<kind>/batch``.

They follow the demo's accounts (``demo.records``): each account has a *health* drawn around its
owner's skill (heavier CRM users keep happier customers; an account without an owner is the least
looked after), and health decides everything else a little noisily: promoters or detractors, easy or
hard service, renewal or churn at a term's end, and the tone of what its contacts write. Accounts
written in Chinese get Chinese feedback (a few mixed lines, as people write), the others English.
Competitors and intents are named in words the default vocabulary knows (``records.text_analysis``).

Everything comes from one ``random.Random``: the same seed, accounts and anchor day give the same
records.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

KINDS = ("contracts", "surveys", "retention-spend", "feedback")
SEED_OFFSET = 20  # the perception records' stream (issue 20), apart from the others
HISTORY_DAYS = 730  # contracts start at most this long ago
SURVEY_DAYS = 365
FEEDBACK_DAYS = 180

# (text, sentiment). {c}: a competitor's name as people write it.
ENGLISH_FEEDBACK: list[tuple[str, str]] = [
    ("The new pipeline view saves our team hours every week, thank you!", "positive"),
    ("Great onboarding session, the trainer answered every question.", "positive"),
    ("Support fixed our import problem within an hour. Impressed.", "positive"),
    ("We are happy to renew for another year and add ten seats.", "positive"),
    ("Dashboards are much faster since the last release, nice work.", "positive"),
    ("We'd like to purchase the AI course for our sales managers.", "positive"),
    ("Compared with {c}, your reporting is far easier for our reps.", "positive"),
    ("Not bad at all, the mobile app finally syncs offline notes.", "positive"),
    ("Could you send the renewal quote for next year?", "neutral"),
    ("How do I export the activity report to Excel?", "neutral"),
    ("Please add a field for the customer's tax number on invoices.", "neutral"),
    ("We are also looking at {c} this quarter, can we compare pricing?", "neutral"),
    ("Meeting notes: reviewed usage, next check-in in March.", "neutral"),
    ("Is there an API to sync contacts from our ERP?", "neutral"),
    ("Thanks, but the export still fails for large lists.", "negative"),
    ("The dashboard is too slow, it takes a minute to load every morning.", "negative"),
    ("We were charged twice this month, please refund the second invoice.", "negative"),
    ("Your competitor {c} offered us a better price, we may cancel.", "negative"),
    ("Still waiting for an answer to our ticket after five days.", "negative"),
    ("The sync with Outlook keeps breaking and nobody follows up.", "negative"),
    ("We will not renew unless the permissions issue is fixed.", "negative"),
    ("Honestly disappointed with the last update, reports are broken.", "negative"),
]
CHINESE_FEEDBACK: list[tuple[str, str]] = [
    ("新版的销售漏斗视图非常好用，团队每周节省好几个小时，谢谢！", "positive"),
    ("培训老师很专业，所有问题都解答得很清楚。", "positive"),
    ("客服一个小时就解决了导入问题，很满意。", "positive"),
    ("我们决定续约一年，还要再增加十个账号。", "positive"),
    ("上次升级以后报表快多了，辛苦了。", "positive"),
    ("想购买人工智能课程给销售经理们学习。", "positive"),
    ("比{c}好用多了，销售团队都愿意用。", "positive"),
    ("这个 dashboard 现在很流畅，点赞。", "positive"),
    ("麻烦发一下明年的续约报价。", "neutral"),
    ("请问怎么把活动报表导出到 Excel？", "neutral"),
    ("希望发票上可以增加税号字段。", "neutral"),
    ("我们这个季度也在看{c}，能否对比一下价格？", "neutral"),
    ("会议纪要：回顾了使用情况，下次三月份回访。", "neutral"),
    ("有没有接口可以从 ERP 同步联系人？", "neutral"),
    ("谢谢，但是导出大名单还是失败。", "negative"),
    ("仪表盘太慢了，每天早上要等一分钟。", "negative"),
    ("这个月被重复扣费了，请退款第二张发票。", "negative"),
    ("{c}给了我们更低的价格，我们可能会取消合同。", "negative"),
    ("工单提交五天了还没有人回复，麻烦尽快处理一下。", "negative"),
    ("和 Outlook 的同步经常出问题，也没人跟进。", "negative"),
    ("权限问题不解决的话我们不会续约。", "negative"),
    ("说实话对上次更新很失望，报表都坏了。", "negative"),
    ("renewal 的价格能不能便宜点？", "neutral"),
    ("不太满意，数据导入太麻烦了。", "negative"),
    ("没有问题，系统运行很稳定。", "positive"),
]
ENGLISH_COMPETITORS = ["HubSpot", "Salesforce", "SFDC", "Zoho", "Pipedrive"]
CHINESE_COMPETITORS = ["纷享销客", "销售易", "Salesforce", "卓豪", "HubSpot"]
CHANNELS = [("email", 30), ("survey", 15), ("case", 20), ("call", 15), ("chat", 12), ("note", 8)]
TERM_MONTHS = [(12, 70), (24, 15), (6, 15)]


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


class _Builder:
    def __init__(self, *, anchor: date, tz: ZoneInfo, now: datetime, seed: int) -> None:
        self.rng = random.Random(seed + SEED_OFFSET)
        self.anchor, self.tz, self.now = anchor, tz, now

    def moment(self, days_back: int) -> datetime:
        """A moment in working hours within the last ``days_back`` days, never after now."""
        day = self.anchor - timedelta(days=self.rng.randrange(days_back))
        moment = datetime.combine(day, time(9), tzinfo=self.tz) + timedelta(seconds=self.rng.randrange(9 * 3600))
        return min(moment, self.now - timedelta(minutes=5))

    def contracts(self, account: dict[str, Any], health: float, created: date) -> list[dict[str, Any]]:
        """Consecutive terms from the account's first one; at each end before the anchor, renewed or churned
        by health; the term running at the anchor is active."""
        rng = self.rng
        # The first term starts any day of the history (not all at its beginning), so terms end in every
        # month and any period of the tab sees renewals and churn.
        start = max(created, self.anchor - timedelta(days=rng.randrange(30, HISTORY_DAYS)))
        if start >= self.anchor:
            return []
        value = int(rng.uniform(2_000, 30_000) * (0.7 + 0.6 * health)) * 100
        rows = []
        for term in range(1, 20):
            months = rng.choices([m for m, _ in TERM_MONTHS], [w for _, w in TERM_MONTHS])[0]
            end = _add_months(start, months) - timedelta(days=1)
            renews = rng.random() < 0.45 + 0.5 * health
            status = "active" if end >= self.anchor else ("renewed" if renews else "churned")
            rows.append(
                {
                    "external_id": f"CON-{account['external_id']}-{term}",
                    "account": account["external_id"],
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "monthly_value": _cents(value),
                    "status": status,
                }
            )
            if status != "renewed":
                break
            start, value = end + timedelta(days=1), int(value * rng.uniform(1.0, 1.15)) // 100 * 100
        return rows

    def score(self, kind: str, health: float) -> int:
        rng = self.rng
        if kind == "nps":
            roll = rng.random()
            if roll < 0.15 + 0.65 * health:
                return rng.choice([9, 10])
            if roll < 0.45 + 0.45 * health:
                return rng.choice([7, 8])
            return rng.randrange(0, 7)
        if kind == "ces":  # 1 (very hard) … 7 (very easy)
            return max(1, min(7, round(rng.gauss(2.5 + 4 * health, 1.0))))
        return max(1, min(5, round(rng.gauss(1.8 + 3.2 * health, 0.8))))

    def feedback_text(self, chinese: bool, health: float) -> str:
        rng = self.rng
        roll = rng.random()
        sentiment = (
            "positive" if roll < 0.15 + 0.55 * health else "neutral" if roll < 0.45 + 0.4 * health else "negative"
        )
        pool = [text for text, s in (CHINESE_FEEDBACK if chinese else ENGLISH_FEEDBACK) if s == sentiment]
        competitor = rng.choice(CHINESE_COMPETITORS if chinese else ENGLISH_COMPETITORS)
        return rng.choice(pool).replace("{c}", competitor)


def _health(rng: random.Random, skill: float | None) -> float:
    base = 0.25 if skill is None else 0.3 + 0.55 * skill
    return min(1.0, max(0.0, base + rng.uniform(-0.2, 0.2)))


def _chinese(name: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in name)


def perception_plan(
    *,
    accounts: Sequence[dict[str, Any]],
    skill: dict[str, float],
    anchor: date,
    tz: ZoneInfo,
    now: datetime,
    seed: int = 42,
) -> dict[str, list[dict[str, Any]]]:
    """The perception records of the demo's ``accounts`` (their batch items), per kind in ``KINDS``
    order; ``skill``: the reps' skill (``demo.records.skills``) by external id."""
    builder = _Builder(anchor=anchor, tz=tz, now=now, seed=seed)
    rng = builder.rng
    plan: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    customers = [a for a in accounts if a.get("status", "active") == "active"]
    health = {a["external_id"]: _health(rng, skill.get(a["owner"]) if a.get("owner") else None) for a in customers}
    contacts = {a["external_id"]: [f"C-{a['external_id']}-{n}" for n in range(1, rng.randint(2, 5))] for a in customers}
    for account in customers:
        created = datetime.fromisoformat(account["created_at"]).date()
        plan["contracts"] += builder.contracts(account, health[account["external_id"]], created)
    for number in range(1, 1 + 5 * len(customers)):
        account = rng.choice(customers)
        kind = rng.choices(["nps", "ces", "csat"], [50, 20, 30])[0]
        plan["surveys"].append(
            {
                "external_id": f"SUR-{number:05d}",
                "account": account["external_id"],
                "contact": rng.choice(contacts[account["external_id"]]),
                "kind": kind,
                "score": builder.score(kind, health[account["external_id"]]),
                "responded_at": builder.moment(SURVEY_DAYS).isoformat(timespec="seconds"),
            }
        )
    month = date(anchor.year, anchor.month, 1)
    for back in range(12):  # the team's programme each month, and a save offer for the least healthy accounts
        period = _add_months(month, -back)
        plan["retention-spend"].append(
            {"external_id": f"RET-{period:%Y-%m}-TEAM", "period": f"{period:%Y-%m}",
             "amount": _cents(rng.randrange(18_000, 30_000) * 100)}
        )  # fmt: skip
    at_risk = sorted(customers, key=lambda a: health[a["external_id"]])[: max(1, len(customers) // 10)]
    for account in at_risk:
        period = _add_months(month, -rng.randrange(6))
        plan["retention-spend"].append(
            {"external_id": f"RET-{period:%Y-%m}-{account['external_id']}", "period": f"{period:%Y-%m}",
             "amount": _cents(rng.randrange(1_000, 5_000) * 100), "account": account["external_id"]}
        )  # fmt: skip
    for number in range(1, 1 + 3 * len(customers)):
        account = rng.choice(customers)
        external_id = account["external_id"]
        plan["feedback"].append(
            {
                "external_id": f"FB-{number:05d}",
                "account": external_id if rng.random() < 0.95 else None,
                "contact": rng.choice(contacts[external_id]) if rng.random() < 0.85 else "",
                "channel": rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0],
                "text": builder.feedback_text(_chinese(account["name"]), health[external_id]),
                "received_at": builder.moment(FEEDBACK_DAYS).isoformat(timespec="seconds"),
            }
        )
    return plan
