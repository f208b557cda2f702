"""Deterministic demo CRM records for the ``zylker`` workspace (``manage.py seed_demo``): accounts,
products, deals with line items and stage histories, activities and targets, as the items of
``POST /api/v1/records/<kind>/batch`` (strings and numbers, amounts as decimal strings), so that
they go in through the same validation and upsert as real records.

What makes them consistent with the demo's CRM users and their events:

* The sales team is the demo's CRM users whose role is "Sales Rep" (not deactivated, registered
  before the window; at most ``TEAM_SIZE`` of them, drawn with the seed). Every deal and activity
  is owned by one of them.
* Each rep's *skill* is their rank in the team by CRM usage (attendance days and interactions in
  the demo's events, ranks averaged): 0 for the lightest user, 1 for the heaviest. Heavier users
  get more deals, a higher win rate, larger deals and more activities, each with a little personal
  noise, so the Adoption × outcome page finds a clearly positive rank correlation without it being
  perfect, and the heavy users' wider use of features shows as a feature gap between the top and
  bottom quartiles.
* Deals close over the demo's window (month ends busier); open deals close up to ``FUTURE_DAYS``
  after today. The data has the flaws the Sales tab's clean-house page looks for: open deals past
  their close date, deals without an amount or a close date, stuck deals (no stage change for over
  30 days), idle deals (no activity for over 14 days), accounts without an owner and three pairs
  of likely duplicate accounts ("Zylker Tech Co., Ltd." / "Zylker Tech Ltd", "智云科技有限公司" /
  "智云科技", "Acme Industrial GmbH" / "ACME Industrial").
* Products are Zylker's (seed 001: an education company selling executive courses to enterprises):
  courses, platform seats, workshops, certification and support; AI, cybersecurity and ESG courses
  are rising over the window, two older courses falling.
* Targets: a team row per month from the window's first month to ``TARGET_MONTHS_AHEAD`` months
  after today's, and a row per rep for the last three months, sized from what the team sells.

Everything comes from one ``random.Random``: the same seed, team, usage, anchor day and window give
the same records.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

KINDS = ("products", "accounts", "deals", "activities", "targets")  # the order references need

ACCOUNTS = 120
DEALS = 600
ACTIVITIES = 3000
TEAM_SIZE = 24
FUTURE_DAYS = 100  # open deals close up to this many days after today
TARGET_MONTHS_AHEAD = 3
SEED_OFFSET = 19  # the records' stream, apart from the events' (issue 19)

# Stage, probability (%) and default forecast category; won and lost after the open stages.
OPEN_STAGES = [
    ("Qualification", 10, "pipeline"),
    ("Needs Analysis", 25, "pipeline"),
    ("Proposal", 50, "best_case"),
    ("Negotiation", 75, "commit"),
]
WON_STAGE = ("Closed Won", 100, "commit")
LOST_STAGE = ("Closed Lost", 0, "omitted")

# external id, name, category, unit price (cents), quantity range, trend over the window (+1 rising)
PRODUCTS: list[tuple[str, str, str, int, tuple[int, int], int]] = [
    ("PRD-C01", "Executive Leadership Programme", "Courses", 350_000, (5, 40), 0),
    ("PRD-C02", "Data-Driven Decision Making", "Courses", 180_000, (8, 60), 0),
    ("PRD-C03", "Strategic Finance for Managers", "Courses", 220_000, (5, 40), -1),
    ("PRD-C04", "Digital Transformation Essentials", "Courses", 160_000, (10, 80), 0),
    ("PRD-C05", "AI for Business Leaders", "Courses", 260_000, (8, 60), 1),
    ("PRD-C06", "Negotiation Mastery", "Courses", 140_000, (6, 40), 0),
    ("PRD-C07", "Cybersecurity for Executives", "Courses", 210_000, (5, 40), 1),
    ("PRD-C08", "ESG and Sustainable Strategy", "Courses", 190_000, (5, 40), 1),
    ("PRD-C09", "Agile Leadership", "Courses", 120_000, (10, 60), -1),
    ("PRD-C10", "Change Management", "Courses", 130_000, (8, 50), 0),
    ("PRD-C11", "Supply Chain Resilience", "Courses", 170_000, (5, 30), 0),
    ("PRD-C12", "Customer-Centric Growth", "Courses", 150_000, (8, 50), 0),
    ("PRD-S01", "Learning Platform Seat (annual)", "Seats", 24_000, (20, 400), 0),
    ("PRD-S02", "Learning Platform Seat (monthly)", "Seats", 2_500, (10, 200), 0),
    ("PRD-S03", "Enterprise Seat Pack (50)", "Seats", 950_000, (1, 3), 0),
    ("PRD-S04", "Enterprise Seat Pack (200)", "Seats", 3_200_000, (1, 2), 0),
    ("PRD-W01", "On-site Workshop (1 day)", "Workshops", 650_000, (1, 4), 0),
    ("PRD-W02", "Virtual Workshop (half day)", "Workshops", 220_000, (1, 6), 0),
    ("PRD-W03", "Custom Curriculum Design", "Workshops", 1_500_000, (1, 1), 0),
    ("PRD-T01", "Certification Exam Voucher", "Certification", 25_000, (5, 80), 0),
    ("PRD-T02", "Assessment Centre", "Certification", 400_000, (1, 3), 0),
    ("PRD-L01", "Content Library Licence", "Content", 1_200_000, (1, 1), 0),
    ("PRD-P01", "Standard Support", "Support", 240_000, (1, 1), 0),
    ("PRD-P02", "Premium Support", "Support", 720_000, (1, 1), 0),
    ("PRD-P03", "Dedicated Success Manager", "Support", 1_800_000, (1, 1), 0),
]
MAIN_CATEGORY_WEIGHTS = {"Courses": 50, "Seats": 22, "Workshops": 14, "Certification": 7, "Content": 7}

# (stem, industry). Every stem is its own duplicate key, whatever legal suffix it gets.
ENGLISH = [
    ("Northwind Traders", "Retail"), ("Blue Harbor Logistics", "Logistics"), ("Summit Peak Capital", "Financial Services"),
    ("Crescent Health Partners", "Healthcare"), ("Ironbridge Manufacturing", "Manufacturing"),
    ("Silverline Telecom", "Telecommunications"), ("Greenfield Energy", "Energy"), ("Brightpath Learning", "Education"),
    ("Oakridge Financial", "Financial Services"), ("Redwood Analytics", "Technology"), ("Pioneer Retail Group", "Retail"),
    ("Atlas Engineering", "Manufacturing"), ("Nimbus Cloud Services", "Technology"), ("Harborview Hospitals", "Healthcare"),
    ("Keystone Insurance", "Financial Services"), ("Lumen Media", "Media"), ("Vertex Semiconductors", "Technology"),
    ("Cobalt Mining", "Energy"), ("Evergreen Foods", "Retail"), ("Falcon Aerospace", "Manufacturing"),
    ("Granite Construction Partners", "Construction"), ("Horizon Airlines", "Logistics"),
    ("Juniper Pharmaceuticals", "Healthcare"), ("Kestrel Security", "Technology"), ("Lighthouse Consulting", "Professional Services"),
    ("Meridian Hotels", "Hospitality"), ("Northstar Automotive", "Manufacturing"), ("Orchid Biotech", "Healthcare"),
    ("Pinnacle Software", "Technology"), ("Quantum Devices", "Technology"), ("Riverside Utilities", "Energy"),
    ("Sapphire Fashion", "Retail"), ("Tidewater Shipping", "Logistics"), ("Westbrook Bank", "Financial Services"),
    ("Vanguard Chemicals", "Manufacturing"), ("Zenith Electronics", "Technology"), ("Alder & Finch Legal", "Professional Services"),
    ("Beacon Telecom", "Telecommunications"), ("Cedar Point Realty", "Construction"), ("Delta Freight", "Logistics"),
    ("Emerald Agritech", "Manufacturing"), ("Gemini Payments", "Financial Services"), ("Helios Solar", "Energy"),
    ("Kinetic Robotics", "Technology"), ("Lotus Wellness", "Healthcare"), ("Onyx Data Centres", "Technology"),
    ("Polaris Education Trust", "Education"), ("Quill Publishing", "Media"), ("Rainier Medical Devices", "Healthcare"),
    ("Solstice Renewables", "Energy"), ("Titan Heavy Industries", "Manufacturing"), ("Harbourside Public Services", "Government"),
    ("Copperleaf Insurance", "Financial Services"), ("Fjord Maritime", "Logistics"), ("Indigo Apparel", "Retail"),
    ("Maple Grove Schools", "Education"), ("Sterling Advisory", "Professional Services"),
]  # fmt: skip
CHINESE = [
    ("华信科技", "Technology"), ("远航物流", "Logistics"), ("海润能源", "Energy"), ("金桥证券", "Financial Services"),
    ("天成制造", "Manufacturing"), ("瑞康医疗", "Healthcare"), ("星河传媒", "Media"), ("鼎盛地产", "Construction"),
    ("宏图教育", "Education"), ("长风汽车", "Manufacturing"), ("蓝海电子", "Technology"), ("青松食品", "Retail"),
    ("博雅咨询", "Professional Services"), ("云帆软件", "Technology"), ("恒泰保险", "Financial Services"),
    ("新元零售", "Retail"), ("锦程旅游", "Hospitality"), ("安信网络安全", "Technology"), ("启明生物", "Healthcare"),
    ("德润化工", "Manufacturing"), ("万通电信", "Telecommunications"), ("嘉禾农业", "Manufacturing"),
    ("海岳航运", "Logistics"), ("百川水务", "Energy"), ("正和律师事务所", "Professional Services"),
    ("凯达机械", "Manufacturing"), ("腾龙游戏", "Media"), ("华美服饰", "Retail"), ("晨光乳业", "Retail"),
    ("广源物产", "Retail"), ("盛世文化", "Media"), ("优品电商", "Retail"), ("银河数据", "Technology"),
    ("鸿运快递", "Logistics"), ("卓越教育", "Education"), ("泰和医药", "Healthcare"), ("中天建设", "Construction"),
    ("润物环保", "Energy"), ("凌云航空", "Logistics"), ("佳美家居", "Retail"), ("天河通信", "Telecommunications"),
    ("新锐半导体", "Technology"), ("和信金融", "Financial Services"), ("飞鸿电器", "Manufacturing"),
    ("盈科资本", "Financial Services"), ("绿洲能源", "Energy"), ("金鼎珠宝", "Retail"), ("乐享餐饮", "Hospitality"),
    ("联创工业", "Manufacturing"), ("北辰置业", "Construction"), ("九州医疗", "Healthcare"), ("星辰科技", "Technology"),
    ("海纳百货", "Retail"), ("墨香出版", "Media"), ("瑞丰信贷", "Financial Services"), ("东岳政务服务", "Government"),
    ("浦江职业学院", "Education"),
]  # fmt: skip
# The likely duplicates: (name, industry, country), one list per duplicate key.
DUPLICATES = [
    [("Zylker Tech Co., Ltd.", "Technology", "SG"), ("Zylker Tech Ltd", "Technology", "SG")],
    [("智云科技有限公司", "Technology", "CN"), ("智云科技", "Technology", "CN")],
    [("Acme Industrial GmbH", "Manufacturing", "DE"), ("ACME Industrial", "Manufacturing", "DE")],
]
ENGLISH_COUNTRIES = [("US", 24), ("GB", 14), ("SG", 14), ("DE", 10), ("IN", 12), ("JP", 8), ("HK", 10), ("AU", 8)]
CHINESE_COUNTRIES = [("CN", 84), ("HK", 10), ("SG", 6)]
LEGAL_SUFFIXES = {
    "US": ["Inc.", "LLC", "Corp.", ""], "GB": ["Ltd", "plc", "Limited"], "SG": ["Pte. Ltd.", "Pte Ltd"],
    "DE": ["GmbH", "AG"], "IN": ["Pvt. Ltd.", "Limited"], "JP": ["Co., Ltd.", "K.K."], "HK": ["Limited", "Ltd"],
    "AU": ["Pty Ltd", "Ltd"],
}  # fmt: skip
CITIES = ["北京", "上海", "深圳市", "广州市", "杭州", "苏州", "成都", "南京"]

ACTIVITY_KINDS = [("email", 32), ("call", 26), ("meeting", 18), ("message", 14), ("task", 10)]
DEAL_ACTIVITY_SHARE = 0.7  # of the activities; the others are about an account only, or nothing
COMPLETED_SHARE = 0.93
DORMANT_SHARE = 0.12
OWNERLESS_ACCOUNTS = 2
MISSING_AMOUNT_SHARE = 0.03
OPEN_SHARE = 0.38
PAST_DUE_SHARE = 0.09  # of the open deals
NO_CLOSE_DATE_SHARE = 0.04  # of the open deals
STUCK_SHARE = 0.12  # of the open deals: no stage change for 35–90 days
IDLE_SHARE = 0.12  # of the other open deals: no activity in the last 15 days or more


@dataclass(frozen=True)
class RepUsage:
    """A member of the sales team and their CRM usage over the demo's window."""

    external_id: str
    attendance_days: int
    interactions: int


