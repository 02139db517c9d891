#!/usr/bin/env python3
"""Print the closing line of ./dev test: "N passed, N failed[, N skipped]".

Counts every cmocka case from meson's test log (TAP), every pytest case from its JUnit XML,
and the repository checks (further JUnit files after the checks' counts are added); exits 1 if anything failed or a suite did not report at all.
"""
import json
import re
import sys
import xml.etree.ElementTree as ET


def unit_counts(path):
    passed = failed = skipped = 0
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return 0, 1, 0
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        out = t.get("stdout") or ""
        oks = nots = skips = 0
        for l in out.splitlines():
            if re.match(r"^ok \d+", l):
                if "# SKIP" in l:
                    skips += 1
                else:
                    oks += 1
            elif re.match(r"^not ok \d+", l):
                nots += 1
        if t.get("result") not in ("OK", "SKIP") and nots == 0:
            nots = 1  # crashed or timed out without reporting a case
        passed += oks
        failed += nots
        skipped += skips
    return passed, failed, skipped


def integration_counts(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return 0, 1, 0
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = failures = skipped = 0
    for s in suites:
        tests += int(s.get("tests", 0))
        failures += int(s.get("failures", 0)) + int(s.get("errors", 0))
        skipped += int(s.get("skipped", 0))
    return tests - failures - skipped, failures, skipped


def main():
    testlog, junit, checks_passed, checks_failed = sys.argv[1:5]
    up, uf, us = unit_counts(testlog)
    ip, i_f, i_s = integration_counts(junit)
    for more in sys.argv[5:]:  # further passes (the integration tests on PostgreSQL)
        p, f, s = integration_counts(more)
        ip, i_f, i_s = ip + p, i_f + f, i_s + s
    passed = up + ip + int(checks_passed)
    failed = uf + i_f + int(checks_failed)
    skipped = us + i_s
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
