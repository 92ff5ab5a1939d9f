"""The HTML report as a page for any screen (issue 16, item 5).

The page is opened in a real headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it
when missing, and in CI a missing browser fails instead of skipping) at 390 px and 1280 px: the
page never scrolls sideways, no request leaves the page, the inline filter script hides rows as
one types, and without JavaScript every finding is listed. The browser is driven over the
DevTools protocol on a pipe (``--remote-debugging-pipe``): the standard library is enough, no
driver package.

Besides: every chart has its numbers in a table, findings are grouped by contract, timestamps
are to the second, the hours column is empty for rules without hours, every user string is
escaped, and the findings are written as they are read.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import select
import shutil
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from attrs import evolve as attrs_evolve

from cso_policy.core.findings import FindingCounts
from cso_policy.core.model import Finding, Impact, Level
from cso_policy.reports import Report
from cso_policy.reports import html as html_report
from cso_policy.testing import EXAMPLE_CONTRACT_ID, Workspace
from tests.test_reports import Tree, assert_self_contained, findings_rows, findings_trs

LONG_ID = "REC-" + "x" * 160  # one token, no place to break
LONG_LOB = "L" * 120
EVIL = "<img src=x onerror=alert(1)>\"'&amp;"
OTHER = "C-" + "LONG-CONTRACT-ID-" * 6  # a second contract with a long id
WIDTHS = (390, 1280)


# ---------------------------------------------------------------- the reports


def work(i: int, *, lob: str = "retail", contract: str = EXAMPLE_CONTRACT_ID, id: str | None = None) -> dict:
    return {"kind": "work", "id": id or f"{LONG_ID}-{i}", "contract": contract, "lob": lob,
            "date": f"2026-{1 + i % 9:02d}-{10 + i % 15:02d}", "hours": 40, "service": "general_account_consulting"}


def big_workspace(root: Path) -> Workspace:
    """Two contracts; 300 + 60 work records of 40 h with long ids, every other one on a line of
    business the contract does not have (a finding each, its message naming the long lob), the
    hours over the caps; one record id is markup."""
    ws = Workspace(root)
    ws.contract()
    ws.contract(id=OTHER)
    ws.records([work(i, lob="retail" if i % 2 else LONG_LOB) for i in range(300)]
               + [work(i, lob="retail" if i % 2 else LONG_LOB, contract=OTHER) for i in range(60)]
               + [work(999, lob=LONG_LOB, id=EVIL)])
    return ws


@pytest.fixture
def big(tmp_path):
    return big_workspace(tmp_path / "ws").audit()


def page_of(report: Report) -> str:
    out = io.StringIO()
    html_report.write_html(report, out)
    return out.getvalue()


# ---------------------------------------------------------------- the page, parsed


def test_findings_are_grouped_by_contract_with_counts(big):
    text = page_of(big.report)
    dom = Tree(text).root
    assert_self_contained(dom)
    findings = list(big.report.findings)
    groups = [g for g in dom.find("section", id="findings").iter("section") if g.attrs.get("class") == "group"]
    contracts = list(dict.fromkeys(f.contract for f in findings))
    assert [g.attrs["data-contract"] for g in groups] == contracts == sorted([EXAMPLE_CONTRACT_ID, OTHER])
    by_contract = big.report.summary()["by_contract"]
    for group in groups:
        contract = group.attrs["data-contract"]
        assert group.find("h3").text() == contract
        count = next(n for n in group.iter("span") if "count" in n.attrs.get("class", ""))
        assert count.text() == f"{by_contract[contract]} findings"
        rows = [tr for table in group.iter("table") for tr in table.find("tbody").iter("tr")]
        assert len(rows) == sum(f.contract == contract for f in findings)
        assert all(tr.attrs["data-rule"] and tr.attrs["data-level"] in ("error", "warning", "info") for tr in rows)
        assert "open" in group.find("details").attrs  # small groups open: everything readable
    assert len(findings_rows(dom)) == len(findings) > 150


def test_a_contract_with_many_findings_starts_collapsed(big, monkeypatch):
    monkeypatch.setattr(html_report, "LARGE_GROUP", 100)
    dom = Tree(page_of(big.report)).root
    details = {g.attrs["data-contract"]: g.find("details") for g in dom.iter("section")
               if g.attrs.get("class") == "group"}
    assert "open" not in details[EXAMPLE_CONTRACT_ID].attrs  # > 100 findings: a click opens it
    assert "open" in details[OTHER].attrs
    assert len(findings_rows(dom)) == len(list(big.report.findings))  # still all in the page


def test_every_user_string_is_escaped(big):
    text = page_of(big.report)
    assert "<img" not in text and "onerror=alert(1)>" not in text
    assert html_report._e(EVIL) in text
    rows = findings_rows(Tree(text).root)
    assert any(r[4] == EVIL for r in rows)  # the record id reads as written


def test_every_user_string_is_escaped_everywhere():
    # markup in every string a report shows: finding fields, waiver, charts, history, policies
    finding = Finding(rule=f"r.{EVIL}", level=Level.ERROR, contract=EVIL, lob=EVIL, record=EVIL, source=EVIL,
                      message=EVIL, clause=EVIL, policy=EVIL, impact=Impact(hours=2.0, amount=3.0, currency=EVIL),
                      waiver={"reason": EVIL, "approved_by": EVIL, "expires": EVIL})
    report = Report(findings=[finding, attrs_evolve(finding, waiver=None)], rules=[], contracts=[EVIL],
                    policies=[EVIL], records=2,
                    sections={"hours": [{"contract": EVIL, "package": EVIL, "tier": EVIL,
                                         "quarters": [{"period": EVIL, "hours": 5.0, "cap": 4.0}]}],
                              "sla_attainment": [{"contract": EVIL, "tier": EVIL, "severity": EVIL, "measured": 2, "met": 1}]})
    report.history = [{"id": EVIL, "ran_at": EVIL, "ran_by": EVIL, "as_of": EVIL, "findings": 1, "waived": 1,
                       "amounts": {EVIL: 1.0}}]
    text = page_of(report)
    dom = Tree(text).root
    assert_self_contained(dom)
    assert not list(dom.iter("img")) and len(list(dom.iter("script"))) == 1
    assert "<img" not in text
    assert all(tr.attrs["data-rule"] == f"r.{EVIL}" for tr in findings_trs(dom))
    assert [g.attrs["data-contract"] for g in dom.iter("section") if g.attrs.get("class") == "group"] == [EVIL]
    rows = findings_rows(dom)
    assert rows[0][1:7] == [f"r.{EVIL}", EVIL, EVIL, EVIL, EVIL, EVIL]
    assert rows[0][8] == f"{EVIL}waived: {EVIL} ({EVIL}, until {EVIL})"
    body = dom.find("body").text()
    assert body.count(EVIL) >= 30


def test_every_chart_has_its_numbers_in_a_table(big):
    dom = Tree(page_of(big.report)).root
    figures = list(dom.iter("figure"))
    hours = big.report.sections["hours"]
    assert len(figures) == len(hours) >= 2
    for figure, pkg in zip(figures, hours):
        svg = figure.find("svg")
        assert "viewBox" in {k.lower(): v for k, v in svg.attrs.items()} or "viewbox" in svg.attrs
        assert "width" not in svg.attrs  # scaled by CSS to the width of the screen
        table = figure.find("details").find("table")
        cells = [[td.text() for td in tr.iter("td")] for tr in table.find("tbody").iter("tr")]
        assert [c[:3] for c in cells] == [[q["period"], f"{q['hours']:g}", f"{q['cap']:g}"] for q in pkg["quarters"]]
        assert [c[3] for c in cells] == [f"{q['hours'] - q['cap']:g}" if q["hours"] > q["cap"] else ""
                                         for q in pkg["quarters"]]


def test_the_sla_chart_and_the_history_chart_have_their_numbers_in_tables(big):
    report = big.report
    report.sections["sla_attainment"] = [{"contract": "C-1", "tier": "premier", "severity": "P3", "measured": 4, "met": 3}]
    report.history = [
        {"id": 1, "ran_at": "2026-12-30T10:11:12.345678+00:00", "ran_by": "ann", "as_of": "2026-12-30T00:00:00.5+00:00",
         "findings": 7, "waived": 1, "amounts": {"USD": 1680.0}},
        {"id": 2, "ran_at": "2026-12-31T10:11:12+00:00", "ran_by": "bob", "as_of": "2026-12-31T00:00:00Z",
         "findings": 5, "waived": 0, "amounts": {}},
    ]
    text = page_of(report)
    dom = Tree(text).root
    sla = next(f for f in dom.iter("figure") if f.find("svg").attrs["aria-label"].startswith("SLA attainment"))
    assert [[td.text() for td in tr.iter("td")] for tr in sla.find("table").find("tbody").iter("tr")] == [
        ["C-1", "premier", "P3", "4", "3", "75"]]
    history = dom.find("table", id="history")
    assert [[td.text() for td in tr.iter("td")] for tr in history.find("tbody").iter("tr")] == [
        ["1", "2026-12-30T10:11:12+00:00", "ann", "2026-12-30T00:00:00+00:00", "7", "1", "USD 1,680.00"],
        ["2", "2026-12-31T10:11:12+00:00", "bob", "2026-12-31T00:00:00+00:00", "5", "0", "-"]]
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", text)


def test_timestamps_are_to_the_second(tmp_path):
    ws = big_workspace(tmp_path / "ws")
    result = ws.audit(as_of=datetime(2026, 12, 31, 12, 30, 45, 123456, tzinfo=timezone.utc))
    text = page_of(result.report)
    assert "as of <time datetime=\"2026-12-31T12:30:45+00:00\">2026-12-31T12:30:45+00:00</time>" in text
    assert "123456" not in text and not re.search(r"\d\d:\d\d:\d\d\.\d", text)


def test_the_hours_column_is_empty_for_rules_without_hours(big):
    dom = Tree(page_of(big.report)).root
    table = dom.find("table", id="by-rule")
    hours = {tr.find("td").text(): [td.text() for td in tr.iter("td")][2] for tr in table.find("tbody").iter("tr")}
    summary = big.report.summary()["by_rule"]
    assert hours["input.unknown_reference"] == "" and summary["input.unknown_reference"]["hours"] == 0
    assert hours["entitlement.quarterly_hours"] == f"{summary['entitlement.quarterly_hours']['hours']:g}" != ""


class Rows:
    """Findings as a report reads them back from disk: an iterable with len(), and a check that
    the page's head is written before the first finding is read."""

    def __init__(self, n: int, stream: Writes):
        self.n, self.stream = n, None
        self.counts = FindingCounts.of(self)  # counted as they passed, as an audit's own findings are
        self.stream = stream

    def __len__(self):
        return self.n

    def __iter__(self):
        for i in range(self.n):
            if i == 0 and self.stream is not None:
                assert "<h2>Findings</h2>" in "".join(self.stream.parts)
            yield Finding(rule="demo.rule", level=Level.WARNING, contract=f"C-{i // 2500}", lob="a", record=f"r{i}",
                          source=f"f.jsonl:{i + 1}", message="m", clause="1", policy=None,
                          impact=Impact(hours=1.0))


