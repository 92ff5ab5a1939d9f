"""A self-contained HTML page for any screen: summary cards, the by-rule table, hours and SLA
charts as inline SVG with their numbers in tables too, the runs over time (``report.history``),
and the findings grouped by contract with a search box and level/rule filters.

Nothing leaves the page: no external resource, no fetch; a Content-Security-Policy allows only
the page's own style and script (by hash). The small inline script only filters; without
JavaScript every finding is listed. The findings are written as they are read (a report may hold
half a million findings read back from disk): one group per contract as the contracts come (the
findings are sorted by contract), in chunks, never the whole list in memory."""

from __future__ import annotations

import base64
import hashlib
import html
import math
from datetime import datetime
from typing import TextIO

from ..markers import hookimpl
from . import Report, ReportFormat
from .markdown import _impact

COLUMNS = ("level", "rule", "contract", "lob", "record", "source", "clause", "impact", "message")
HISTORY_COLUMNS = ("run", "ran at", "by", "as of", "findings", "waived", "money")

LARGE_GROUP = 2000
"""A contract with more findings than this starts collapsed (its ``<details>`` closed: a click
opens it, no script needed), so a large report opens quickly; its heading gives the count."""

_CHUNK = 2000

CSS = """
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;padding:1rem;max-width:96rem;
color:#1d2430;line-height:1.4;overflow-wrap:break-word}
[hidden]{display:none!important}
h1{margin:0 0 .2rem} h2{margin:1.6rem 0 .4rem} .muted{color:#5b6270}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #dde;padding:.35rem .5rem;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere} th,td.num,td.lvl{overflow-wrap:normal}
th{background:#f3f5f9} td.num,th.num{text-align:right} .error{color:#b3261e;font-weight:600}
.warning{color:#9a6700;font-weight:600} .info{color:#0b57d0} tr.waived td{color:#5b6270;text-decoration:line-through}
tr.waived td .muted{text-decoration:none}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.75rem;margin:1rem 0}
.card{border:1px solid #dde;border-radius:8px;padding:.6rem .8rem}
.card b{display:block;font-size:1.2rem}
figure{margin:1rem 0;max-width:42rem} figcaption{font-weight:600;margin-bottom:.3rem}
figure svg{display:block;width:100%;height:auto}
details>summary{cursor:pointer}
figure details{margin:.3rem 0} figure details>summary{font-size:.9rem;color:#0b57d0}
td.src{font-size:.8rem}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:.5rem 0 1rem}
.filters label{display:flex;flex-direction:column;font-size:.85rem;min-width:0;max-width:100%}
.filters label.search{flex:1 1 14rem} .filters label.check{flex-direction:row;gap:.3rem;align-items:center}
.filters input[type=search],.filters select{font:inherit;padding:.3rem .4rem;max-width:100%;min-width:0}
.group{margin:.6rem 0;border-top:1px solid #dde}
.group>details>summary{padding:.4rem 0}
.group h3{display:inline;font-size:1.05rem;margin:0 .5rem 0 0}
table.findings{table-layout:fixed} col.c-level{width:5.5rem} col.c-clause{width:6.5rem} col.c-impact{width:7.5rem}
col.c-rule,col.c-record,col.c-source{width:14%} col.c-contract{width:10%} col.c-lob{width:9%}
@media (max-width:60rem){
body{padding:.75rem}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:auto}
table.stack colgroup{display:none}
table.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table.stack tr{border:1px solid #dde;border-radius:6px;margin:.5rem 0;padding:.3rem .6rem}
table.stack td{border:0;padding:.1rem 0;text-align:left}
table.stack td:empty{display:none}
table.stack td::before{display:inline-block;min-width:5rem;margin-right:.5rem;color:#5b6270;
font-weight:400;font-size:.8rem;text-decoration:none}
""" + "".join(f"table.{table} td:nth-child({i})::before{{content:\"{name}\"}}\n"
              for table, columns in (("findings", COLUMNS), ("history", HISTORY_COLUMNS))
              for i, name in enumerate(columns, 1)) + "}\n"