@dataclass
class _Rep:
    external_id: str
    skill: float  # 0 (the lightest CRM user of the team) … 1 (the heaviest)
    deal_weight: float
    win_rate: float
    size: float  # deal-size multiplier
    activity_weight: float
    accounts: list[int] = field(default_factory=list)


@dataclass
class _Deal:
    index: int
    owner: _Rep
    account: int
    created: datetime
    close: date | None
    state: str
    stage: int  # index into OPEN_STAGES for open deals; the last stage reached for lost ones
    history: list[tuple[str, datetime]]
    lines: list[tuple[str, int, int]]  # product external id, quantity, cents
    amount: int | None
    forecast: str
    probability: int
    stage_name: str
    idle: bool = False
    name: str = ""


def skills(usage: Sequence[RepUsage]) -> dict[str, float]:
    """Each rep's rank by CRM usage, from 0 to 1: the average of their ranks by attendance days and by
    interactions (ties by external id), scaled to the team."""
    n = len(usage)
    if n == 1:
        return {usage[0].external_id: 0.5}
    by_days = sorted(usage, key=lambda u: (u.attendance_days, u.interactions, u.external_id))
    by_events = sorted(usage, key=lambda u: (u.interactions, u.attendance_days, u.external_id))
    rank: dict[str, float] = defaultdict(float)
    for ordered in (by_days, by_events):
        for position, u in enumerate(ordered):
            rank[u.external_id] += position / 2
    final = sorted(usage, key=lambda u: (rank[u.external_id], u.external_id))
    return {u.external_id: position / (n - 1) for position, u in enumerate(final)}


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