class Writes(io.StringIO):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def write(self, s):
        self.parts.append(s)
        return super().write(s)


def test_the_findings_are_written_as_they_are_read():
    stream = Writes()
    report = Report(findings=Rows(10_000, stream), rules=[], contracts=["C-0", "C-1", "C-2", "C-3"])
    html_report.write_html(report, stream)
    assert max(part.count("<tr data-level") for part in stream.parts) <= 2000  # in chunks, never the whole list
    assert stream.getvalue().count("<tr data-level") == 10_000
    assert stream.getvalue().count('<section class="group"') == 4


# ---------------------------------------------------------------- in a real headless Chromium


def find_browser() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4): JSON
    messages ended by a NUL byte. Every request a page makes is recorded (Network) and paused
    (Fetch): the page's own file goes on, any other request fails."""

    def __init__(self, executable: str, profile: Path):
        to_r, self._to = os.pipe()
        self._from, from_w = os.pipe()
        for fd in (to_r, from_w):  # out of the way of fds 3 and 4
            high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
            os.close(fd)
            to_r, from_w = (high, from_w) if fd == to_r else (to_r, high)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "about:blank"]

        def pipes():  # in the child: the browser reads commands on fd 3 and writes on fd 4
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        log = os.environ.get("BROWSER_LOG")
        self.process = subprocess.Popen(  # noqa: PLW1509 - preexec_fn only dups the two pipes
            [executable, *args], preexec_fn=pipes, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=open(log, "w") if log else subprocess.DEVNULL)  # noqa: SIM115
        os.close(to_r)
        os.close(from_w)
        self._buffer, self._id, self.events = b"", 0, []
        self.requests: list[str] = []
        self.allowed: str | None = None
        self.session: str | None = None

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=10)
        except Exception:  # noqa: BLE001 - it is going anyway
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to)
        os.close(self._from)

    def _send(self, method: str, params: dict | None = None, session: bool = True) -> int:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to, json.dumps(message).encode() + b"\0")
        return self._id

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from], [], [], left)[0]:
                raise TimeoutError("the browser did not answer")
            data = os.read(self._from, 1 << 20)
            if not data:
                raise RuntimeError("the browser closed the pipe")
            self._buffer += data
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def _event(self, message: dict) -> None:
        method, params = message["method"], message.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Fetch.requestPaused":
            url = params["request"]["url"]
            self.requests.append(url)
            if url == self.allowed:
                self._send("Fetch.continueRequest", {"requestId": params["requestId"]})
            else:
                self._send("Fetch.failRequest", {"requestId": params["requestId"], "errorReason": "BlockedByClient"})
        self.events.append(message)

    def call(self, method: str, params: dict | None = None, *, session: bool = True, timeout: float = 60) -> dict:
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if "method" in message:
                self._event(message)
            elif message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if "method" in message:
                self._event(message)
                if message["method"] == method:
                    return message

    def open(self, url: str, width: int, *, javascript: bool = True) -> None:
        """A new tab of *width* x 900 CSS px (desktop metrics: the page cannot zoom out to fit)."""
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        self.allowed = url
        self.call("Network.enable")
        self.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        if not javascript:
            self.call("Emulation.setScriptExecutionDisabled", {"value": True})
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise AssertionError(result["exceptionDetails"])
        return result["result"].get("value")

    def type(self, text: str) -> None:
        self.call("Input.insertText", {"text": text})


