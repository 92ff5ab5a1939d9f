#!/usr/bin/env python3
"""Generate the Northwind sample workspace for ``cso-policy audit``.

Writes ``contracts/*.toml``, ``records/*.jsonl`` and ``expected-findings.json``
next to this file.  Deterministic: a fixed random seed, the standard library
only, no clock, no locale, no hash-ordered iteration.  Running it twice gives
byte-identical files::

    python examples/northwind/generate.py

The data is a year of engagement records for three customers: mostly
compliant with the LivePerson CSO terms, plus the deliberate deviations listed
in README.md (and, machine-readable, in expected-findings.json).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20260101
POLICY = "liveperson-cso@1.1"  # the policy version every contract pins
rng = random.Random(SEED)

D = dt.date
ONE_DAY = dt.timedelta(days=1)

# --------------------------------------------------------------------------
# Calendars (hard-coded so the generator needs no third-party package; they
# match the `holidays` package: US federal, GB with subdivision ENG).
# --------------------------------------------------------------------------
US_HOLIDAYS = [
    D(2026, 1, 1), D(2026, 1, 19), D(2026, 2, 16), D(2026, 5, 25),
    D(2026, 6, 19), D(2026, 7, 3), D(2026, 7, 4), D(2026, 9, 7),
    D(2026, 10, 12), D(2026, 11, 11), D(2026, 11, 26), D(2026, 12, 25),
    D(2027, 1, 1), D(2027, 1, 18), D(2027, 2, 15),
]
GB_ENG_HOLIDAYS = [
    D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4),
    D(2026, 5, 25), D(2026, 8, 31), D(2026, 12, 25), D(2026, 12, 26),
    D(2026, 12, 28), D(2027, 1, 1), D(2027, 3, 26), D(2027, 3, 29),
]

# --------------------------------------------------------------------------
# Contracts and packages
# --------------------------------------------------------------------------
CONTRACTS = {
    "NW-2026": dict(
        file="northwind.toml", customer="Northwind Retail",
        start=D(2026, 1, 1), end=D(2026, 12, 31), renewal_of="NW-2025",
        tz="America/New_York", holidays="US", subdiv=None,
        hol=US_HOLIDAYS, currency="USD",
        overage=dict(rate=240.0, currency="USD", agreement="SOW-114"),
    ),
    "CT-2026": dict(
        file="contoso.toml", customer="Contoso Telecom",
        start=D(2026, 2, 1), end=D(2027, 1, 31), renewal_of=None,
        tz="Europe/London", holidays="GB", subdiv="ENG",
        hol=GB_ENG_HOLIDAYS, currency="GBP", overage=None,
    ),
    "FB-2026": dict(
        file="fabrikam.toml", customer="Fabrikam Bank",
        start=D(2026, 4, 1), end=D(2027, 3, 31), renewal_of=None,
        tz="America/Chicago", holidays="US", subdiv=None,
        hol=US_HOLIDAYS, currency="USD",
        overage=dict(rate=300.0, currency="USD", agreement="MSA-7 §4"),
    ),
}

PACKAGES = {
    "nw-expert": dict(contract="NW-2026", tier="expert", lobs=["retail", "outlet"]),
    "nw-fund": dict(contract="NW-2026", tier="fundamentals", lobs=["careers"]),
    "ct-mobile": dict(contract="CT-2026", tier="premier", lobs=["mobile"]),
    "ct-broadband": dict(contract="CT-2026", tier="premier", lobs=["broadband"]),
    "fb-strat": dict(contract="FB-2026", tier="strategic", lobs=["cards", "lending", "wealth"]),
    "fb-found": dict(contract="FB-2026", tier="foundations", lobs=["insurance"]),
}

QUARTER_CAP = {"foundations": 25, "fundamentals": 65, "premier": 113, "expert": 246, "strategic": 500}
ANNUAL_CAP = {"foundations": 100, "fundamentals": 260, "premier": 455, "expert": 985, "strategic": 2000}

# Hours per contract quarter that count toward the Section 1 caps.  The
# generator fills each quarter up to exactly this number.  Planted: nw-expert
# Q2 and Q3, nw-fund Q3, ct-broadband Q4 are over the quarterly cap.
QUARTER_TARGETS = {
    "nw-expert": [112.5, 251.5, 254.0, 104.0],
    "nw-fund": [41.5, 53.0, 68.5, 30.0],
    "ct-mobile": [63.0, 54.5, 47.0, 40.5],
    "ct-broadband": [36.0, 53.5, 38.5, 118.0],
    "fb-strat": [106.5, 128.0, 97.5, 115.0],
    "fb-found": [12.0, 9.5, 11.0, 8.5],
}

# Response, periodic update, non-bug resolution (minutes) and RCA (business
# days) per (severity, tier) -- Table 8 of the terms.
H = 60
SLA = {
    ("P1", "premier"): (1 * H, 2 * H, 12 * H, 3),
    ("P1", "expert"): (30, 1 * H, 6 * H, 3),
    ("P1", "strategic"): (30, 1 * H, 6 * H, 2),
    ("P2", "premier"): (3 * H, 12 * H, 72 * H, 5),
    ("P2", "expert"): (1 * H, 6 * H, 24 * H, 3),
    ("P2", "strategic"): (1 * H, 4 * H, 24 * H, 3),
    ("P3", "premier"): (48 * H, 72 * H, 120 * H, None),
    ("P3", "expert"): (24 * H, 48 * H, 96 * H, None),
    ("P3", "strategic"): (24 * H, 48 * H, 72 * H, None),
}
# Tiers without enhanced SLAs: best-effort figures, no target applies.
BEST_EFFORT = {"P1": (2 * H, 4 * H, 24 * H), "P2": (8 * H, 24 * H, 96 * H), "P3": (72 * H, 96 * H, 240 * H)}


def pkg_of_lob(contract: str, lob: str) -> str:
    for pid, p in PACKAGES.items():
        if p["contract"] == contract and lob in p["lobs"]:
            return pid
    raise KeyError((contract, lob))


# --------------------------------------------------------------------------
# Date and time helpers
# --------------------------------------------------------------------------
def add_months(d: dt.date, k: int) -> dt.date:
    y, m = divmod(d.month - 1 + k, 12)
    return d.replace(year=d.year + y, month=m + 1)


def is_bd(d: dt.date, hol) -> bool:
    return d.weekday() < 5 and d not in hol


def next_bd(d: dt.date, hol) -> dt.date:
    while not is_bd(d, hol):
        d += ONE_DAY
    return d


def prev_bd(d: dt.date, hol) -> dt.date:
    while not is_bd(d, hol):
        d -= ONE_DAY
    return d


def add_bd(d: dt.date, n: int, hol) -> dt.date:
    while n > 0:
        d += ONE_DAY
        if is_bd(d, hol):
            n -= 1
    return d


def bds_between(a: dt.date, b: dt.date, hol) -> list:
    out, d = [], a
    while d <= b:
        if is_bd(d, hol):
            out.append(d)
        d += ONE_DAY
    return out


def month_range(contract: str, k: int):
    c = CONTRACTS[contract]
    a = add_months(c["start"], k)
    return a, add_months(c["start"], k + 1) - ONE_DAY


def quarter_range(contract: str, q: int):
    c = CONTRACTS[contract]
    return add_months(c["start"], 3 * q), add_months(c["start"], 3 * q + 3) - ONE_DAY


def quarter_of(contract: str, d: dt.date):
    c = CONTRACTS[contract]
    if not c["start"] <= d <= c["end"]:
        return None
    return ((d.year - c["start"].year) * 12 + d.month - c["start"].month) // 3


def rand_bd(contract: str, a: dt.date, b: dt.date) -> dt.date:
    c = CONTRACTS[contract]
    a, b = max(a, c["start"]), min(b, c["end"])
    return rng.choice(bds_between(a, b, c["hol"]))


def _nth_sunday(y, m, n):
    d = D(y, m, 1)
    d += dt.timedelta(days=(6 - d.weekday()) % 7)
    return d + dt.timedelta(weeks=n - 1)


def _last_sunday(y, m):
    d = add_months(D(y, m, 1), 1) - ONE_DAY
    return d - dt.timedelta(days=(d.weekday() + 1) % 7)


def utc_offset_hours(tz: str, utc: dt.datetime) -> int:
    """UTC offset in force at a naive-UTC instant (2026-2027 rules)."""
    y = utc.year
    if tz == "Europe/London":
        start = dt.datetime.combine(_last_sunday(y, 3), dt.time(1))
        end = dt.datetime.combine(_last_sunday(y, 10), dt.time(1))
        return 1 if start <= utc < end else 0
    std = {"America/New_York": -5, "America/Chicago": -6}[tz]
    start = dt.datetime.combine(_nth_sunday(y, 3, 2), dt.time(2)) - dt.timedelta(hours=std)
    end = dt.datetime.combine(_nth_sunday(y, 11, 1), dt.time(2)) - dt.timedelta(hours=std + 1)
    return std + 1 if start <= utc < end else std


def local_to_utc(tz: str, local: dt.datetime) -> dt.datetime:
    for off in sorted({utc_offset_hours(tz, local + dt.timedelta(hours=h)) for h in (-12, 12)}, reverse=True):
        utc = local - dt.timedelta(hours=off)
        if utc_offset_hours(tz, utc) == off:
            return utc
    raise ValueError(local)


def fmt_ts(tz: str, utc: dt.datetime) -> str:
    off = utc_offset_hours(tz, utc)
    local = utc + dt.timedelta(hours=off)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + ("+" if off >= 0 else "-") + "%02d:00" % abs(off)


def local_ts(contract: str, d: dt.date, hh: int, mm: int) -> str:
    tz = CONTRACTS[contract]["tz"]
    return fmt_ts(tz, local_to_utc(tz, dt.datetime.combine(d, dt.time(hh, mm))))


def office_ts(contract: str, d: dt.date) -> str:
    return local_ts(contract, d, rng.randint(9, 16), rng.choice([0, 5, 10, 15, 20, 30, 40, 45, 50]))


# --------------------------------------------------------------------------
# Record stores.  Internal keys start with "_" and are dropped on output.
# --------------------------------------------------------------------------
WORK, DELIVERIES, TICKETS, EXPENSES, SCOPES, INVOICE = [], [], [], [], [], []
PLANTED = {}  # tag -> record (dict), resolved to ids after sorting


def tag(rec: dict, name: str) -> dict:
    assert name not in PLANTED, name
    PLANTED[name] = rec
    return rec


def add_work(contract, d, lob, hours, service, *, scope=None, note=None, counted=True):
    rec = {"kind": "work", "contract": contract, "date": d, "lob": lob,
           "hours": float(hours), "service": service}
    if scope is not None:
        rec["_scope"] = scope
    if note:
        rec["note"] = note
    rec["_pkg"] = pkg_of_lob(contract, lob)
    rec["_counted"] = counted
    WORK.append(rec)
    return rec


def add_delivery(contract, d, lob, deliverable, *, international=None, note=None):
    rec = {"kind": "delivery", "contract": contract, "date": d, "lob": lob, "deliverable": deliverable}
    if international is not None:
        rec["international"] = international
    if note:
        rec["note"] = note
    rec["_pkg"] = pkg_of_lob(contract, lob)
    DELIVERIES.append(rec)
    return rec


# --------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------
NOTES = {
    "general_account_consulting": [
        "Weekly sync with contact-centre leadership", "Ad hoc request: routing rules for peak season",
        "Follow-up on open action items", "Issue management call", "Stakeholder check-in",
        "Email thread on bot handoff wording", "Prep for exec sponsor call"],
    "customer_account_plan": ["Account plan refresh", "Objectives and ROI update"],
    "customer_performance_review": ["KPI review with LOB owner", "Conversion and CSAT deep dive"],
    "industry_kpi_analysis": ["Benchmark vs. industry peers"],
    "quarterly_business_review": ["QBR deck and rehearsal", "QBR with exec sponsors"],
    "target_analysis_reports": ["Targeting review: engagement rules"],
    "monthly_business_review": ["MBR: deployment and KPI tracker"],
    "strategic_roadmap": ["Roadmap workshop with brand PMO"],
    "transcript_analysis": ["Agent-level transcript sampling"],
    "missed_opportunity_analysis": ["Staffing vs. demand curves"],
    "agent_effectiveness": ["Agent KPI scorecards"],
    "discretionary_operational_consulting": ["WFM staffing model review", "Ops best-practice session"],
    "segmentation_management": ["Visitor segment definitions"],
    "integrations": ["CRM widget configuration", "Analytics taglet configuration"],
    "reporting_customization": ["Custom report requirements"],
    "plugin_taglet_creation": ["Custom taglet build"],
    "customization": ["SDK-based engagement change"],
    "expansion": ["Deployment workstream", "Configuration and testing", "Go-live support"],
}


def note_for(service):
    if rng.random() < 0.35 and service in NOTES:
        return rng.choice(NOTES[service])
    return None


# Hours of preparation work logged for a delivery.
PREP_HOURS = {
    "customer_account_plan": [2, 2.5, 3], "customer_performance_review": [2, 2.5, 3, 3.5],
    "industry_kpi_analysis": [4, 4.5, 5, 6], "quarterly_business_review": [4, 5, 5.5, 6],
    "target_analysis_reports": [2, 2.5, 3], "monthly_business_review": [3, 3.5, 4],
    "strategic_roadmap": [4, 5, 6], "product_release_review": [2, 2.5, 3],
    "product_roadmap_review": [2, 2.5, 3], "transcript_analysis": [4, 4.5, 5, 6],
    "missed_opportunity_analysis": [3, 4, 4.5, 5], "agent_effectiveness": [3, 3.5, 4, 5],
}

# --------------------------------------------------------------------------
# Delivery schedules: (deliverable, contract months, nominal day of month).
# All within the tier's frequency limits (periods anchored to term start).
# --------------------------------------------------------------------------
EVERY = list(range(12))
SCHEDULES = {
    "nw-expert": [
        ("customer_account_plan", EVERY, 5),
        ("customer_performance_review", [1, 4, 7, 10], 12),
        ("industry_kpi_analysis", [2, 8], 16),
        ("quarterly_business_review", [2, 5, 8, 11], 20),
        ("target_analysis_reports", [1, 4, 7, 10], 18),
        ("transcript_analysis", [0, 6], 22),
        ("missed_opportunity_analysis", [4, 10], 14),
        ("agent_effectiveness", [1, 7], 24),
    ],
    "nw-fund": [
        ("customer_account_plan", [0, 2, 4, 6, 8, 10], 8),
        ("customer_performance_review", [1, 7], 13),
        ("industry_kpi_analysis", [5], 10),
        ("quarterly_business_review", [2, 5, 8, 11], 19),
        ("target_analysis_reports", [3, 9], 15),
        ("transcript_analysis", [4], 21),
        ("missed_opportunity_analysis", [10], 21),
        ("agent_effectiveness", [7], 21),
    ],
    "ct-mobile": [
        ("customer_account_plan", [0, 3, 6, 9], 9),
        ("customer_performance_review", [1, 4, 7, 10], 14),
        ("industry_kpi_analysis", [6], 17),
        ("quarterly_business_review", [2, 5, 8, 11], 18),
        ("target_analysis_reports", [0, 3, 6, 9], 20),
        ("transcript_analysis", [1, 7], 23),
        ("missed_opportunity_analysis", [4], 23),
        ("agent_effectiveness", [10], 23),
    ],
    "ct-broadband": [
        ("customer_account_plan", [1, 4, 7, 10], 7),
        ("customer_performance_review", [0, 3, 6, 9], 15),
        ("industry_kpi_analysis", [4], 12),
        ("quarterly_business_review", [2, 5, 8, 11], 22),
        ("target_analysis_reports", [1, 4, 7, 10], 19),
        ("transcript_analysis", [2, 8], 12),
        ("missed_opportunity_analysis", [5], 12),
        ("agent_effectiveness", [11], 12),
    ],
    "fb-strat": [
        ("customer_account_plan", [0, 2, 4, 6, 8, 10], 6),
        ("customer_performance_review", [1, 4, 7, 10], 20),
        ("industry_kpi_analysis", [1, 4, 7, 10], 13),
        ("quarterly_business_review", [2, 5, 8, 11], 16),
        ("target_analysis_reports", [0, 3, 6, 9], 24),
        ("monthly_business_review", EVERY, 11),
        ("strategic_roadmap", [0, 3, 6, 9], 15),
        ("product_release_review", [2, 8], 9),
        ("product_roadmap_review", [4, 10], 9),
        ("transcript_analysis", [3, 9], 18),
        ("missed_opportunity_analysis", [1, 7], 22),
        ("agent_effectiveness", [5, 11], 22),
    ],
    "fb-found": [
        ("customer_account_plan", [0, 3, 6, 9], 7),
        ("customer_performance_review", [1, 7], 14),
    ],
}


def build_deliveries():
    for pid, sched in SCHEDULES.items():
        p = PACKAGES[pid]
        c = p["contract"]
        hol = CONTRACTS[c]["hol"]
        for deliverable, months, day in sched:
            for i, m in enumerate(months):
                a, b = month_range(c, m)
                d = next_bd(a + dt.timedelta(days=day - 1 + rng.randint(-2, 2)), hol)
                assert a <= d <= b
                lob = p["lobs"][i % len(p["lobs"])] if deliverable != "customer_account_plan" else rng.choice(p["lobs"])
                rec = add_delivery(c, d, lob, deliverable, note=None)
                # preparation work, same day or up to two business days before
                wd = d
                for _ in range(rng.randint(0, 2)):
                    cand = prev_bd(wd - ONE_DAY, hol)
                    if cand >= CONTRACTS[c]["start"]:
                        wd = cand
                add_work(c, wd, lob, rng.choice(PREP_HOURS[deliverable]), deliverable, note=note_for(deliverable))
                rec["_prep"] = True


def build_special_deliveries():
    """On-site visits and the planted delivery deviations."""
    out = {}
    # Northwind (Expert, on-site Semi-Annual): H1 international, H2 domestic.
    d = D(2026, 5, 13)
    out["nw-onsite-intl"] = add_delivery("NW-2026", d, "outlet", "on_site_operations_monitoring",
                                         international=True, note="Toronto outlet contact centre")
    add_work("NW-2026", d, "outlet", 6, "on_site_operations_monitoring")
    add_work("NW-2026", D(2026, 5, 14), "outlet", 5.5, "on_site_operations_monitoring")
    d = D(2026, 9, 16)
    out["nw-onsite-dom"] = add_delivery("NW-2026", d, "retail", "on_site_operations_monitoring",
                                        international=False, note="Newark fulfilment contact centre")
    add_work("NW-2026", d, "retail", 6, "on_site_operations_monitoring")
    add_work("NW-2026", D(2026, 9, 17), "retail", 4.5, "on_site_operations_monitoring")

    # Contoso (Premier: on-site at additional cost). Work on it is not counted.
    d = D(2026, 5, 20)
    out["ct-onsite-bb"] = add_delivery("CT-2026", d, "broadband", "on_site_operations_monitoring",
                                       international=False, note="Manchester care centre")
    add_work("CT-2026", d, "broadband", 6, "on_site_operations_monitoring", counted=False)
    d = D(2026, 9, 23)
    out["ct-onsite-mob"] = tag(add_delivery("CT-2026", d, "mobile", "on_site_operations_monitoring",
                                            international=False, note="Leeds retention team"), "ct_onsite_unbilled")
    add_work("CT-2026", d, "mobile", 6, "on_site_operations_monitoring", counted=False)

    # Fabrikam (Strategic, on-site Semi-Annual): H1 domestic, H2 international.
    d = D(2026, 6, 17)
    out["fb-onsite-dom"] = add_delivery("FB-2026", d, "cards", "on_site_operations_monitoring",
                                        international=False, note="Chicago cards operations centre")
    add_work("FB-2026", d, "cards", 6, "on_site_operations_monitoring")
    d = D(2027, 1, 20)
    out["fb-onsite-intl"] = tag(add_delivery("FB-2026", d, "wealth", "on_site_operations_monitoring",
                                             international=True, note="London wealth-management service centre"),
                                "fb_intl_no_surcharge")
    add_work("FB-2026", d, "wealth", 6, "on_site_operations_monitoring")
    add_work("FB-2026", D(2027, 1, 21), "wealth", 5, "on_site_operations_monitoring")

    # nw-fund (Fundamentals, account plan Monthly): two more in contract month 6.
    for tagname, d in (("fund_plan_2", D(2026, 7, 15)), ("fund_plan_3", D(2026, 7, 24))):
        tag(add_delivery("NW-2026", d, "careers", "customer_account_plan"), tagname)
        add_work("NW-2026", d, "careers", 2, "customer_account_plan")

    # fb-found (Foundations): industry KPI analysis is not included.
    tag(add_delivery("FB-2026", D(2026, 9, 10), "insurance", "industry_kpi_analysis"), "found_kpi")
    return out


# --------------------------------------------------------------------------
# Allowance-limited work: Solutions Engineering and discretionary consulting
# --------------------------------------------------------------------------
ALLOWANCE_WORK = {
    "nw-expert": [
        ("segmentation_management", [3, 4, 2.5, 2.5]),
        ("reporting_customization", [4, 3.5, 3, 3.5]),
        ("plugin_taglet_creation", [4, 3, 3]),
        ("integrations", [3, 2.5, 2.5]),
        ("discretionary_operational_consulting", [3, 2.5, 4, 3, 3.5, 2, 4]),
    ],
    "nw-fund": [("segmentation_management", [2.5, 3, 2, 2.5])],
    "ct-mobile": [
        ("integrations", [4, 3, 3.5]),
        ("segmentation_management", [3, 2.5, 3]),
        ("discretionary_operational_consulting", [3, 2.5, 4, 3, 3.5, 4, 3.5, 4]),  # 27.5 h > 24 h
    ],
    "ct-broadband": [
        ("integrations", [3.5, 4, 3]),
        ("segmentation_management", [2.5, 3]),
        ("discretionary_operational_consulting", [2, 3, 2.5, 2, 2.5]),
    ],
    "fb-strat": [
        ("customization", [6, 5.5, 6, 5]),
        ("integrations", [5, 4.5, 5.5]),
        ("reporting_customization", [4, 3.5, 4.5]),
        ("segmentation_management", [3.5, 4]),
        ("plugin_taglet_creation", [4, 4]),
        ("discretionary_operational_consulting", [4, 5, 4.5, 5, 4, 5.5]),
    ],
}


def build_allowance_work():
    for pid, items in ALLOWANCE_WORK.items():
        p = PACKAGES[pid]
        c = p["contract"]
        for service, chunks in items:
            months = sorted(rng.sample(range(12), len(chunks)))
            for m, h in zip(months, chunks):
                a, b = month_range(c, m)
                add_work(c, rand_bd(c, a, b), rng.choice(p["lobs"]), h, service, note=note_for(service))


# --------------------------------------------------------------------------
# Expansion scopes and the work charged to them
# --------------------------------------------------------------------------
# (id, package, pack, use, hours, approved (date, hh, mm), lob, work hours, work window, description)
SCOPE_DEFS = [
    ("xs-001", "nw-expert", "intermediate", "new_line_of_business", 60.0, (D(2026, 1, 20), 15, 30), "outlet",
     [4, 5, 6, 4.5, 5, 6, 5.5, 4, 6, 4, 4], (D(2026, 1, 22), D(2026, 4, 30)),
     "Launch messaging for the Outlet brand"),
    ("xs-002", "nw-fund", "basic", "update_line_of_business", 30.0, (D(2026, 2, 10), 10, 0), "careers",
     [3, 4, 3.5, 4, 3, 4.5, 4], (D(2026, 2, 12), D(2026, 5, 29)),
     "Refresh Careers campaigns and skills routing"),
    ("xs-003", "ct-mobile", "intermediate", "new_product_deployment", 50.0, (D(2026, 3, 3), 14, 0), "mobile",
     [4, 5, 4, 6, 5, 4.5, 5, 5.5, 5], (D(2026, 3, 5), D(2026, 6, 30)),
     "Deploy Conversation Builder bots for handset upgrades"),
    ("xs-004", "fb-strat", "advanced", "new_line_of_business", 110.0, (D(2026, 4, 14), 16, 0), "wealth",
     [6, 5.5, 6, 5, 6, 6, 5.5, 6, 5, 6, 6, 5.5], (D(2026, 4, 16), D(2026, 8, 28)),
     "Onboard Wealth Management onto messaging"),
    ("xs-005", "ct-broadband", "intermediate", "training", 20.0, (D(2026, 6, 2), 11, 15), "broadband",
     [4, 3, 5, 4], (D(2026, 6, 4), D(2026, 7, 10)),
     "Agent training programme for the broadband retention team"),
    ("xs-006", "nw-expert", "intermediate", "standard_integration_configuration", 40.0, (D(2026, 10, 6), 11, 0),
     "retail", [5, 4, 6, 5.5, 4.5, 5], (D(2026, 10, 8), D(2026, 12, 11)),
     "Configure the CRM connector for Retail"),
    ("xs-007", "ct-broadband", "intermediate", "new_product_deployment", 60.0, (D(2026, 10, 20), 9, 45),
     "broadband", [5, 6, 5.5, 6, 4.5, 6, 5, 6, 5, 5], (D(2026, 11, 2), D(2027, 1, 22)),
     "Deploy proactive outage messaging"),
    ("xs-008", "fb-strat", "advanced", "brand_development_support", 80.0, (D(2026, 11, 10), 13, 30), "cards",
     [6, 5.5, 6, 5, 6, 5.5, 6, 5], (D(2026, 11, 12), D(2027, 3, 19)),
     "Support the brand's SDK integration in the Cards app"),
]


def build_scopes():
    for sid, pid, pack, use, hours, (ad, hh, mm), lob, chunks, (wa, wb), desc in SCOPE_DEFS:
        c = PACKAGES[pid]["contract"]
        rec = {"kind": "expansion_scope", "id": sid, "contract": c, "package": pid, "pack": pack,
               "use": use, "hours": hours, "approved_at": local_ts(c, ad, hh, mm), "description": desc,
               "_date": ad}
        SCOPES.append(rec)
        if use == "training":
            tag(rec, "scope_training")
        assert sum(chunks) <= hours
        days = sorted(rng.sample(bds_between(wa, wb, CONTRACTS[c]["hol"]), len(chunks)))
        for d, h in zip(days, chunks):
            assert d > ad
            add_work(c, d, lob, h, "expansion", scope=sid, note=note_for("expansion"))
    # Work on xs-006 four days before the customer approved it.
    tag(add_work("NW-2026", D(2026, 10, 2), "retail", 4, "expansion", scope="xs-006",
                 note="Connector discovery workshop"), "work_before_approval")


def build_planted_work():
    # Integrations are not included in Fundamentals (Table 4).
    tag(add_work("NW-2026", D(2026, 5, 6), "careers", 6, "integrations",
                 note="ATS widget configuration"), "fund_integrations")
    # Work after the NW-2026 term ended (not counted in any quarter).
    tag(add_work("NW-2026", D(2027, 1, 6), "retail", 2, "general_account_consulting",
                 note="Year-end wrap-up call", counted=False), "after_term")


# --------------------------------------------------------------------------
# Filler work: fill every package quarter exactly to its target
# --------------------------------------------------------------------------
FILLER = {
    "foundations": ([("general_account_consulting", 6), ("customer_performance_review", 1),
                     ("customer_account_plan", 1)], [1, 1.5, 2, 2.5, 3]),
    "fundamentals": ([("general_account_consulting", 6), ("customer_account_plan", 1),
                      ("customer_performance_review", 2), ("transcript_analysis", 1),
                      ("missed_opportunity_analysis", 1), ("agent_effectiveness", 1),
                      ("target_analysis_reports", 1), ("quarterly_business_review", 1)],
                     [2, 2.5, 3, 3.5, 4, 4.5, 5]),
    "premier": ([("general_account_consulting", 6), ("customer_account_plan", 2),
                 ("customer_performance_review", 2), ("transcript_analysis", 1),
                 ("missed_opportunity_analysis", 1), ("agent_effectiveness", 1),
                 ("target_analysis_reports", 1), ("quarterly_business_review", 1),
                 ("industry_kpi_analysis", 1), ("self_service_training", 0.5)],
                [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]),
    "expert": ([("general_account_consulting", 6), ("customer_account_plan", 2),
                ("customer_performance_review", 2), ("transcript_analysis", 1),
                ("missed_opportunity_analysis", 1), ("agent_effectiveness", 1),
                ("target_analysis_reports", 1), ("quarterly_business_review", 1),
                ("industry_kpi_analysis", 1), ("self_service_training", 0.5)],
               [4.5, 5, 5.5, 6]),
    "strategic": ([("general_account_consulting", 6), ("customer_account_plan", 2),
                   ("customer_performance_review", 2), ("monthly_business_review", 2),
                   ("strategic_roadmap", 1), ("product_release_review", 0.5),
                   ("product_roadmap_review", 0.5), ("transcript_analysis", 1),
                   ("missed_opportunity_analysis", 1), ("agent_effectiveness", 1),
                   ("industry_kpi_analysis", 1), ("self_service_training", 0.5)],
                  [2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6]),
}


def weighted(pairs):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for v, w in pairs:
        x -= w
        if x < 0:
            return v
    return pairs[-1][0]


def build_filler():
    for pid, targets in QUARTER_TARGETS.items():
        p = PACKAGES[pid]
        c = p["contract"]
        services, hours = FILLER[p["tier"]]
        for q, target in enumerate(targets):
            used = sum(w["hours"] for w in WORK
                       if w["_pkg"] == pid and w["_counted"] and quarter_of(c, w["date"]) == q)
            rem = target - used
            assert rem >= 1, (pid, q, used, target)
            a, b = quarter_range(c, q)
            while rem > 0:
                if rem <= max(hours):
                    h = rem
                else:
                    h = rng.choice(hours)
                    if rem - h < 1:
                        h = rem - 1
                rem -= h
                svc = weighted(services)
                add_work(c, rand_bd(c, a, b), rng.choice(p["lobs"]), h, svc, note=note_for(svc))


# --------------------------------------------------------------------------
# Tickets
# --------------------------------------------------------------------------
SUBJECTS = [
    "Chat button not rendering on checkout page", "Agents unable to accept conversations",
    "Delayed messages on Apple Messages for Business", "Report export times out",
    "Bot fails to transfer to agent skill", "SSO login loop for agent workspace",
    "Intermittent 502 on engagement API", "Proactive invitation shown twice",
    "Transcript search returns no results", "Queue wait-time metric incorrect",
    "Co-browse session drops after 2 minutes", "Offline survey not triggering",
    "Push notifications delayed on Android app", "Agent status stuck in Away",
    "Skill routing ignores business hours",
]


def make_ticket(contract, lob, sev, opened_local, channel, *, is_bug=False, response=None,
                resolution=None, updates=None, rca_at=None, rca_days=None, severity_changes=None,
                security_incident=None, tier2_direct=None, subject=None):
    """Build a ticket.  Times are minutes after opening; defaults meet the SLA."""
    c = CONTRACTS[contract]
    tz = c["tz"]
    tier = PACKAGES[pkg_of_lob(contract, lob)]["tier"]
    enhanced = (sev, tier) in SLA
    resp_t, upd_t, res_t = SLA[(sev, tier)][:3] if enhanced else BEST_EFFORT[sev]
    t0 = local_to_utc(tz, opened_local)
    if response is None:
        response = max(3, int(resp_t * rng.uniform(0.2, 0.7)))
    if resolution is None:
        resolution = int(res_t * (rng.uniform(1.3, 2.5) if is_bug else rng.uniform(0.35, 0.8)))
        resolution = max(resolution, response + 5)
    if updates is None:
        updates, cur = [], response
        while resolution - cur > 0.9 * upd_t:
            cur += int(upd_t * rng.uniform(0.5, 0.9))
            updates.append(cur)
    resolved = t0 + dt.timedelta(minutes=resolution)
    rec = {"kind": "ticket", "contract": contract, "lob": lob, "severity": sev,
           "opened_at": fmt_ts(tz, t0),
           "first_response_at": fmt_ts(tz, t0 + dt.timedelta(minutes=response)),
           "updates": [fmt_ts(tz, t0 + dt.timedelta(minutes=u)) for u in updates],
           "resolved_at": fmt_ts(tz, resolved), "is_bug": is_bug, "rca_delivered_at": None,
           "channel": channel}
    final_sev = severity_changes[-1][1] if severity_changes else sev
    if rca_at is not None:
        rec["rca_delivered_at"] = rca_at
    elif enhanced and final_sev in ("P1", "P2") and (final_sev, tier) in SLA:
        n = SLA[(final_sev, tier)][3]
        local_res = (resolved + dt.timedelta(hours=utc_offset_hours(tz, resolved))).date()
        k = rca_days if rca_days is not None else rng.randint(1, n - 1)
        rd = add_bd(local_res, k, c["hol"])
        rec["rca_delivered_at"] = local_ts(contract, rd, rng.randint(10, 16), rng.choice([0, 15, 30, 45]))
    if security_incident is not None:
        rec["security_incident"] = security_incident
    if tier2_direct is not None:
        rec["tier2_direct"] = tier2_direct
    if severity_changes:
        rec["severity_changes"] = [{"at": local_ts(contract, d, hh, mm), "severity": s}
                                   for (d, hh, mm), s in severity_changes]
    rec["subject"] = subject or rng.choice(SUBJECTS)
    rec["_opened_utc"] = t0
    TICKETS.append(rec)
    return rec


def rand_open(contract, a, b, night=False):
    d = rand_bd(contract, a, b)
    hh = rng.choice([6, 7, 20, 21, 22]) if night else rng.randint(8, 17)
    return dt.datetime.combine(d, dt.time(hh, rng.choice([2, 7, 13, 19, 26, 34, 41, 48, 55])))


def build_tickets():
    T = dt.datetime
    # ---- Northwind (Expert retail/outlet, Fundamentals careers)
    make_ticket("NW-2026", "retail", "P3", rand_open("NW-2026", D(2026, 1, 12), D(2026, 1, 30)), "web")
    make_ticket("NW-2026", "outlet", "P2", rand_open("NW-2026", D(2026, 2, 2), D(2026, 2, 27)), "messaging",
                tier2_direct=True)
    make_ticket("NW-2026", "retail", "P3", rand_open("NW-2026", D(2026, 3, 2), D(2026, 3, 27)), "chat", is_bug=True)
    # Severity raised P3 -> P2 the next morning: clocks restart (I-5).
    make_ticket("NW-2026", "outlet", "P3", T(2026, 4, 14, 9, 0), "web",
                response=150, updates=[23 * 60, 28 * 60 + 30, 32 * 60, 35 * 60 + 30],
                resolution=37 * 60 + 40,
                severity_changes=[((D(2026, 4, 15), 10, 0), "P2")],
                subject="Outlet chat queue drops conversations on transfer")
    make_ticket("NW-2026", "retail", "P3", rand_open("NW-2026", D(2026, 6, 1), D(2026, 6, 26)), "phone")
    make_ticket("NW-2026", "retail", "P1", T(2026, 8, 18, 9, 12), "phone", response=45,
                resolution=4 * 60 + 20, subject="Agents unable to accept conversations")
    make_ticket("NW-2026", "outlet", "P3", rand_open("NW-2026", D(2026, 9, 1), D(2026, 9, 25)), "messaging",
                is_bug=True, tier2_direct=True)
    make_ticket("NW-2026", "retail", "P1", rand_open("NW-2026", D(2026, 10, 5), D(2026, 10, 23), night=True),
                "phone", tier2_direct=True)
    # Resolved the day before Thanksgiving: RCA (3 business days) due 2026-12-01.
    make_ticket("NW-2026", "retail", "P2", T(2026, 11, 25, 8, 20), "web", response=35,
                resolution=7 * 60 + 50, rca_at="2026-12-01T15:30:00-05:00",
                subject="Black Friday landing page engagement rules not firing")
    make_ticket("NW-2026", "careers", "P3", rand_open("NW-2026", D(2026, 2, 2), D(2026, 2, 27)), "web")
    make_ticket("NW-2026", "careers", "P2", rand_open("NW-2026", D(2026, 5, 4), D(2026, 5, 29)), "phone")
    make_ticket("NW-2026", "careers", "P3", rand_open("NW-2026", D(2026, 8, 3), D(2026, 8, 28)), "chat",
                is_bug=True)
    make_ticket("NW-2026", "careers", "P3", rand_open("NW-2026", D(2026, 11, 2), D(2026, 11, 20)), "web")

    # ---- Contoso (Premier mobile, Premier broadband)
    make_ticket("CT-2026", "mobile", "P3", rand_open("CT-2026", D(2026, 2, 9), D(2026, 2, 27)), "web")
    make_ticket("CT-2026", "mobile", "P1", rand_open("CT-2026", D(2026, 4, 6), D(2026, 4, 24), night=True), "phone")
    # Premier P2 non-bug resolved in 79.5 h (> 3 d).
    make_ticket("CT-2026", "mobile", "P2", T(2026, 6, 8, 10, 30), "web", response=95, resolution=79 * 60 + 30,
                subject="Bot fails to transfer to agent skill")
    make_ticket("CT-2026", "mobile", "P3", rand_open("CT-2026", D(2026, 9, 1), D(2026, 9, 25)), "chat",
                is_bug=True)
    make_ticket("CT-2026", "broadband", "P2", rand_open("CT-2026", D(2026, 5, 4), D(2026, 5, 29)), "web")
    make_ticket("CT-2026", "broadband", "P1", rand_open("CT-2026", D(2026, 8, 3), D(2026, 8, 28)), "phone")
    make_ticket("CT-2026", "broadband", "P3", rand_open("CT-2026", D(2026, 10, 5), D(2026, 10, 23)), "web",
                is_bug=True)
    # Resolved on Christmas Eve: RCA (5 business days, England) due 2027-01-05.
    make_ticket("CT-2026", "broadband", "P2", T(2026, 12, 23, 15, 0), "phone", response=70,
                resolution=20 * 60, rca_at="2027-01-05T16:00:00+00:00",
                subject="Outage banner not shown in broadband app")

    # ---- Fabrikam (Strategic cards/lending/wealth, Foundations insurance)
    make_ticket("FB-2026", "cards", "P3", rand_open("FB-2026", D(2026, 4, 6), D(2026, 4, 24)), "web")
    make_ticket("FB-2026", "lending", "P2", rand_open("FB-2026", D(2026, 5, 4), D(2026, 5, 22)), "messaging",
                tier2_direct=True)
    make_ticket("FB-2026", "cards", "P1", rand_open("FB-2026", D(2026, 6, 8), D(2026, 6, 26), night=True),
                "phone", security_incident=True, tier2_direct=True,
                subject="Suspected credential-stuffing against agent login (DDoS pattern)")
    make_ticket("FB-2026", "wealth", "P3", rand_open("FB-2026", D(2026, 7, 6), D(2026, 7, 24)), "chat",
                is_bug=True)
    # P1 resolved Tue 2026-09-08 14:40 CDT; RCA (2 business days) due end of 2026-09-10.
    make_ticket("FB-2026", "lending", "P1", T(2026, 9, 8, 10, 5), "phone", response=18,
                resolution=4 * 60 + 35, rca_at="2026-09-11T15:00:00-05:00",
                subject="Loan-application chat unavailable")
    make_ticket("FB-2026", "wealth", "P2", rand_open("FB-2026", D(2026, 10, 5), D(2026, 10, 23)), "web")
    make_ticket("FB-2026", "cards", "P3", rand_open("FB-2026", D(2026, 12, 1), D(2026, 12, 18)), "messaging")
    make_ticket("FB-2026", "cards", "P2", rand_open("FB-2026", D(2027, 2, 8), D(2027, 2, 26)), "chat")
    make_ticket("FB-2026", "insurance", "P3", rand_open("FB-2026", D(2026, 5, 11), D(2026, 5, 29)), "web")
    make_ticket("FB-2026", "insurance", "P3", T(2026, 8, 12, 11, 20), "phone",
                subject="Policyholder chat shows wrong opening hours")
    make_ticket("FB-2026", "insurance", "P2", rand_open("FB-2026", D(2026, 11, 2), D(2026, 11, 20)), "chat")


# --------------------------------------------------------------------------
# Expenses and the draft invoice
# --------------------------------------------------------------------------
def add_expense(contract, d, lob, amount, *, related=None, approved="ok", description=None):
    c = CONTRACTS[contract]
    if approved == "ok":
        ad = prev_bd(d - dt.timedelta(days=rng.randint(4, 15)), c["hol"])
        approved_at = office_ts(contract, ad)
    elif approved is None:
        approved_at = None
    else:
        approved_at = approved
    rec = {"kind": "expense", "contract": contract, "date": d, "lob": lob, "amount": amount,
           "currency": c["currency"], "approved_at": approved_at}
    if related is not None:
        rec["_related"] = related
    if description:
        rec["description"] = description
    EXPENSES.append(rec)
    return rec


def find_delivery(pid, deliverable, month):
    c = PACKAGES[pid]["contract"]
    a, b = month_range(c, month)
    hits = [r for r in DELIVERIES if r["_pkg"] == pid and r["deliverable"] == deliverable and a <= r["date"] <= b]
    return hits[0]


def build_expenses(onsite):
    nw_t, nw_d = onsite["nw-onsite-intl"], onsite["nw-onsite-dom"]
    add_expense("NW-2026", D(2026, 5, 12), "outlet", 486.2, related=nw_t, description="Airfare LGA-YYZ return")
    add_expense("NW-2026", D(2026, 5, 12), "outlet", 612.4, related=nw_t, description="Hotel, 2 nights")
    add_expense("NW-2026", D(2026, 9, 16), "retail", 148.0, related=nw_d, description="Rail and car service")
    add_expense("NW-2026", D(2026, 9, 16), "retail", 289.5, related=nw_d, description="Hotel, 1 night")
    tag(add_expense("NW-2026", D(2026, 9, 17), "retail", 96.35, related=nw_d, approved=None,
                    description="Team dinner with site leads"), "expense_null")
    qbr = find_delivery("nw-expert", "quarterly_business_review", 11)
    add_expense("NW-2026", qbr["date"], qbr["lob"], 398.0, related=qbr, description="Airfare for on-site QBR")

    bb, mob = onsite["ct-onsite-bb"], onsite["ct-onsite-mob"]
    add_expense("CT-2026", D(2026, 5, 19), "broadband", 142.6, related=bb, description="Rail London-Manchester")
    add_expense("CT-2026", D(2026, 5, 20), "broadband", 238.0, related=bb, description="Hotel, 2 nights")
    add_expense("CT-2026", D(2026, 9, 23), "mobile", 118.9, related=mob, description="Rail London-Leeds")
    add_expense("CT-2026", D(2026, 9, 23), "mobile", 176.0, related=mob, description="Hotel, 1 night")
    qbr = find_delivery("ct-mobile", "quarterly_business_review", 8)
    add_expense("CT-2026", qbr["date"], "mobile", 96.4, related=qbr, description="Rail for on-site QBR")

    fd, fi = onsite["fb-onsite-dom"], onsite["fb-onsite-intl"]
    add_expense("FB-2026", D(2026, 6, 16), "cards", 344.1, related=fd, description="Airfare SFO-ORD return")
    add_expense("FB-2026", D(2026, 6, 16), "cards", 527.8, related=fd, description="Hotel, 2 nights")
    qbr = find_delivery("fb-strat", "quarterly_business_review", 5)
    tag(add_expense("FB-2026", qbr["date"], qbr["lob"], 265.0, related=qbr,
                    approved=local_ts("FB-2026", add_bd(qbr["date"], 2, US_HOLIDAYS), 14, 20),
                    description="Hotel for on-site QBR"), "expense_late")
    add_expense("FB-2026", D(2027, 1, 19), "wealth", 1286.0, related=fi, description="Airfare ORD-LHR return")
    add_expense("FB-2026", D(2027, 1, 19), "wealth", 1104.5, related=fi, description="Hotel, 3 nights")
    add_expense("FB-2026", D(2027, 1, 21), "wealth", 84.2, related=fi, description="Ground transport")


def period_label(contract, d):
    return "%d-Q%d" % (CONTRACTS[contract]["start"].year, quarter_of(contract, d) + 1)


def add_line(contract, lob, period, item, quantity, rate, currency, *, ref=None, description=None):
    rec = {"kind": "invoice_line", "contract": contract, "lob": lob, "period": period, "item": item,
           "quantity": float(quantity), "rate": float(rate), "amount": round(quantity * rate, 2),
           "currency": currency}
    if ref is not None:
        rec["_ref"] = ref
    if description:
        rec["description"] = description
    INVOICE.append(rec)
    return rec


def build_invoice(onsite):
    add_line("NW-2026", "retail", "2026-Q2", "overage_hours", 5.5, 240.0, "USD",
             description="Expert pool hours above 246 h (SOW-114)")
    tag(add_line("NW-2026", "careers", "2026-Q3", "overage_hours", 5.0, 240.0, "USD",
                 description="Fundamentals hours above 65 h (SOW-114)"), "fund_overage_line")
    add_line("NW-2026", "outlet", "2026-Q2", "surcharge", 1, 1500.0, "USD", ref=onsite["nw-onsite-intl"],
             description="International travel surcharge, Toronto on-site")
    add_line("CT-2026", "broadband", "2026-Q2", "additional_service", 1, 4200.0, "GBP", ref=onsite["ct-onsite-bb"],
             description="On-site operations monitoring, Manchester")
    tag(add_line("CT-2026", "broadband", "2026-Q4", "overage_hours", 5.0, 250.0, "GBP",
                 description="Premier hours above 113 h"), "ct_overage_line")
    plan = find_delivery("fb-strat", "customer_account_plan", 4)
    tag(add_line("FB-2026", plan["lob"], period_label("FB-2026", plan["date"]), "deliverable", 1, 1800.0, "USD",
                 ref=plan, description="Customer account plan workshop"), "included_billed")
    for e in EXPENSES:
        add_line(e["contract"], e["lob"], period_label(e["contract"], e["date"]), "expense", 1, e["amount"],
                 e["currency"], ref=e, description=e.get("description"))


# --------------------------------------------------------------------------
# Ids, serialisation
# --------------------------------------------------------------------------
CONTRACT_ORDER = list(CONTRACTS)
FIELD_ORDER = {
    "work": ["kind", "id", "contract", "date", "lob", "hours", "service", "expansion", "note"],
    "delivery": ["kind", "id", "contract", "date", "lob", "deliverable", "international", "note"],
    "ticket": ["kind", "id", "contract", "lob", "severity", "opened_at", "first_response_at", "updates",
               "resolved_at", "is_bug", "rca_delivered_at", "channel", "security_incident", "tier2_direct",
               "severity_changes", "subject"],
    "expense": ["kind", "id", "contract", "date", "lob", "amount", "currency", "approved_at", "related",
                "description"],
    "expansion_scope": ["kind", "id", "contract", "package", "pack", "use", "hours", "approved_at",
                        "description"],
    "invoice_line": ["kind", "id", "contract", "lob", "period", "item", "quantity", "rate", "amount",
                     "currency", "ref", "description"],
}


def assign_ids():
    for recs, prefix, width, key in (
        (WORK, "w-", 4, lambda r: r["date"]),
        (DELIVERIES, "d-", 4, lambda r: r["date"]),
        (EXPENSES, "e-", 3, lambda r: r["date"]),
        (TICKETS, "t-", 4, lambda r: r["_opened_utc"]),
    ):
        recs.sort(key=key)  # stable: ties keep generation order
        for i, r in enumerate(recs, 1):
            r["id"] = "%s%0*d" % (prefix, width, i)
    SCOPES.sort(key=lambda r: r["id"])
    INVOICE.sort(key=lambda r: (CONTRACT_ORDER.index(r["contract"]), r["period"],
                                ["overage_hours", "additional_service", "surcharge", "deliverable",
                                 "expense"].index(r["item"])))
    for i, r in enumerate(INVOICE, 1):
        r["id"] = "il-%03d" % i
    for r in WORK:
        if "_scope" in r:
            r["expansion"] = r["_scope"]
    for r in EXPENSES:
        if "_related" in r:
            r["related"] = r["_related"]["id"]
    for r in INVOICE:
        if "_ref" in r:
            r["ref"] = r["_ref"]["id"]


def public(rec):
    out = {}
    for k in FIELD_ORDER[rec["kind"]]:
        if k in rec:
            v = rec[k]
            out[k] = v.isoformat() if isinstance(v, dt.date) else v
    extra = [k for k in rec if not k.startswith("_") and k not in out]
    assert not extra, (rec["kind"], extra)
    return out


def write_jsonl(path: Path, recs):
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for r in recs:
            fh.write(json.dumps(public(r), ensure_ascii=False) + "\n")


def toml_str(s):
    return json.dumps(s, ensure_ascii=False)


def write_contracts():
    (HERE / "contracts").mkdir(exist_ok=True)
    purchases = {"NW-2026": [("nw-expert", "intermediate", 40, D(2026, 1, 1))]}
    for cid, c in CONTRACTS.items():
        lines = [
            "id = %s" % toml_str(cid),
            "customer = %s" % toml_str(c["customer"]),
            "policy = %s" % toml_str(POLICY),
            "term = { start = %s, end = %s }" % (c["start"].isoformat(), c["end"].isoformat()),
        ]
        if c["renewal_of"]:
            lines.append("renewal_of = %s" % toml_str(c["renewal_of"]))
        lines.append("timezone = %s" % toml_str(c["tz"]))
        lines.append("holidays = %s" % toml_str(c["holidays"]))
        if c["subdiv"]:
            lines.append("holidays_subdiv = %s" % toml_str(c["subdiv"]))
        if c["overage"]:
            o = c["overage"]
            lines.append("overage = { rate = %.1f, currency = %s, agreement = %s }"
                         % (o["rate"], toml_str(o["currency"]), toml_str(o["agreement"])))
        for pid, p in PACKAGES.items():
            if p["contract"] != cid:
                continue
            lines += ["", "[[packages]]", "id = %s" % toml_str(pid), "tier = %s" % toml_str(p["tier"]),
                      "lines_of_business = [%s]" % ", ".join(toml_str(x) for x in p["lobs"])]
        for pid, kind, hours, on in purchases.get(cid, []):
            lines += ["", "[[expansion_purchases]]", "package = %s" % toml_str(pid),
                      "kind = %s" % toml_str(kind), "hours = %d" % hours, "purchased_on = %s" % on.isoformat()]
        text = "# Generated by examples/northwind/generate.py -- edit the generator, not this file.\n"
        (HERE / "contracts" / c["file"]).write_text(text + "\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------
# Expected findings (what the planted deviations should trigger)
# --------------------------------------------------------------------------
def quarter_totals(pid):
    c = PACKAGES[pid]["contract"]
    tot = [0.0] * 4
    for w in WORK:
        if w["_pkg"] == pid and w["_counted"]:
            tot[quarter_of(c, w["date"])] += w["hours"]
    return tot


def crossing(recs, limit):
    """First record (in date, id order) at which the running total exceeds limit."""
    run = 0.0
    for r in sorted(recs, key=lambda r: (r["date"], r["id"])):
        run += r["hours"]
        if run > limit:
            return r
    return None


def quarter_work(pid, q):
    c = PACKAGES[pid]["contract"]
    return [w for w in WORK if w["_pkg"] == pid and w["_counted"] and quarter_of(c, w["date"]) == q]


# The level of each expected finding under POLICY: the rule's own level, except where the
# policy's readings set another. liveperson-cso@1.1, I-7: a Table 2 deliverable beyond its
# frequency is a warning (Table 2 is planned "in accordance with Customer's needs and mutual
# planning"), so D4's entitlement.frequency findings are warnings (errors under 1.0).
WARNING_RULES = ("entitlement.quarterly_hours", "entitlement.allowance_hours", "entitlement.channel_not_included")
TABLE_2_OVERRUN = "warning"


def expected_findings():
    P = {k: v["id"] for k, v in PLANTED.items()}
    E = []

    def add(dev, rule, contract, lob, record, detail, level=None):
        E.append({"deviation": dev, "rule": rule, "level": level or ("warning" if rule in WARNING_RULES else "error"),
                  "contract": contract, "lob": lob, "record": record, "detail": detail})

    for dev, pid, q in (("D1", "nw-expert", 1), ("D2", "nw-expert", 2), ("D3", "nw-fund", 2),
                        ("D17", "ct-broadband", 3)):
        tier = PACKAGES[pid]["tier"]
        cap = QUARTER_CAP[tier]
        tot = quarter_totals(pid)[q]
        x = crossing(quarter_work(pid, q), cap)
        add(dev, "entitlement.quarterly_hours", PACKAGES[pid]["contract"], x["lob"], x["id"],
            "%s Q%d hours %.1f > %d (%s quarterly cap, Section 1) -> %.1f h over"
            % (pid, q + 1, tot, cap, tier.capitalize(), tot - cap))
    nwq3 = quarter_totals("nw-expert")[2] - 246
    x = crossing(quarter_work("nw-expert", 2), 246)
    add("D2", "billing.overage_unbilled", "NW-2026", x["lob"], x["id"],
        "nw-expert billable overage = (251.5-246) + (%.1f-246) = %.1f h; invoiced 5.5 h (2026-Q2 only) "
        "-> %.1f h x 240 USD = %.2f USD unbilled (2026-Q3)"
        % (quarter_totals("nw-expert")[2], 5.5 + nwq3, nwq3, nwq3 * 240))
    ft = quarter_totals("nw-fund")[2]
    add("D3", "billing.overage_overbilled", "NW-2026", "careers", P["fund_overage_line"],
        "nw-fund billable overage %.1f - 65 = %.1f h; invoiced 5.0 h -> %.1f h (%.2f USD) overbilled"
        % (ft, ft - 65, 5.0 - (ft - 65), (5.0 - (ft - 65)) * 240))
    add("D4", "entitlement.frequency", "NW-2026", "careers", P["fund_plan_2"],
        "customer_account_plan delivered 3x in contract month 7 (2026-07) to Fundamentals, limit Monthly "
        "(Table 2) -> 2 over; also %s; a warning (I-7: Table 2 is planned with the customer)" % P["fund_plan_3"],
        TABLE_2_OVERRUN)
    add("D4", "entitlement.frequency", "NW-2026", "careers", P["fund_plan_3"],
        "third customer_account_plan in 2026-07 (see above)", TABLE_2_OVERRUN)
    add("D5", "entitlement.not_included", "FB-2026", "insurance", P["found_kpi"],
        "industry_kpi_analysis is '-' for Foundations (Table 2)")
    add("D6", "billing.additional_cost_unbilled", "CT-2026", "mobile", P["ct_onsite_unbilled"],
        "on_site_operations_monitoring is 'At Additional Costs' for Premier (Table 3); no additional_service "
        "invoice line refers to it")
    add("D7", "billing.surcharge_missing", "FB-2026", "wealth", P["fb_intl_no_surcharge"],
        "international on-site visit (Table 3: international travel incurs a surcharge); no surcharge line")
    e = PLANTED["expense_null"]
    add("D8", "billing.expense_unapproved", "NW-2026", e["lob"], e["id"],
        "expense %.2f %s dated %s has approved_at null (Section 1: T&E needs advance approval)"
        % (e["amount"], e["currency"], e["date"].isoformat()))
    e = PLANTED["expense_late"]
    add("D9", "billing.expense_unapproved", "FB-2026", e["lob"], e["id"],
        "expense %.2f %s dated %s approved %s, after it was incurred"
        % (e["amount"], e["currency"], e["date"].isoformat(), e["approved_at"]))
    t = [t for t in TICKETS if t["channel"] == "phone" and t["lob"] == "insurance"][0]
    add("D10", "entitlement.channel_not_included", "FB-2026", "insurance", t["id"],
        "phone support is '-' for Foundations (Table 6)")
    t = [t for t in TICKETS if t["opened_at"].startswith("2026-08-18T09:12")][0]
    add("D11", "sla.response", "NW-2026", "retail", t["id"],
        "Expert P1 first response after 0.75 h > 0.5 h (Table 8) -> 0.25 h (15 min) over")
    t = [t for t in TICKETS if t["opened_at"].startswith("2026-06-08T10:30")][0]
    add("D12", "sla.resolution", "CT-2026", "mobile", t["id"],
        "Premier P2 non-bug resolved after 79.5 h > 3 d = 72 h (Table 8, I-3) -> 7.5 h over")
    t = [t for t in TICKETS if t["opened_at"].startswith("2026-09-08T10:05")][0]
    add("D13", "sla.rca", "FB-2026", "lending", t["id"],
        "Strategic P1 resolved 2026-09-08 (Tue); RCA due end of 2nd business day 2026-09-10 "
        "(Table 8, I-4); delivered 2026-09-11T15:00-05:00 -> 15 h late")
    add("D14", "expansion.disallowed_use", "CT-2026", "broadband", P["scope_training"],
        "expansion scope use 'training' is excluded (Section 9)")
    w = PLANTED["work_before_approval"]
    add("D15", "expansion.before_approval", "NW-2026", "retail", w["id"],
        "4.0 h on xs-006 dated 2026-10-02, scope approved 2026-10-06T11:00:00-04:00 (Section 9)")
    add("D16", "billing.included_item_billed", "FB-2026", PLANTED["included_billed"]["lob"], P["included_billed"],
        "bills customer_account_plan delivery %s, included for Strategic (Table 2, Weekly)"
        % PLANTED["included_billed"]["ref"])
    add("D17", "billing.overage_without_agreement", "CT-2026", "broadband", P["ct_overage_line"],
        "overage_hours line 5.0 h x 250 GBP, but CT-2026 records no written rate agreement (Section 1)")
    dis = [w for w in WORK if w["_pkg"] == "ct-mobile" and w["service"] == "discretionary_operational_consulting"]
    x = crossing(dis, 24)
    add("D18", "entitlement.allowance_hours", "CT-2026", "mobile", x["id"],
        "discretionary_operational_consulting %.1f h > 24 h/yr (Premier, Table 3) -> %.1f h over"
        % (sum(w["hours"] for w in dis), sum(w["hours"] for w in dis) - 24))
    add("D19", "entitlement.not_included", "NW-2026", "careers", P["fund_integrations"],
        "integrations (Solutions Engineering) is Premier and up (Table 4); 6.0 h on Fundamentals")
    add("D20", "entitlement.outside_term", "NW-2026", "retail", P["after_term"],
        "work dated 2027-01-06, NW-2026 term ends 2026-12-31")
    E.sort(key=lambda e: int(e["deviation"][1:]))  # stable
    for i, e in enumerate(E, 1):
        e["n"] = i
    return [dict([("n", e.pop("n"))] + list(e.items())) for e in E]


def main():
    build_deliveries()
    onsite = build_special_deliveries()
    build_allowance_work()
    build_scopes()
    build_planted_work()
    build_filler()
    build_tickets()
    build_expenses(onsite)
    build_invoice(onsite)
    assign_ids()
    write_contracts()
    rd = HERE / "records"
    rd.mkdir(exist_ok=True)
    write_jsonl(rd / "work.jsonl", WORK)
    write_jsonl(rd / "deliveries.jsonl", DELIVERIES)
    write_jsonl(rd / "tickets.jsonl", TICKETS)
    write_jsonl(rd / "expenses.jsonl", EXPENSES)
    write_jsonl(rd / "expansion.jsonl", SCOPES)
    write_jsonl(rd / "invoice.jsonl", INVOICE)
    (HERE / "expected-findings.json").write_text(
        json.dumps({"findings": expected_findings()}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    n = sum(map(len, (WORK, DELIVERIES, TICKETS, EXPENSES, SCOPES, INVOICE)))
    print("wrote %d records (%d work, %d deliveries, %d tickets, %d expenses, %d scopes, %d invoice lines)"
          % (n, len(WORK), len(DELIVERIES), len(TICKETS), len(EXPENSES), len(SCOPES), len(INVOICE)))


if __name__ == "__main__":
    main()