SCRIPT = """
(function(){
var form=document.getElementById('filters');if(!form)return;
var q=document.getElementById('q'),level=document.getElementById('level'),rule=document.getElementById('rule'),
waived=document.getElementById('show-waived'),shown=document.getElementById('shown');
var groups=[].slice.call(document.querySelectorAll('#findings .group'));
var rules={};
groups.forEach(function(g){
  g.rows=[].slice.call(g.querySelectorAll('tbody tr'));
  g.details=g.querySelector('details');g.count=g.querySelector('.count');g.label=g.count.textContent;
  g.rows.forEach(function(r){rules[r.getAttribute('data-rule')]=1;});
});
Object.keys(rules).sort().forEach(function(name){var o=document.createElement('option');o.value=name;o.textContent=name;rule.appendChild(o);});
var total=groups.reduce(function(n,g){return n+g.rows.length;},0);
function apply(){
  var text=q.value.trim().toLowerCase(),lv=level.value,rl=rule.value,ww=waived.checked;
  var active=!!(text||lv||rl||!ww),seen=0;
  groups.forEach(function(g){
    var n=0;
    g.rows.forEach(function(r){
      var ok=(!lv||r.getAttribute('data-level')===lv)&&(!rl||r.getAttribute('data-rule')===rl)
        &&(ww||!r.classList.contains('waived'))&&(!text||r.textContent.toLowerCase().indexOf(text)>=0);
      r.hidden=!ok;if(ok)n++;
    });
    seen+=n;g.hidden=active&&n===0;
    g.count.textContent=active?n+' of '+g.rows.length+' shown':g.label;
    if(active&&n>0&&n<=500&&!g.details.open){g.details.open=true;g.auto=true;}
    if(!active&&g.auto){g.details.open=false;g.auto=false;}
  });
  shown.textContent=active?seen+' of '+total+' findings shown':total+' findings listed';
}
var timer;function later(){clearTimeout(timer);timer=setTimeout(apply,total>20000?300:80);}
q.addEventListener('input',later);[level,rule,waived].forEach(function(el){el.addEventListener('change',apply);});
form.addEventListener('submit',function(e){e.preventDefault();apply();});
form.hidden=false;apply();
})();
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


# only the page's own style and script run; nothing is loaded from anywhere
CSP = (f"default-src 'none'; style-src {_hash(CSS)}; script-src {_hash(SCRIPT)}; "
       "base-uri 'none'; form-action 'none'")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _stamp(value) -> str:
    """A timestamp to the second (``2026-12-31T00:00:00+00:00``): a datetime, or an ISO text as
    stored; anything else as it is."""
    if value is None:
        return ""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(moment, datetime):
        return moment.replace(microsecond=0).isoformat()
    return str(value)


def _time(value) -> str:
    text = _stamp(value)
    return f'<time datetime="{_e(text)}">{_e(text)}</time>' if text else ""


def _hours(value) -> str:
    """Hours for a table cell: empty when there are none (a rule without hours)."""
    return f"{value:g}" if value else ""


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset(), cls: str = "") -> str:
    """A table of already escaped cells, in a box of its own that scrolls when it must."""
    ths = "".join(f'<th scope="col"{" class=num" if i in numeric else ""}>{h}</th>' for i, h in enumerate(head))
    trs = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(row))
                  + "</tr>" for row in rows)
    return (f'<div class="scroll"><table{f" class={cls}" if cls else ""}><thead><tr>{ths}</tr></thead>'
            f"<tbody>{trs}</tbody></table></div>")


def _bar_chart(title: str, rows: list[tuple[str, float, float | None]], unit: str, alarm=None,
               numbers: str = "") -> str:
    """Horizontal bars (value against an optional cap line), as inline SVG scaled to the width of
    the screen (a viewBox): no scripts, no network. A bar is red when *alarm(value, cap)* says so
    (default: over the cap). *numbers* is the chart's numbers as a table, shown under the chart
    in a ``<details>`` (default: label, value and cap)."""
    alarm = alarm or (lambda value, cap: cap is not None and value > cap)
    if not rows:
        return ""
    top = max(max(v, c or 0) for _, v, c in rows) or 1
    width, label_w, bar_h, gap, right = 340, 150, 20, 8, 110
    height = len(rows) * (bar_h + gap) + gap
    total_w = label_w + width + right
    parts = [f'<figure><figcaption>{_e(title)}</figcaption>'
             f'<svg role="img" aria-label="{_e(title)}" viewBox="0 0 {total_w} {height}" '
             f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg" font-size="15">']
    for i, (label, value, cap) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = value / top * width
        color = "#b3261e" if alarm(value, cap) else "#3b6fd8"
        parts.append(f'<text x="0" y="{y + 15}">{_e(_short(label, 18))}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"><title>{_e(label)}: {value:g} {unit}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 15}">{value:g}{(" / " + format(cap, "g")) if cap is not None else ""} {unit}</text>')
        if cap is not None:
            x = label_w + cap / top * width
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" y2="{y + bar_h + 2}" stroke="#1d2430" stroke-width="2"/>')
    parts.append("</svg>")
    if not numbers:
        capped = any(c is not None for _, _, c in rows)
        head = ["", _e(unit)] + (["cap"] if capped else [])
        numbers = _table(head, [[_e(label), f"{value:g}"] + ([_e(format(cap, "g")) if cap is not None else ""] if capped else [])
                                for label, value, cap in rows], numeric={1, 2}, cls="chart-data")
    parts.append(f"<details><summary>the numbers</summary>{numbers}</details></figure>")
    return "".join(parts)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _rows(value) -> list[dict]:
    """The rows of a summary section, which may be any JSON a plugin gave: only its objects."""
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _hours_charts(report: Report) -> str:
    out = []
    for pkg in _rows(report.sections.get("hours")):
        rows = [(str(q.get("period", "")), q["hours"], q.get("cap")) for q in _rows(pkg.get("quarters"))
                if _number(q.get("hours")) and (q.get("cap") is None or _number(q.get("cap")))]
        numbers = _table(["quarter", "hours", "cap", "over the cap"],
                         [[_e(p), f"{h:g}", _e(format(c, "g")) if c is not None else "",
                           f"{h - c:g}" if c is not None and h > c else ""] for p, h, c in rows],
                         numeric={1, 2, 3}, cls="chart-data")
        out.append(_bar_chart(f"{pkg.get('contract')} · package {pkg.get('package')} ({pkg.get('tier')}): hours per quarter against the cap",
                              rows, "h", numbers=numbers))
    return "".join(out)


def _sla_chart(report: Report) -> str:
    rows, cells = [], []
    for row in _rows(report.sections.get("sla_attainment")):
        if _number(row.get("measured")) and row["measured"] and _number(row.get("met", 0)):
            label = f"{row.get('contract', '')} {row.get('tier', '')} {row.get('severity', '')}".strip()
            share = round(100.0 * row.get("met", 0) / row["measured"], 1)
            rows.append((label, share, None))
            cells.append([_e(row.get("contract", "")), _e(row.get("tier", "")), _e(row.get("severity", "")),
                          _e(row["measured"]), _e(row.get("met", 0)), f"{share:g}"])
    below = lambda value, cap: value < 100  # noqa: E731 - any breached ticket
    numbers = _table(["contract", "tier", "severity", "measured", "met", "%"], cells, numeric={3, 4, 5}, cls="chart-data")
    return _bar_chart("SLA attainment: % of measured tickets that met every target", rows, "%", below,
                      numbers=numbers) if rows else ""


def _money(amounts: dict) -> str:
    return ", ".join(f"{c} {a:,.2f}" for c, a in amounts.items())


def _history(report: Report) -> str:
    """The workspace's runs kept in a history store: findings and money per run, over time."""
    runs = report.history or []
    if not runs:
        return ""
    rows = "".join(
        f"<tr><td class=num>{_e(r['id'])}</td><td>{_time(r['ran_at'])}</td><td>{_e(r['ran_by'])}</td>"
        f"<td>{_time(r['as_of'])}</td><td class=num>{_e(r['findings'])}</td><td class=num>{_e(r['waived'])}</td>"
        f"<td>{_e(_money(r['amounts']) or '-')}</td></tr>"
        for r in runs)
    chart = _bar_chart("Findings per run", [(f"run {r['id']}", float(r["findings"]), None) for r in runs], "findings",
                       alarm=lambda value, cap: False, numbers="<p class=muted>in the table below</p>")
    return (f"<h2>History</h2>{chart}<div class=scroll><table id=history class='history stack'><thead><tr><th>run</th><th>ran at</th><th>by</th>"
            f"<th>as of</th><th class=num>findings</th><th class=num>waived</th><th>money</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>")


