"""Report formats for CI and people: SARIF, JUnit XML, CSV, Markdown and a self-contained HTML page."""

from __future__ import annotations

import csv
import html
import json
import xml.etree.ElementTree as ET
from typing import TextIO

from . import hookimpl
from .model import Finding
from .reporters import Report, ReportFormat
from .sarif import SarifResult, SarifRule, sarif_log


def _file_line(source: str | None) -> tuple[str | None, int | None]:
    if not source:
        return None, None
    file, _, line = source.rpartition(":")
    if line.isdigit() and file:
        return file, int(line)
    return source.split(" ")[0], None


# ------------------------------------------------------------------ SARIF


def write_sarif(report: Report, stream: TextIO) -> None:
    rules = [
        SarifRule(id=r.id, short=r.title, full=r.description or r.title,
                  help=f"{r.title}. Clause: {r.clause} of the CSO terms. Run `cso-policy explain {r.id}` for the details.",
                  level=str(r.level))
        for r in report.rules
    ]
    results = []
    for f in report.findings:
        file, line = _file_line(f.source)
        props = {"contract": f.contract, "lob": f.lob, "record": f.record, "clause": f.clause, "policy": f.policy,
                 "impact": f.impact.as_dict() if f.impact else {}, "period": f.period}
        if f.waived:
            props["waiver"] = f.waiver
        results.append(SarifResult(rule=f.rule, level=str(f.level), message=f"{f.message} [{f.clause}]", file=file,
                                   line=line, fingerprint=f.fingerprint, properties=props))
    log = sarif_log(rules, results)
    for item, f in zip(log["runs"][0]["results"], report.findings):
        if f.waived:  # SARIF's own way to say "accepted"
            item["suppressions"] = [{"kind": "external", "justification": f.waiver["reason"]}]
    stream.write(json.dumps(log, indent=2, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------ JUnit


def write_junit(report: Report, stream: TextIO) -> None:
    """One test case per contract x rule; each failure lists that pair's findings."""
    by_pair: dict[tuple[str, str], list[Finding]] = {}
    for f in report.findings:
        if not f.waived:
            by_pair.setdefault((f.contract or "-", f.rule), []).append(f)
    contracts = sorted(set(report.contracts) | {c for c, _ in by_pair})
    suites = ET.Element("testsuites", name="cso-policy")
    for contract in contracts:
        suite = ET.SubElement(suites, "testsuite", name=contract)
        failures = 0
        rule_ids = sorted({r.id for r in report.rules} | {rule for c, rule in by_pair if c == contract})
        for rule_id in rule_ids:
            case = ET.SubElement(suite, "testcase", classname=contract, name=rule_id)
            found = by_pair.get((contract, rule_id))
            if found:
                failures += 1
                failure = ET.SubElement(case, "failure", type=rule_id,
                                        message=f"{len(found)} finding(s): {found[0].message}")
                failure.text = "\n".join(f"{f.source or '-'}: {f.level}: {f.record or '-'}: {f.message}" for f in found)
        suite.set("tests", str(len(rule_ids)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
    ET.indent(suites)
    stream.write(ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n")


# ------------------------------------------------------------------ CSV

CSV_COLUMNS = ("rule", "level", "contract", "lob", "record", "source", "period", "clause", "policy",
               "hours", "amount", "currency", "duration_seconds", "waived", "waiver_reason", "message", "fingerprint")


def finding_row(f: Finding) -> dict:
    impact = f.impact.as_dict() if f.impact else {}
    return {
        "rule": f.rule, "level": str(f.level), "contract": f.contract or "", "lob": f.lob or "",
        "record": f.record or "", "source": f.source or "", "period": f.period or "", "clause": f.clause,
        "policy": f.policy or "", "hours": impact.get("hours", ""), "amount": impact.get("amount", ""),
        "currency": impact.get("currency", ""), "duration_seconds": impact.get("duration_seconds", ""),
        "waived": "yes" if f.waived else "", "waiver_reason": f.waiver["reason"] if f.waived else "",
        "message": f.message, "fingerprint": f.fingerprint,
    }


def write_csv(report: Report, stream: TextIO) -> None:
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for f in report.findings:
        writer.writerow(finding_row(f))


# ------------------------------------------------------------------ Markdown


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _impact(f: Finding) -> str:
    return f.impact.text() if f.impact is not None else ""


def write_markdown(report: Report, stream: TextIO) -> None:
    s = report.summary()
    w = stream.write
    w("# cso-policy audit\n\n")
    w(f"{s['findings']} finding(s) in {s['records']} record(s) over {s['contracts']} contract(s); "
      + ", ".join(f"{n} {lvl}" for lvl, n in s["by_level"].items()) + f"; {s['waived']} waived.\n\n")
    w("| rule | count | hours | amounts |\n| --- | ---: | ---: | --- |\n")
    for rule_id, e in s["by_rule"].items():
        w(f"| {rule_id} | {e['count']} | {e['hours']:g} | {', '.join(f'{c} {a:,.2f}' for c, a in e['amounts'].items())} |\n")
    w("\n## Findings\n\n| level | rule | contract | lob | record | source | impact | message |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- |\n")
    for f in report.findings:
        level = f"{f.level} (waived)" if f.waived else str(f.level)
        w(f"| {level} | {f.rule} | {_md(f.contract or '')} | {_md(f.lob or '')} | {_md(f.record or '')} | "
          f"{_md(f.source or '')} | {_impact(f)} | {_md(f.message)} |\n")


# ------------------------------------------------------------------ HTML

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1d2430}
h1{margin-bottom:.2rem} .muted{color:#667} table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #dde;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f9} td.num{text-align:right} .error{color:#b3261e;font-weight:600}
.warning{color:#9a6700;font-weight:600} .info{color:#0b57d0} .waived{color:#667;text-decoration:line-through}
.cards{display:flex;gap:1rem;flex-wrap:wrap} .card{border:1px solid #dde;border-radius:8px;padding:.8rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.5rem} figure{margin:1rem 0} figcaption{font-weight:600;margin-bottom:.3rem}
td.src{word-break:break-all;min-width:11rem;max-width:16rem;font-size:.8rem} td.msg{min-width:26rem}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _bar_chart(title: str, rows: list[tuple[str, float, float | None]], unit: str, alarm=None) -> str:
    """Horizontal bars (value against an optional cap line), as inline SVG: no scripts, no
    network. A bar is red when *alarm(value, cap)* says so (default: over the cap)."""
    alarm = alarm or (lambda value, cap: cap is not None and value > cap)
    if not rows:
        return ""
    top = max(max(v, c or 0) for _, v, c in rows) or 1
    width, label_w, bar_h, gap = 640, 150, 18, 8
    height = len(rows) * (bar_h + gap) + gap
    parts = [f'<figure><figcaption>{_e(title)}</figcaption>'
             f'<svg role="img" aria-label="{_e(title)}" width="{width + label_w + 90}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="12">']
    for i, (label, value, cap) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = value / top * width
        color = "#b3261e" if alarm(value, cap) else "#3b6fd8"
        parts.append(f'<text x="0" y="{y + 13}">{_e(label)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"><title>{_e(label)}: {value:g} {unit}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{value:g}{(" / " + format(cap, "g")) if cap is not None else ""} {unit}</text>')
        if cap is not None:
            x = label_w + cap / top * width
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" y2="{y + bar_h + 2}" stroke="#1d2430" stroke-width="2"/>')
    parts.append("</svg></figure>")
    return "".join(parts)


def _hours_charts(report: Report) -> str:
    out = []
    for pkg in report.sections.get("hours", []):
        rows = [(q["period"], q["hours"], q["cap"]) for q in pkg["quarters"]]
        out.append(_bar_chart(f"{pkg['contract']} · package {pkg['package']} ({pkg['tier']}): hours per quarter against the cap", rows, "h"))
    return "".join(out)


def _sla_chart(report: Report) -> str:
    rows = []
    for row in report.sections.get("sla_attainment", []) or []:
        if isinstance(row, dict) and row.get("measured"):
            label = f"{row.get('contract', '')} {row.get('tier', '')} {row.get('severity', '')}".strip()
            rows.append((label, round(100.0 * row.get("met", 0) / row["measured"], 1), None))
    below = lambda value, cap: value < 100  # noqa: E731 - any breached ticket
    return _bar_chart("SLA attainment: % of measured tickets that met every target", rows, "%", below) if rows else ""


def write_html(report: Report, stream: TextIO) -> None:
    s = report.summary()
    cards = [("findings", s["findings"]), *s["by_level"].items(), ("waived", s["waived"]), ("records", s["records"]),
             ("contracts", s["contracts"])]
    money: dict[str, float] = {}
    for rule_id, e in s["by_rule"].items():
        if rule_id.startswith("billing.overage_unbilled"):
            for c, a in e["amounts"].items():
                money[c] = money.get(c, 0.0) + a
    rows = "".join(
        f'<tr class="{"waived" if f.waived else ""}"><td class="{f.level}">{_e(f.level)}</td><td>{_e(f.rule)}</td>'
        f"<td>{_e(f.contract or '')}</td><td>{_e(f.lob or '')}</td><td>{_e(f.record or '')}</td>"
        f"<td class=src>{_e(f.source or '')}</td><td>{_e(f.clause)}</td><td class=num>{_e(_impact(f))}</td><td class=msg>{_e(f.message)}"
        + (f"<br><span class=muted>waived: {_e(f.waiver['reason'])} ({_e(f.waiver['approved_by'])}, until {_e(f.waiver['expires'])})</span>" if f.waived else "")
        + "</td></tr>"
        for f in report.findings
    )
    by_rule = "".join(
        f"<tr><td>{_e(r)}</td><td class=num>{e['count']}</td><td class=num>{e['hours']:g}</td>"
        f"<td>{_e(', '.join(f'{c} {a:,.2f}' for c, a in e['amounts'].items()))}</td></tr>"
        for r, e in s["by_rule"].items()
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cso-policy audit</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body>
<h1>cso-policy audit</h1>
<p class="muted">{_e(', '.join(report.policies))} · as of {_e(report.as_of.isoformat() if report.as_of else 'now')}</p>
<section class="cards">{''.join(f'<div class="card"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in cards)}
{''.join(f'<div class="card"><b>{_e(c)} {a:,.2f}</b>overage unbilled</div>' for c, a in sorted(money.items()))}</section>
<h2>By rule</h2>
<table><thead><tr><th>rule</th><th>count</th><th>hours</th><th>amounts</th></tr></thead><tbody>{by_rule}</tbody></table>
<h2>Hours burn</h2>
{_hours_charts(report) or '<p class="muted">no work recorded</p>'}
<h2>SLA attainment</h2>
{_sla_chart(report) or '<p class="muted">no tickets measured</p>'}
<h2>Findings</h2>
<table id="findings"><thead><tr><th>level</th><th>rule</th><th>contract</th><th>lob</th><th>record</th><th>source</th>
<th>clause</th><th>impact</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>
</body></html>
"""
    stream.write(page)


FORMATS = (
    ReportFormat(name="sarif", write=write_sarif, description="SARIF 2.1.0 for code scanning", ),
    ReportFormat(name="junit", write=write_junit, description="JUnit XML: a test case per contract x rule"),
    ReportFormat(name="csv", write=write_csv, description="one row per finding, impact columns"),
    ReportFormat(name="markdown", write=write_markdown, description="summary and findings table"),
    ReportFormat(name="html", write=write_html, description="self-contained page with charts"),
)

EXTENSIONS = {"text": "txt", "json": "json", "sarif": "sarif", "junit": "xml", "csv": "csv", "markdown": "md", "html": "html"}


@hookimpl
def cso_policy_report_formats():
    return FORMATS
