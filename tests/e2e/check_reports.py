#!/usr/bin/env python3
"""Checks every format of one stored session's report against the session.

  check_reports.py DB SESSION DIR

DIR holds report.json, report.txt, report.md and report.html as `perfbisect
report` rendered them, and dom.html, the HTML report's DOM as headless
Chromium dumped it. Checked: the culprit's sha, effect and CI bounds in every
format; every tested commit in every format; in the browser's DOM, one chart
point per sample stored in the database (per commit, too) and the culprit
marker on the culprit.
"""
import collections
import html.parser
import json
import os
import sqlite3
import sys


def fail(message):
    sys.exit(f"FAIL: {message}")


class ChartParser(html.parser.HTMLParser):
    """The chart's sample points and the culprit marker of a DOM."""

    def __init__(self):
        super().__init__()
        self.points = collections.Counter()  # by data-commit
        self.markers = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "circle" and "sample" in a.get("class", "").split():
            self.points[a.get("data-commit")] += 1
        if a.get("id") == "culprit-marker":
            self.markers.append(a)

    handle_startendtag = handle_starttag


def main():
    db, session, directory = sys.argv[1:4]
    read = lambda name: open(os.path.join(directory, name), encoding="utf-8").read()
    report = json.loads(read("report.json"))
    text, md, page, dom = read("report.txt"), read("report.md"), read("report.html"), read("dom.html")

    if report["status"] != "culprit_found" or len(report["culprits"]) != 1:
        fail(f"expected one culprit, got {report['status']}: {report['culprits']}")
    c = report["culprits"][0]
    sha, short = c["commit"], c["commit"][:10]
    effect = f"{c['effect'] * 100:+.1f}%"
    bounds = f"{c['ci_low'] * 100:+.1f}…{c['ci_high'] * 100:+.1f}%"
    for name, body, culprit in (("text", text, f"Culprit: {sha}"), ("md", md, f"| `{short}` |"),
                                ("html", page, sha)):
        for part in (culprit, effect, bounds, "95% CI"):
            if part not in body:
                fail(f"the {name} report lacks {part!r}")
    if f"effect  {effect} (95% CI {bounds}), p = " not in text:
        fail("the text report's effect line is not '+x% (95% CI +a…+b%), p = …'")
    if "<details>" not in md or "</details>" not in md or not any(b in md for b in "▁▂▃▄▅▆▇█"):
        fail("the Markdown report lacks its collapsible details or its sparkline")

    tested = report["tested"]
    if len(tested) < 4:
        fail(f"only {len(tested)} tested commits")
    for t in tested:
        s = t["commit"][:10]
        for name, body, needle in (("text", text, f"  {s}  "), ("md", md, f"| `{s}` |"),
                                   ("html", page, f"<code>{s}</code>")):
            if needle not in body:
                fail(f"the {name} report lacks tested commit {s}")

    # The browser's DOM: one point per stored sample, per commit.
    with sqlite3.connect(db) as conn:
        stored = collections.Counter(
            {commit[:10]: n for commit, n in conn.execute(
                "SELECT commit_id, count(*) FROM samples WHERE session_id = ? AND ok = 1 "
                "GROUP BY commit_id", (session,))})
    chart = ChartParser()
    chart.feed(dom)
    total = sum(stored.values())
    if total != report["cost"]["samples"] or total == 0:
        fail(f"{total} samples stored, the report counts {report['cost']['samples']}")
    if chart.points != stored:
        fail(f"chart points {sum(chart.points.values())} {dict(chart.points)} != stored samples "
             f"{total} {dict(stored)}")
    if len(chart.markers) != 1 or chart.markers[0].get("data-commit") != sha:
        fail(f"culprit marker: {chart.markers}")
    print(f"reports OK: culprit {short} {effect} (95% CI {bounds}) in text, md, json, html; "
          f"{len(tested)} tested commits in each; {sum(chart.points.values())} chart points in "
          f"Chromium's DOM for {total} stored samples; culprit marker on {short}")


if __name__ == "__main__":
    main()
