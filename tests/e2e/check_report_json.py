#!/usr/bin/env python3
"""Validates perfbisect's JSON output against docs/report-json.md.

The doc is the schema: each of its tables lists the fields of one object with
their types. Every object of the output must have exactly the documented
fields (none missing, none undocumented), each of the documented type.

  check_report_json.py DOC KIND FILE...   KIND: report, compare or gate
"""
import json
import re
import sys

# The line before each table of the doc -> the object it describes.
TABLES = [
    ("`perfbisect run|resume|report --format json` prints", "report"),
    ("A culprit:", "report.culprits[]"),
    ("A culprit's `profile`", "report.culprits[].profile"),
    ("A function of `grew` or `appeared`", "function"),
    ("A tested commit:", "report.tested[]"),
    ("`cost`:", "report.cost"),
    ("A node:", "report.nodes[]"),
    ("`perfbisect compare --format json` prints", "compare"),
    ("`perfbisect gate --format json` prints", "gate"),
    ("A check:", "gate.checks[]"),
]


def read_tables(doc_path):
    """{object: {field: type}} from the doc's tables."""
    tables = {}
    lines = open(doc_path, encoding="utf-8").read().splitlines()
    current = None
    for i, line in enumerate(lines):
        for lead, name in TABLES:
            if line.startswith(lead):
                current = name
                tables.setdefault(current, {})
        if line.startswith("| field |") or line.startswith("|---"):
            continue
        if current and line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            for field in re.findall(r"`([a-z_]+)`", cells[0]):
                tables[current][field] = cells[1]
        elif current and line.startswith("#"):
            current = None
    missing = [name for _, name in TABLES if not tables.get(name)]
    if missing:
        sys.exit(f"{doc_path}: no table found for {missing}")
    return tables


def type_ok(value, documented):
    documented = documented.lower()
    if not documented:
        return True  # "as in the session report": described elsewhere
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "null": lambda v: v is None,
    }
    if documented.startswith("array of "):
        item = documented[len("array of "):].rstrip("s")
        return isinstance(value, list) and all(checks[item](v) for v in value)
    alternatives = [a.strip() for a in documented.split(" or ")]
    return any(checks[a](value) for a in alternatives if a in checks)


def check(obj, fields, where, errors):
    if not isinstance(obj, dict):
        errors.append(f"{where}: not an object")
        return
    for key in obj:
        if key not in fields:
            errors.append(f"{where}.{key}: not in docs/report-json.md")
    for key, documented in fields.items():
        if key not in obj:
            errors.append(f"{where}.{key}: documented but missing")
        elif not type_ok(obj[key], documented):
            errors.append(f"{where}.{key}: {obj[key]!r:.60} is not {documented}")


def check_report(d, t, where, errors):
    check(d, t["report"], where, errors)
    for i, c in enumerate(d.get("culprits", [])):
        check(c, t["report.culprits[]"], f"{where}.culprits[{i}]", errors)
        if c.get("profile") is not None:
            check_profile(c["profile"], t, f"{where}.culprits[{i}].profile", errors)
        if not c["ci_low"] <= c["effect"] <= c["ci_high"]:
            errors.append(f"{where}.culprits[{i}]: effect outside its CI")
    for i, x in enumerate(d.get("tested", [])):
        check(x, t["report.tested[]"], f"{where}.tested[{i}]", errors)
        if x["samples"] != len(x["values"]):
            errors.append(f"{where}.tested[{i}]: samples != len(values)")
    check(d.get("cost"), t["report.cost"], f"{where}.cost", errors)
    for i, n in enumerate(d.get("nodes", [])):
        check(n, t["report.nodes[]"], f"{where}.nodes[{i}]", errors)


def check_profile(p, t, where, errors):
    check(p, t["report.culprits[].profile"], where, errors)
    for name in ("grew", "appeared"):
        for i, f in enumerate(p.get(name, [])):
            check(f, t["function"], f"{where}.{name}[{i}]", errors)


def check_compare(d, t, where, errors):
    check(d, t["compare"], where, errors)
    for side in ("base", "head"):
        s = d.get(side, {})
        for key, kind in (("revision", str), ("commit", str), ("subject", str), ("samples", int),
                          ("values", list)):
            if not isinstance(s.get(key), kind):
                errors.append(f"{where}.{side}.{key}: missing or not {kind.__name__}")
    check(d.get("cost"), t["report.cost"], f"{where}.cost", errors)
    if d.get("profile") is not None:
        check_profile(d["profile"], t, f"{where}.profile", errors)


def check_gate(d, t, where, errors):
    check(d, t["gate"], where, errors)
    for i, c in enumerate(d.get("checks", [])):
        check(c, t["gate.checks[]"], f"{where}.checks[{i}]", errors)
    if d.get("comparison") is not None:
        check_compare(d["comparison"], t, f"{where}.comparison", errors)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    doc, kind, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    tables = read_tables(doc)
    errors = []
    for path in files:
        data = json.load(open(path, encoding="utf-8"))
        {"report": check_report, "compare": check_compare, "gate": check_gate}[kind](
            data, tables, path, errors)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)
    print(f"{len(files)} {kind} JSON file(s) match docs/report-json.md")


if __name__ == "__main__":
    main()