FILTERS = """<form id="filters" class="filters" role="search" hidden>
<label class="search">search<input id="q" type="search" placeholder="record, message, source..." autocomplete="off"></label>
<label>level<select id="level"><option value="">any</option><option>error</option><option>warning</option><option>info</option></select></label>
<label>rule<select id="rule"><option value="">any</option></select></label>
<label class="check"><input id="show-waived" type="checkbox" checked>show waived</label>
<output id="shown" class="muted" aria-live="polite"></output>
</form>
"""

_THEAD = "<colgroup>" + "".join(f'<col class="c-{c}">' for c in COLUMNS) + "</colgroup><thead><tr>" + "".join(f'<th scope="col">{c}</th>' for c in COLUMNS) + "</tr></thead>"


def _group_head(contract: str | None, count: int) -> str:
    name = contract if contract is not None else "-"
    noun = "finding" if count == 1 else "findings"
    return (f'<section class="group" data-contract="{_e(name)}"><details{" open" if count <= LARGE_GROUP else ""}>'
            f'<summary><h3>{_e(name)}</h3><span class="count muted">{count} {noun}</span></summary>'
            f'<div class="scroll"><table class="findings stack">{_THEAD}<tbody>')


def _group_tail(rows: int, waived: int) -> str:
    note = f"{rows} listed" + (f", {waived} of them waived" if waived else "")
    return f'</tbody></table></div><p class="muted">{note}</p></details></section>\n'


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
        f"<tr><td>{_e(r)}</td><td class=num>{_e(e['count'])}</td><td class=num>{_hours(e['hours'])}</td>"
        f"<td>{_e(_money(e['amounts']))}</td></tr>"
        for r, e in s["by_rule"].items()
    )
    as_of = _time(report.as_of) if report.as_of else "now"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>cso-policy audit</title>