# CI installs Debian's chromium (.ci/run): there a missing browser is a failure, not a skip.
needs_browser = pytest.mark.skipif(find_browser() is None and not os.environ.get("CI"),
                                   reason="no headless browser (chromium, chromium-browser, google-chrome)")


@pytest.fixture
def browser(tmp_path):
    executable = find_browser()
    assert executable is not None, "no headless browser: .ci/run installs Debian's chromium"
    b = Browser(executable, tmp_path / "browser-profile")
    yield b
    b.close()


@pytest.fixture
def big_page(tmp_path, big):
    path = tmp_path / "report.html"
    report = big.report
    report.sections["sla_attainment"] = [{"contract": OTHER, "tier": "premier", "severity": "P3", "measured": 4, "met": 3}]
    report.history = [{"id": i, "ran_at": f"2026-12-{i:02d}T10:11:12.5+00:00", "ran_by": "someone@example.com",
                       "as_of": "2026-12-31T00:00:00+00:00", "findings": 100 + i, "waived": 1,
                       "amounts": {"USD": 1680.0 * i, "EUR": 12.5}} for i in range(1, 13)]
    with path.open("w", encoding="utf-8") as fh:
        html_report.write_html(report, fh)
    return path.resolve().as_uri()


LAYOUT = """(() => {
  const width = window.innerWidth, doc = document.documentElement;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.scroll') && !el.classList.contains('scroll')) continue;  // scrolls inside its own box
    const box = el.getBoundingClientRect();
    if (box.width && (box.right > width + 0.5 || box.left < -0.5)) wide.push(el.tagName + '.' + el.className);
  }
  const inner = [...document.querySelectorAll('.scroll')].filter(s => s.scrollWidth > s.clientWidth + 1)
    .map(s => s.querySelector('table') && (s.querySelector('table').id || s.querySelector('table').className));
  return {width, clientWidth: doc.clientWidth, scrollWidth: doc.scrollWidth, bodyScroll: document.body.scrollWidth,
          wide: wide.slice(0, 10), inner};
})()"""