class _Builder:
    def __init__(
        self, *, team: Sequence[RepUsage], anchor: date, days: int, tz: ZoneInfo, now: datetime, seed: int
    ) -> None:
        if not team:
            raise ValueError("The demo's records need at least one CRM user to own them.")
        self.rng = random.Random(seed + SEED_OFFSET)
        self.anchor, self.tz, self.now = anchor, tz, now
        self.first = anchor - timedelta(days=days - 1)
        self.days = days
        skill = skills(team)
        rng = self.rng
        self.reps = []
        for u in sorted(team, key=lambda u: u.external_id):
            s = skill[u.external_id]
            self.reps.append(
                _Rep(
                    external_id=u.external_id,
                    skill=s,
                    deal_weight=(0.5 + 1.5 * s) * rng.uniform(0.85, 1.15),
                    win_rate=min(0.8, max(0.08, 0.2 + 0.45 * s + rng.uniform(-0.05, 0.05))),
                    size=(0.85 + 0.4 * s) * rng.uniform(0.92, 1.08),
                    activity_weight=(0.3 + 1.7 * s) * rng.uniform(0.85, 1.15),
                )
            )

    # --- moments ------------------------------------------------------------------------------------

    def at_work(self, day: date) -> datetime:
        """A moment in working hours (09:00–18:00 local) of ``day``, never after now."""
        moment = datetime.combine(day, time(9), tzinfo=self.tz) + timedelta(seconds=self.rng.randrange(9 * 3600))
        return min(moment, self.now - timedelta(minutes=5))

    def between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        return start + timedelta(seconds=self.rng.uniform(0, (end - start).total_seconds()))

    def close_day(self) -> date:
        """A close date in the window: business days, busier at the end of a month (and more so of a quarter)."""
        rng = self.rng
        while True:
            day = self.first + timedelta(days=rng.randrange(self.days))
            weight = 0.15 if day.weekday() >= 5 else 1.0
            to_month_end = (_next_month(day) - day).days
            if to_month_end <= 5:
                weight *= 2.2 if day.month % 3 == 0 else 1.6
            if rng.random() * 3.5 < weight:
                return day

    # --- accounts -----------------------------------------------------------------------------------

    def accounts(self, count: int) -> list[dict[str, Any]]:
        rng = self.rng
        duplicates = [row for group in DUPLICATES for row in group]
        plain = count - len(duplicates)
        if plain < 0:
            raise ValueError(f"At least {len(duplicates)} accounts.")
        english, chinese = ENGLISH[:], CHINESE[:]
        rng.shuffle(english)
        rng.shuffle(chinese)
        stems: list[tuple[str, str, bool]] = []
        for i in range(plain):  # about half Chinese
            pool, is_chinese = (chinese, True) if i % 2 == 0 and chinese else (english, False)
            if not pool:
                pool, is_chinese = (chinese, True) if chinese else (english, False)
            if pool:
                stem, industry = pool.pop()
            else:
                stem, industry, is_chinese = f"Zylker Customer {i + 1}", "Professional Services", False
            stems.append((stem, industry, is_chinese))
        rows: list[tuple[str, str, str]] = []
        for stem, industry, is_chinese in stems:
            if is_chinese:
                country = rng.choices([c for c, _ in CHINESE_COUNTRIES], [w for _, w in CHINESE_COUNTRIES])[0]
                prefix = rng.choice(CITIES) if rng.random() < 0.3 and country == "CN" else ""
                suffix = rng.choices(["有限公司", "股份有限公司", "集团", ""], [60, 20, 10, 10])[0]
                if stem.endswith(("所", "学院", "服务")):
                    suffix = ""
                name = f"{prefix}{stem}{suffix}"
            else:
                country = rng.choices([c for c, _ in ENGLISH_COUNTRIES], [w for _, w in ENGLISH_COUNTRIES])[0]
                suffix = rng.choice(LEGAL_SUFFIXES[country])
                name = f"{stem} {suffix}".strip()
            rows.append((name, industry, country))
        # The duplicates go in at random places, the second of a pair later (another rep created it again).
        for group in DUPLICATES:
            for row in group:
                rows.insert(rng.randrange(len(rows) + 1), row)
        self.account_rows: list[dict[str, Any]] = []
        self.active_accounts: list[int] = []
        self.account_created: list[datetime] = []
        owner_weights = [0.6 + r.skill for r in self.reps]
        ownerless = set(rng.sample(range(count), min(OWNERLESS_ACCOUNTS, count)))
        for index, (name, industry, country) in enumerate(rows):
            if rng.random() < 0.3:  # acquired in the last year
                created_day = self.anchor - timedelta(days=rng.randrange(1, 366))
            else:
                created_day = self.anchor - timedelta(days=rng.randrange(366, 3 * 365))
            created = self.at_work(created_day)
            dormant = created_day < self.anchor - timedelta(days=365) and rng.random() < DORMANT_SHARE * 1.4
            owner = None if index in ownerless else rng.choices(self.reps, owner_weights)[0]
            if owner is not None:
                owner.accounts.append(index)
            if not dormant:
                self.active_accounts.append(index)
            self.account_created.append(created)
            self.account_rows.append(
                {
                    "external_id": f"ACC-{index + 1:04d}",
                    "name": name,
                    "industry": industry,
                    "country": country,
                    "owner": owner.external_id if owner else None,
                    "created_at": created,
                    "status": "dormant" if dormant else "active",
                }
            )
        return self.account_rows

    # --- deals --------------------------------------------------------------------------------------

    def _lines(self, rep: _Rep, when: date) -> list[tuple[str, int, int]]:
        rng = self.rng
        progress = (when - self.first).days / max(1, self.days - 1)  # 0 … 1 over the window (beyond: more)
        category = rng.choices(list(MAIN_CATEGORY_WEIGHTS), list(MAIN_CATEGORY_WEIGHTS.values()))[0]
        choices = [p for p in PRODUCTS if p[2] == category]
        weights = [max(0.1, 1 + 1.6 * trend * (progress - 0.35)) for *_, trend in choices]
        main = rng.choices(choices, weights)[0]
        picked = [main]
        if rng.random() < 0.4:
            picked.append(rng.choices([p for p in PRODUCTS if p[2] == "Support"], [6, 3, 1])[0])
        if category == "Courses" and rng.random() < 0.25:
            picked.append(next(p for p in PRODUCTS if p[0] == "PRD-T01"))
        lines = []
        discount = rng.choice([0, 0, 0, 5, 8, 10, 12, 15])
        for external_id, _name, _category, price, (low, high), _trend in picked:
            quantity = max(low, min(high, round(low + (high - low) * rng.betavariate(1.4, 3.0) * rep.size)))
            cents = price * quantity * (100 - discount) // 100
            lines.append((external_id, quantity, cents))
        return lines

    def _history(self, created: datetime, stages: list[str], last_at: datetime) -> list[tuple[str, datetime]]:
        """The stages in order: the first at creation, the last at ``last_at``, the others between."""
        if len(stages) == 1:
            return [(stages[0], created)]
        cuts = sorted(self.between(created, last_at) for _ in range(len(stages) - 2))
        return list(zip(stages, [created, *cuts, last_at], strict=True))

    def deals(self, count: int) -> list[_Deal]:
        rng = self.rng
        deal_weights = [r.deal_weight for r in self.reps]
        active = set(self.active_accounts)
        anchor_start = datetime.combine(self.anchor, time.min, tzinfo=self.tz)
        deals: list[_Deal] = []
        n_open = round(count * OPEN_SHARE)
        kinds = ["open"] * n_open + ["closed"] * (count - n_open)
        rng.shuffle(kinds)
        for index, kind in enumerate(kinds):
            rep = rng.choices(self.reps, deal_weights)[0]
            mine = [a for a in rep.accounts if a in active]
            if mine and rng.random() < 0.85:
                account = rng.choice(mine)
            else:
                account = rng.choice(self.active_accounts or list(range(len(self.account_rows))))
            if kind == "closed":
                close = self.close_day()
                cycle = min(150, max(5, round(rng.lognormvariate(math.log(35), 0.55))))
                created = self.at_work(close - timedelta(days=cycle))
                closed_at = max(created, self.at_work(close))
                if rng.random() < rep.win_rate:
                    state, reached = "won", len(OPEN_STAGES) - 1
                    stages = [s for s, _, _ in OPEN_STAGES] + [WON_STAGE[0]]
                    stage_name, probability, forecast = WON_STAGE
                else:
                    state, reached = "lost", rng.choices(range(len(OPEN_STAGES)), [30, 30, 25, 15])[0]
                    stages = [s for s, _, _ in OPEN_STAGES[: reached + 1]] + [LOST_STAGE[0]]
                    stage_name, probability, forecast = LOST_STAGE
                history = self._history(created, stages, closed_at)
                close_date: date | None = close
            else:
                state = "open"
                stuck = rng.random() < STUCK_SHARE
                reached = rng.choices(range(len(OPEN_STAGES)), [30, 26, 24, 20])[0]
                if stuck:  # older, its last stage change 35–90 days ago
                    created = self.at_work(self.anchor - timedelta(days=rng.randrange(40, 120)))
                    last_at = min(
                        anchor_start - timedelta(days=35),
                        self.between(created, created + timedelta(days=rng.randrange(0, 30))),
                    )
                    last_at = max(created, last_at)
                else:
                    # Open pipeline is young: the later in the window, the more deals created then; a
                    # deal still in its first stage is at most 25 days old.
                    span = min(self.days - 1, 25) if reached == 0 else self.days - 1
                    created = self.at_work(self.anchor - timedelta(days=1 + round(span * rng.random() ** 1.6)))
                    if created.astimezone(self.tz).date() < self.first:
                        created = self.at_work(self.first)
                    recent = max(created, anchor_start - timedelta(days=25))
                    last_at = self.between(recent, min(self.now, anchor_start + timedelta(hours=18)))
                stages = [s for s, _, _ in OPEN_STAGES[: reached + 1]]
                history = self._history(created, stages, last_at) if reached else [(stages[0], created)]
                stage_name, probability, forecast = OPEN_STAGES[reached]
                r = rng.random()
                if forecast == "best_case" and r < 0.15:
                    forecast = "commit"
                elif forecast == "pipeline" and reached == 1 and r < 0.12:
                    forecast = "best_case"
                elif r > 0.94:
                    forecast = "omitted"
                r = rng.random()
                created_day = created.astimezone(self.tz).date()
                if r < NO_CLOSE_DATE_SHARE:
                    close_date = None
                elif r < NO_CLOSE_DATE_SHARE + PAST_DUE_SHARE or stuck and r < 0.5:
                    close_date = max(created_day, self.anchor - timedelta(days=rng.randrange(1, 45)))
                    if close_date >= self.anchor:
                        close_date = self.anchor - timedelta(days=1)
                else:
                    close_date = self.anchor + timedelta(days=rng.randrange(1, FUTURE_DAYS + 1))
                if close_date is not None and close_date < created_day:
                    close_date = created_day
            lines = self._lines(rep, close_date or self.anchor)
            amount: int | None = sum(c for _, _, c in lines)
            early = state == "open" and reached == 0
            if rng.random() < MISSING_AMOUNT_SHARE * (3 if early else 0.6):
                amount, lines = None, []
            deals.append(
                _Deal(
                    index=index, owner=rep, account=account, created=created, close=close_date, state=state,
                    stage=reached, history=history, lines=lines, amount=amount, forecast=forecast,
                    probability=probability, stage_name=stage_name,
                )
            )  # fmt: skip
        # An account is created before its first deal.
        for deal in deals:
            if deal.created <= self.account_created[deal.account]:
                moment = self.at_work((deal.created - timedelta(days=rng.randrange(3, 60))).astimezone(self.tz).date())
                self.account_created[deal.account] = moment
                self.account_rows[deal.account]["created_at"] = moment
        # Idle: open deals whose activities stop 15 or more days ago (every stuck deal is idle too).
        idle_cutoff = anchor_start - timedelta(days=15)
        for deal in deals:
            if deal.state != "open":
                continue
            stuck = deal.history[-1][1] < anchor_start - timedelta(days=30)
            if stuck or (deal.created < idle_cutoff - timedelta(days=5) and rng.random() < IDLE_SHARE):
                deal.idle = True
        names = self.account_rows
        for deal in deals:
            main = next((p[1] for p in PRODUCTS if deal.lines and p[0] == deal.lines[0][0]), "Discovery")
            label = rng.choice(["", "", "Renewal: ", "Expansion: ", "Pilot: "])
            deal.name = f"{label}{names[deal.account]['name']} – {main}"
        self.deal_list = deals
        return deals

    def deal_items(self) -> list[dict[str, Any]]:
        return [
            {
                "external_id": f"DEAL-{d.index + 1:05d}",
                "account": self.account_rows[d.account]["external_id"],
                "name": d.name,
                "owner": d.owner.external_id,
                "amount": None if d.amount is None else _cents(d.amount),
                "stage": d.stage_name,
                "probability": d.probability,
                "forecast_category": d.forecast,
                "created_at": d.created,
                "close_date": d.close,
                "state": d.state,
                "line_items": [{"product": p, "quantity": q, "amount": _cents(c)} for p, q, c in d.lines],
                "stage_history": [{"stage": s, "entered_at": t} for s, t in d.history],
            }
            for d in self.deal_list
        ]

    # --- activities ---------------------------------------------------------------------------------

    def _alive(self, deal: _Deal) -> tuple[datetime, datetime]:
        """When the deal can have completed activities inside the window."""
        first_start = datetime.combine(self.first, time(9), tzinfo=self.tz)
        start = max(deal.created, first_start)
        if deal.state == "open":
            end = self.now - timedelta(minutes=10)
            if deal.idle:
                end = min(end, datetime.combine(self.anchor - timedelta(days=15), time(18), tzinfo=self.tz))
        else:
            end = deal.history[-1][1]
        return start, max(start, end)

    def activities(self, count: int) -> list[dict[str, Any]]:
        rng = self.rng
        kinds, kind_weights = [k for k, _ in ACTIVITY_KINDS], [w for _, w in ACTIVITY_KINDS]
        alive = [self._alive(d) for d in self.deal_list]
        weights = [
            d.owner.activity_weight * max(0.5, (end - start).total_seconds() / 86400) ** 0.7
            for d, (start, end) in zip(self.deal_list, alive, strict=True)
        ]
        n_deal = round(count * DEAL_ACTIVITY_SHARE) if self.deal_list else 0
        # An open deal that is not idle was touched in the last 13 days; the rest by weight.
        recent = datetime.combine(self.anchor - timedelta(days=13), time(9), tzinfo=self.tz)
        touched = [i for i, d in enumerate(self.deal_list) if d.state == "open" and not d.idle][:n_deal]
        picked = [(i, True) for i in touched]
        if n_deal > len(touched):
            more = rng.choices(range(len(self.deal_list)), weights, k=n_deal - len(touched))
            picked += [(i, False) for i in more]
        rows: list[tuple[datetime, dict[str, Any]]] = []
        for index, lately in picked:
            deal = self.deal_list[index]
            start, end = alive[index]
            moment = self.between(max(start, recent) if lately else start, end)
            rows.append(
                (
                    moment,
                    {
                        "kind": rng.choices(kinds, kind_weights)[0],
                        "owner": deal.owner.external_id,
                        "account": self.account_rows[deal.account]["external_id"],
                        "deal": f"DEAL-{deal.index + 1:05d}",
                    },
                )
            )
        rep_weights = [r.activity_weight for r in self.reps]
        active = set(self.active_accounts)
        window_start = datetime.combine(self.first, time(9), tzinfo=self.tz)
        for _ in range(count - n_deal):
            rep = rng.choices(self.reps, rep_weights)[0]
            account = None
            mine = [a for a in rep.accounts if a in active]
            if mine and rng.random() < 0.75:
                account = self.account_rows[rng.choice(mine)]["external_id"]
            moment = self.between(window_start, self.now - timedelta(minutes=10))
            kind = rng.choices(kinds, kind_weights)[0] if account else rng.choice(["task", "email", "message"])
            rows.append((moment, {"kind": kind, "owner": rep.external_id, "account": account, "deal": None}))
        rows.sort(key=lambda r: (r[0], r[1]["owner"]))
        items = []
        for number, (moment, row) in enumerate(rows, start=1):
            local = moment.astimezone(self.tz)
            if local.hour < 8 or local.hour >= 20:  # move it into working hours, on the same day
                moment = self.at_work(local.date())
            completed = rng.random() < COMPLETED_SHARE
            if not completed and row["kind"] in ("meeting", "task", "call") and rng.random() < 0.6:
                # planned: due in the next two weeks (the others are overdue)
                due = self.anchor + timedelta(days=rng.randrange(1, 15))
                moment = datetime.combine(due, time(9), tzinfo=self.tz) + timedelta(minutes=30 * rng.randrange(18))
            items.append({"external_id": f"ACT-{number:06d}", **row, "occurred_at": moment, "completed": completed})
        return items

    # --- products and targets -----------------------------------------------------------------------

    @staticmethod
    def products() -> list[dict[str, Any]]:
        return [{"external_id": p[0], "name": p[1], "category": p[2]} for p in PRODUCTS]

    def targets(self) -> list[dict[str, Any]]:
        """A team row per month (quota and pipeline target from what the team closes and creates over the
        window, growing 3 % a month) and a row per rep for the last three months."""
        won = sum(d.amount or 0 for d in self.deal_list if d.state == "won")
        first_start = datetime.combine(self.first, time.min, tzinfo=self.tz)
        generated = sum(d.amount or 0 for d in self.deal_list if d.created >= first_start)
        per_month = 30 / self.days
        quota_base = max(100_000_00, int(round(won * per_month * 1.05, -6)))
        pipeline_base = max(300_000_00, int(round(generated * per_month * 1.1, -6)))
        months = []
        month = _month(self.first)
        last = _month(self.anchor)
        for _ in range(TARGET_MONTHS_AHEAD):
            last = _next_month(last)
        while month <= last:
            months.append(month)
            month = _next_month(month)
        items: list[dict[str, Any]] = []
        current = months.index(_month(self.anchor))
        for i, month in enumerate(months):
            growth = 1.03 ** (i - current)
            items.append(
                {
                    "external_id": f"TGT-{month:%Y-%m}-TEAM",
                    "owner": None,
                    "month": f"{month:%Y-%m}",
                    "pipeline_target": _cents(int(round(pipeline_base * growth, -5))),
                    "revenue_quota": _cents(int(round(quota_base * growth, -5))),
                }
            )
        expected = [r.deal_weight * r.win_rate * r.size for r in self.reps]
        pipeline = [r.deal_weight * r.size for r in self.reps]
        for month in months[max(0, current - 2) : current + 1]:
            team = next(t for t in items if t["month"] == f"{month:%Y-%m}")
            quota = round(float(team["revenue_quota"]) * 100)
            target = round(float(team["pipeline_target"]) * 100)
            for rep, e, p in zip(self.reps, expected, pipeline, strict=True):
                items.append(
                    {
                        "external_id": f"TGT-{month:%Y-%m}-{rep.external_id}",
                        "owner": rep.external_id,
                        "month": f"{month:%Y-%m}",
                        "pipeline_target": _cents(int(round(target * p / sum(pipeline), -5))),
                        "revenue_quota": _cents(int(round(quota * e / sum(expected), -5))),
                    }
                )
        return items


