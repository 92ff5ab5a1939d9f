"""A self-contained HTML page: summary cards, findings, hours and SLA charts as inline SVG."""

from __future__ import annotations

import html
from typing import TextIO

from ..markers import hookimpl
from . import Report, ReportFormat
from .markdown import _impact

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


def _history(report: Report) -> str:
    """The workspace's runs kept in a history store: findings and money per run, over time."""
    runs = report.history or []
    if not runs:
        return ""
    rows = "".join(
        f"<tr><td class=num>{_e(r['id'])}</td><td>{_e(r['ran_at'])}</td><td>{_e(r['ran_by'])}</td>"
        f"<td>{_e(r['as_of'])}</td><td class=num>{_e(r['findings'])}</td><td class=num>{_e(r['waived'])}</td>"
        f"<td>{_e(', '.join(f'{c} {a:,.2f}' for c, a in r['amounts'].items()) or '-')}</td></tr>"
        for r in runs)
    chart = _bar_chart("Findings per run", [(f"run {r['id']}", float(r["findings"]), None) for r in runs], "findings",
                       alarm=lambda value, cap: False)
    return (f"<h2>History</h2>{chart}<table id=history><thead><tr><th>run</th><th>ran at</th><th>by</th>"
            f"<th>as of</th><th>findings</th><th>waived</th><th>money</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def write_html(report: Report, stream: TextIO) -> None:
    s = report.summary()
    cards = [("findings", s["findings"]), *s["by_level"].items(), ("waived", s["waived"]), ("records", s["records"]),
             ("contracts", s["contracts"])]
    money: dict[str, float] = {}
    for rule_id, e in s["by_rule"].items():
        if rule_id.startswith("billing.overage_unbilled"):
            for c, a in e["amounts"].items():
                money[c] = money.get(c, 0.0) + a
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
{_history(report)}
<h2>Findings</h2>
<table id="findings"><thead><tr><th>level</th><th>rule</th><th>contract</th><th>lob</th><th>record</th><th>source</th>
<th>clause</th><th>impact</th><th>message</th></tr></thead><tbody>"""
    stream.write(page)
    chunk: list[str] = []
    for f in report.findings:  # one row at a time: the findings may be many
        chunk.append(_finding_row(f))
        if len(chunk) >= 2000:
            stream.write("".join(chunk))
            chunk = []
    stream.write("".join(chunk))
    stream.write("</tbody></table>\n</body></html>\n")


def _finding_row(f) -> str:
    waived = (f"<br><span class=muted>waived: {_e(f.waiver['reason'])} ({_e(f.waiver['approved_by'])}, "
              f"until {_e(f.waiver['expires'])})</span>" if f.waived else "")
    return (f'<tr class="{"waived" if f.waived else ""}"><td class="{f.level}">{_e(f.level)}</td><td>{_e(f.rule)}</td>'
            f"<td>{_e(f.contract or '')}</td><td>{_e(f.lob or '')}</td><td>{_e(f.record or '')}</td>"
            f"<td class=src>{_e(f.source or '')}</td><td>{_e(f.clause)}</td><td class=num>{_e(_impact(f))}</td>"
            f"<td class=msg>{_e(f.message)}{waived}</td></tr>")


FORMAT = ReportFormat(name="html", write=write_html, extension="html", description="self-contained page with charts")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