ROWS = "[...document.querySelectorAll('#findings table.findings tbody tr')]"
VISIBLE = f"{ROWS}.filter(r => r.getClientRects().length > 0).length"


@needs_browser
@pytest.mark.parametrize("width", WIDTHS)
def test_the_page_never_scrolls_sideways(browser, big_page, width):
    browser.open(big_page, width)
    layout = browser.js(LAYOUT)
    assert layout["width"] == layout["clientWidth"] == width
    assert layout["scrollWidth"] <= layout["width"] and layout["bodyScroll"] <= layout["width"], layout
    assert layout["wide"] == [], layout
    # the findings and the by-rule table fit without scrolling even inside their boxes (cards on a
    # phone); the history and a chart's numbers may scroll inside their own box on a phone
    assert set(layout["inner"]) <= ({"history", "chart-data"} if width < 600 else set()), layout
    assert browser.js(VISIBLE) == len(findings_rows(Tree(Path(big_page[7:]).read_text()).root))
    assert browser.js("document.querySelectorAll('figure svg').length") == 4  # 2 hours charts, SLA, history
    assert browser.js("[...document.querySelectorAll('figure svg')].every(s => s.getBoundingClientRect().width <= innerWidth)")


@needs_browser
@pytest.mark.parametrize("width", WIDTHS)
def test_no_request_leaves_the_page(browser, big_page, width):
    browser.open(big_page, width)
    browser.js("document.getElementById('q').focus()")
    browser.type("x-1")
    time.sleep(0.5)
    browser.js("document.querySelectorAll('details').forEach(d => d.open = true); 1")
    assert browser.requests, "the recorder saw not even the page"
    assert set(browser.requests) <= {big_page}, browser.requests
    assert not [e for e in browser.events if e["method"] == "Network.loadingFailed"]


