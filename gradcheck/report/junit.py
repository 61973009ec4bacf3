"""The report for CI: JUnit XML, one test case per parameter and stage."""

import xml.etree.ElementTree as ET

from .text import failure_lines


def junit(report):
    """JUnit XML: one test case per parameter and stage, one for the witness, one for the candidate's calls;
    a failure's message carries the diagnosis, so that a CI page shows the reason without opening a file."""
    return _xml(suite(report))


def _xml(element):
    ET.indent(element)
    return ET.tostring(element, encoding="unicode", xml_declaration=True)


def suite(report, name="gradcheck"):
    """The report's <testsuite> element."""
    suite = ET.Element("testsuite", name=name)
    properties = ET.SubElement(suite, "properties")
    for key, value in report.get("config", {}).items():
        ET.SubElement(properties, "property", name=key, value=str(value))
    if "load_error" in report:
        tests = [("candidate.load", False, report["load_error"])]
    else:
        tests = [(f"{kind}.{name}", p["ok"], p["diagnosis"]) for kind in ("parameters", "stages")
                 for name, p in report[kind].items()]
        tests.append(("candidate.calls", not report["failures"], "; ".join(failure_lines(report))))
        tests.append(("witness.finite_differences", report["witness"]["ok"],
                      "the reference disagrees with finite differences"))
        if report["extra_keys"]:
            tests.append(("result.keys", False, f"unexpected keys {report['extra_keys']}"))
        if report["modified_inputs"]:
            tests.append(("inputs.unmodified", False, f"modified in place: {', '.join(report['modified_inputs'])}"))
        tests += [(f"candidate.{f['kind']}", False, f["words"]) for f in report.get("findings", [])]
    for name, ok, message in tests:
        case = ET.SubElement(suite, "testcase", classname=f"gradcheck.{report['candidate']}", name=name)
        if not ok:
            failure = ET.SubElement(case, "failure", message=message)
            failure.text = message + (f"\nhint: {report['hint']}" if report.get("hint") else "")
    suite.set("tests", str(len(tests)))
    suite.set("failures", str(sum(not ok for _, ok, _ in tests)))
    return suite


def file_junit(report):
    """A whole file's report (report.whole_file): one <testsuite> per function; one whose inputs could not be
    guessed is a failed test case, never a passed one."""
    suites = ET.Element("testsuites", name=f"gradcheck {report['file']}")
    for row in report["functions"]:
        if row["report"] is not None:
            suites.append(suite(row["report"], name=row["function"]))
            continue
        element = ET.SubElement(suites, "testsuite", name=row["function"], tests="1", failures="1")
        case = ET.SubElement(element, "testcase", classname=f"gradcheck.{row['candidate']}", name="inputs")
        ET.SubElement(case, "failure", message=row["summary"]).text = row["summary"]
    return _xml(suites)