def _wire(value: Any) -> Any:
    """As a client would send it: moments as ISO 8601 with offset, dates as YYYY-MM-DD."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    return value


def records_plan(
    *,
    team: Sequence[RepUsage],
    anchor: date,
    days: int,
    tz: ZoneInfo,
    now: datetime,
    seed: int = 42,
    accounts: int = ACCOUNTS,
    deals: int = DEALS,
    activities: int = ACTIVITIES,
) -> dict[str, list[dict[str, Any]]]:
    """Every demo record as batch items per kind (``KINDS`` is the order to send them in)."""
    builder = _Builder(team=team, anchor=anchor, days=days, tz=tz, now=now, seed=seed)
    plan: dict[str, list[dict[str, Any]]] = {"products": builder.products()}
    plan["accounts"] = builder.accounts(accounts)
    builder.deals(deals)
    plan["deals"] = builder.deal_items()
    plan["activities"] = builder.activities(activities)
    plan["targets"] = builder.targets()
    return {kind: [_wire(item) for item in plan[kind]] for kind in KINDS}


# Power features of the CRM, and the share of the Sales Reps (the lightest users of the role) who never
# open each: what the best sellers do differently (seed 002).
POWER_FEATURES = {"Pipelines": 0.35, "Dashboards": 0.5, "Reports": 0.6}
_BASIC_ACTIONS = {"export": ("export", "list_view"), "search": ("search", "filter"), "click": ("click", "button")}


def basics_only(users: Sequence[tuple[str, str, float]], *, seed: int = 42) -> dict[str, set[str]]:
    """For each Sales Rep among ``users`` (external id, role, activity weight), the power features
    they never use: the lighter the user among the role's, the more of them (each feature's cut-off
    blurred by ±0.15 per user)."""
    rng = random.Random(seed + SEED_OFFSET + 2)
    reps = sorted((weight, external_id) for external_id, role, weight in users if role == "Sales Rep")
    skipped: dict[str, set[str]] = {}
    for position, (_weight, external_id) in enumerate(reps):
        share = position / max(1, len(reps) - 1)
        features = {f for f, cut in POWER_FEATURES.items() if share + rng.uniform(-0.15, 0.15) < cut}
        if features:
            skipped[external_id] = features
    return skipped


def basic_event(row: Any) -> Any:
    """The event a user who never opens its (power) feature does instead: the same moment and
    outcome on the Leads list."""
    action, detail = _BASIC_ACTIONS.get(row.action, ("view", "list_view"))
    return replace(row, feature="Leads", action=action, detail=detail, record_id="")


def team_pick(candidates: Sequence[str], *, seed: int = 42, size: int = TEAM_SIZE) -> list[str]:
    """At most ``size`` of the candidates' external ids, drawn with the seed, in id order."""
    ordered = sorted(candidates)
    if len(ordered) <= size:
        return ordered
    return sorted(random.Random(seed + SEED_OFFSET + 1).sample(ordered, size))