@needs_browser
def test_the_request_recorder_sees_a_request_that_leaves(browser, tmp_path):
    # the control for the test above: a page that does load something is caught (and stopped)
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/pixel.png"></body></html>')
    browser.open(leaky.resolve().as_uri(), 390)
    assert "http://127.0.0.1:9/pixel.png" in browser.requests


@needs_browser
def test_the_filters_hide_rows_as_one_types(browser, big_page):
    browser.open(big_page, 390)
    total = browser.js(f"{ROWS}.length")
    assert browser.js("document.getElementById('filters').hidden") is False
    assert browser.js(VISIBLE) == total
    assert browser.js("document.getElementById('shown').textContent") == f"{total} findings listed"
    browser.js("document.getElementById('q').focus()")
    browser.type(f"{LONG_ID}-17")  # record 17 of each contract
    deadline = time.monotonic() + 10
    while browser.js(VISIBLE) == total and time.monotonic() < deadline:
        time.sleep(0.05)
    shown = browser.js(f"{ROWS}.filter(r => r.getClientRects().length > 0).map(r => r.cells[4].textContent)")
    rows = findings_rows(Tree(Path(big_page[7:]).read_text()).root)
    expected = [r[4] for r in rows if f"{LONG_ID}-17".lower() in "".join(r).lower()]  # 17, 170..179 with findings
    assert shown == expected and {f"{LONG_ID}-170", f"{LONG_ID}-178"} <= set(shown), shown
    assert len(shown) < total
    assert browser.js("document.getElementById('shown').textContent") == f"{len(shown)} of {total} findings shown"
    # a level and a rule narrow it further; the rule list is made from the rows
    rules = browser.js("[...document.getElementById('rule').options].map(o => o.value)")
    assert rules[0] == "" and "input.unknown_reference" in rules
    browser.js("document.getElementById('q').value = ''; const r = document.getElementById('rule');"
               "r.value = 'input.unknown_reference'; r.dispatchEvent(new Event('change')); 1")
    rows = browser.js(f"{ROWS}.filter(r => r.getClientRects().length > 0).map(r => r.dataset.rule)")
    assert rows and set(rows) == {"input.unknown_reference"} and len(rows) < total
    assert browser.js("innerWidth >= document.documentElement.scrollWidth")
    # the evil record id stays text: no image element came of it
    assert browser.js("document.querySelectorAll('#findings img').length") == 0


