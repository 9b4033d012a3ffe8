"""JUnit XML: one testsuite per rule, one testcase per target that does not pass.

The passes of a rule are one test case, ``N passing targets`` (``--passes full``: one test
case per passing target, as for the others), so a large organisation stays within what CI
test reporters load.

``fail`` → ``<failure>``, ``error`` → ``<error>``, ``not_applicable``/``waived`` →
``<skipped>``; ``warn`` passes with the warning in ``system-out``. The owner and deputy of
each finding are in the failure text and also as testsuite properties
(``owner:<RULE-ID>:<kind/id>``, ``deputy:<RULE-ID>:<kind/id>``), since the JUnit schema has
no per-testcase properties. Property names are unique in the whole file (one per test case
and role): some parsers (xunitparser) merge all suites' properties into one mapping and
refuse a repeated name.
"""

from __future__ import annotations

from xml.etree import ElementTree

from junit_xml import TestCase, TestSuite, _clean_illegal_xml_chars

from checker.findings import Finding, OwnerRef, ScanResult

from ._common import neutralise
from .base import Reporter, register_reporter

__all__ = ["JUnitReporter"]


def _who(o: OwnerRef | None) -> str:
    if o is None:
        return "none"
    return neutralise(f"{o.name} <{o.email}>" if o.email else o.name)


def _details(f: Finding) -> str:
    lines = [f"{f.status.upper()} {f.rule_id} {f.target}: {f.message}",
             f"owner: {_who(f.owner)} (via {f.owner.via})",
             f"deputy: {_who(f.deputy)}"]
    if f.evidence:
        lines.append("evidence: " + ", ".join(f.evidence))
    if f.rule_file:
        lines.append(f"rule file: {f.rule_file}")
    if f.status in ("fail", "error") and f.remediation:
        lines.append(f"remediation: {f.remediation}")
    if f.cause:
        lines.append(f"cause: {f.cause} ({f.cause_text})")
    # each line neutralised: a CR/LF from the evidence cannot start a line of its own
    return "\n".join(neutralise(line) for line in lines)


@register_reporter("junit")
class JUnitReporter(Reporter):
    """Findings as JUnit XML for CI test reporters."""

    extension = "xml"

    def render(self, result: ScanResult) -> str:
        """Build one suite per rule."""
        suites = []
        seen: set[str] = set()

        def unique(name: str) -> str:
            n, out = 1, name
            while out in seen:
                n += 1
                out = f"{name}#{n}"
            seen.add(out)
            return out

        full = result.passes_mode == "full"
        by_rule: dict[str, list[Finding]] = {}
        titles: dict[str, str] = {}
        for f in (result.all_findings() if full else result.findings):
            by_rule.setdefault(f.rule_id, []).append(f)
            titles.setdefault(f.rule_id, f.title)
        for info, _ in result.passes_by_rule():
            titles.setdefault(info.rule_id, info.title)
        compact = {} if full else result.pass_counts()
        for rule_id in sorted(by_rule.keys() | compact.keys()):
            cases = []
            props: dict[str, str] = {}
            for f in by_rule.get(rule_id, ()):
                # no ``file`` attribute: the Jenkins xUnit JUnit schema does not allow it
                # (the rule file is in the details text instead)
                tc = TestCase(name=neutralise(f.target), classname=f"aimscheck.{rule_id}")
                text = _details(f)
                if f.status == "fail":
                    tc.add_failure_info(message=neutralise(f"{f.message} — owner: {_who(f.owner)}"),
                                        output=text, failure_type=f.severity)
                elif f.status == "error":
                    tc.add_error_info(message=neutralise(f"{f.message} — owner: {_who(f.owner)}"),
                                      output=text, error_type="evidence")
                elif f.status in ("not_applicable", "waived"):
                    tc.add_skipped_info(message=f.status.replace("_", " "), output=text)
                else:
                    tc.stdout = text
                props[unique(f"owner:{rule_id}:{f.target}")] = _who(f.owner)
                if f.deputy is not None:
                    props[unique(f"deputy:{rule_id}:{f.target}")] = _who(f.deputy)
                if f.cause and f.status in ("fail", "error"):
                    # the shared key of findings failing because of one fact (causes.py)
                    props[unique(f"cause:{rule_id}:{f.target}")] = f.cause
                cases.append(tc)
            n = compact.get(rule_id, 0)
            if n:
                # the passes of a rule are one test case (its targets are in the JSON
                # report's ``passes``; ``--passes full`` gives one test case each)
                tc = TestCase(name=f"{n} passing target{'s' if n != 1 else ''}",
                              classname=f"aimscheck.{rule_id}")
                tc.stdout = (f"PASS {rule_id}: {n} target{'s' if n != 1 else ''} pass "
                             "(one test case each with --passes full)")
                cases.append(tc)
            suites.append(TestSuite(name=f"{rule_id} {neutralise(titles.get(rule_id, ''))}",
                                    test_cases=cases, properties=props, package="aimscheck"))
        # junit-xml's to_xml_report_string serialises, then pretty-prints through a minidom
        # tree: minutes and gigabytes for a large organisation. The same document is built
        # here from junit-xml's suite elements, indented by ElementTree and serialised once.
        root = ElementTree.Element("testsuites")
        totals = {"errors": 0, "failures": 0, "tests": 0}
        elapsed = 0.0
        for suite in suites:
            el = suite.build_xml_doc(encoding="utf-8")
            # junit-xml always writes ``disabled``, which the Jenkins xUnit schema rejects
            el.attrib.pop("disabled", None)
            for key in totals:
                totals[key] += int(el.get(key, 0))
            elapsed += float(el.get("time", 0))
            root.append(el)
        for key, value in totals.items():
            root.set(key, str(value))
        root.set("time", str(elapsed))
        ElementTree.indent(root, space="\t")
        text = str(_clean_illegal_xml_chars(ElementTree.tostring(root, encoding="unicode")))
        return '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n"