<style>{CSS}</style></head>
<body>
<header><h1>cso-policy audit</h1>
<p class="muted">{_e(', '.join(report.policies))} · as of {as_of}</p></header>
<section class="cards" aria-label="summary">{''.join(f'<div class="card"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in cards)}
{''.join(f'<div class="card"><b>{_e(c)} {a:,.2f}</b>overage unbilled</div>' for c, a in sorted(money.items()))}</section>
<h2>By rule</h2>
<div class="scroll"><table id="by-rule"><thead><tr><th>rule</th><th class=num>count</th><th class=num>hours</th><th>amounts</th></tr></thead><tbody>{by_rule}</tbody></table></div>
<h2>Hours burn</h2>
{_hours_charts(report) or '<p class="muted">no work recorded</p>'}
<h2>SLA attainment</h2>
{_sla_chart(report) or '<p class="muted">no tickets measured</p>'}
{_history(report)}
<section id="findings"><h2>Findings</h2>
<p class="muted">grouped by contract; waived findings are listed too, struck through</p>
{FILTERS}"""
    stream.write(page)
    by_contract = s.get("by_contract", {})
    chunk: list[str] = []
    current: object = ()  # no group yet
    rows = waived = 0
    for f in report.findings:  # one row at a time, a group per contract as they come: the findings may be many
        if f.contract != current:
            if current != ():
                chunk.append(_group_tail(rows, waived))
            current, rows, waived = f.contract, 0, 0
            chunk.append(_group_head(f.contract, by_contract.get(f.contract or "-", 0)))
        chunk.append(_finding_row(f))
        rows += 1
        waived += f.waived
        if len(chunk) >= _CHUNK:
            stream.write("".join(chunk))
            chunk = []
    if current != ():
        chunk.append(_group_tail(rows, waived))
    else:
        chunk.append('<p class="muted">no findings</p>')
    stream.write("".join(chunk))
    stream.write(f"</section>\n<script>{SCRIPT}</script>\n</body></html>\n")


def _finding_row(f) -> str:
    level = str(f.level)
    waived = (f"<br><span class=muted>waived: {_e(f.waiver['reason'])} ({_e(f.waiver['approved_by'])}, "
              f"until {_e(f.waiver['expires'])})</span>" if f.waived else "")
    return (f'<tr{" class=waived" if f.waived else ""} data-level="{_e(level)}" data-rule="{_e(f.rule)}">'
            f'<td class="lvl {_e(level)}">{_e(level)}</td><td>{_e(f.rule)}</td>'
            f"<td>{_e(f.contract or '')}</td><td>{_e(f.lob or '')}</td><td>{_e(f.record or '')}</td>"
            f"<td class=src>{_e(f.source or '')}</td><td>{_e(f.clause)}</td><td class=num>{_e(_impact(f))}</td>"
            f"<td class=msg>{_e(f.message)}{waived}</td></tr>")


FORMAT = ReportFormat(name="html", write=write_html, extension="html", description="self-contained page with charts")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