@needs_browser
def test_a_collapsed_contract_opens_when_a_search_finds_in_it(browser, big, tmp_path, monkeypatch):
    monkeypatch.setattr(html_report, "LARGE_GROUP", 100)
    path = tmp_path / "collapsed.html"
    path.write_text(page_of(big.report), encoding="utf-8")
    browser.open(path.resolve().as_uri(), 1280)
    opened = f"document.querySelector('.group[data-contract=\"{EXAMPLE_CONTRACT_ID}\"] details').open"
    assert browser.js(opened) is False
    browser.js("document.getElementById('q').focus()")
    browser.type(f"{LONG_ID}-23")
    deadline = time.monotonic() + 10
    while not browser.js(opened) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert browser.js(opened) is True


@needs_browser
def test_a_large_report_stays_usable(browser, tmp_path):
    # 13,000 findings over 6 contracts of 2,500 (and one of 500): the big ones start collapsed
    # with their counts, the page opens in seconds and a search answers at once
    path = tmp_path / "large.html"
    with path.open("w", encoding="utf-8") as fh:
        html_report.write_html(Report(findings=Rows(13_000, None), rules=[], contracts=[]), fh)
    started = time.monotonic()
    browser.open(path.resolve().as_uri(), 1280)
    assert time.monotonic() - started < 30
    assert browser.js("[...document.querySelectorAll('.group details')].map(d => d.open)") == [False] * 5 + [True]
    assert browser.js("[...document.querySelectorAll('.group .count')].map(c => c.textContent)") == (
        ["2500 findings"] * 5 + ["500 findings"])
    took = browser.js("(() => { const t = performance.now(), q = document.getElementById('q');"
                      "q.value = 'r1234'; q.form.requestSubmit(); return performance.now() - t; })()")
    assert took < 2000
    assert browser.js("document.getElementById('shown').textContent") == "11 of 13000 findings shown"  # r1234, r12340..9
    # r1234 in C-0, r12340..9 in C-4: the other groups hide, and the matches opened their groups
    assert browser.js("[...document.querySelectorAll('.group')].map(g => g.hidden)") == [False, True, True, True, False, True]
    assert browser.js("[...document.querySelectorAll('.group details')].map(d => d.open)") == [True, False, False, False, True, True]
    browser.js("const q = document.getElementById('q'); q.value = ''; q.form.requestSubmit(); 1")  # cleared: as it was
    assert browser.js("[...document.querySelectorAll('.group details')].map(d => d.open)") == [False] * 5 + [True]
    assert browser.js("document.getElementById('shown').textContent") == "13000 findings listed"
    assert browser.js("document.documentElement.scrollWidth <= innerWidth")


@needs_browser
@pytest.mark.parametrize("width", WIDTHS)
def test_without_javascript_every_finding_is_visible(browser, big_page, width):
    browser.open(big_page, width, javascript=False)
    total = len(findings_rows(Tree(Path(big_page[7:]).read_text()).root))
    assert browser.js(f"{ROWS}.length") == total
    assert browser.js(VISIBLE) == total  # every group open, nothing hidden
    assert browser.js("getComputedStyle(document.getElementById('filters')).display") == "none"  # inert without JS
    assert browser.js("document.getElementById('shown').textContent") == ""  # the script did not run
    layout = browser.js(LAYOUT)
    assert layout["scrollWidth"] <= width and layout["wide"] == [], layout
    assert set(browser.requests) <= {big_page}, browser.requests


@needs_browser
def test_the_page_of_the_cli_shows_timestamps_to_the_second(browser, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cso_policy.cli import main

    big_workspace(tmp_path / "ws")
    (tmp_path / "ws" / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records/*.jsonl"]\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["audit", "ws", "--as-of", "2026-12-31T00:00:00.250Z", "--format", "html",
                                       "--output", "page.html"])
    assert result.exit_code == 1, result.output
    browser.open((tmp_path / "page.html").resolve().as_uri(), 1280)
    assert browser.js("[...document.querySelectorAll('time')].map(t => t.textContent)") == ["2026-12-31T00:00:00+00:00"]
    assert "as of 2026-12-31T00:00:00+00:00" in browser.js("document.querySelector('header').textContent")
