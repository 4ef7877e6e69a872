"""A pytest plugin that turns the requirement-tagged tests of one run into the security matrix.

`pytest --security-matrix=docs/security-matrix.md` writes the matrix after the run, a table
for each session policy, and fails the run when a cell has no evidence: a way expected to
pass with no passing test, a weakness claimed by design that no test demonstrates, a test
tagged for a cell the catalogue calls n/a. A test proves what it claims of the policy it ran
under (tests/conftest.py runs every tagged test under both, unless it says otherwise).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from login_sessions.policy import POLICIES, STOCK

from security_catalogue import ALL, CATALOGUE, COLUMNS

SYMBOLS = {
    "pass": "✅ pass",
    "by design": "⚠️ by design",
    "n/a": "— n/a",
    "not yet": "⏳ not yet",
    "fails": "❌ fails",
}


@dataclass
class Evidence:
    """What one test says about requirements, and whether it held."""

    test_id: str
    claims: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # policy, standard, id, way
    by_design: bool = False
    fails: bool = False
    passed: bool = True


def pytest_addoption(parser):
    parser.addoption(
        "--security-matrix",
        metavar="PATH",
        help="write the security matrix of this run to PATH (fails on missing evidence)",
    )


def ways_of(item) -> tuple[str, ...]:
    """The ways in a test covers: its way parameter, its ways marker, or all of them."""
    params = (getattr(item, "callspec", None) and item.callspec.params) or {}
    if "way" in params:
        return (params["way"].name,)
    if "way_name" in params:
        return (params["way_name"],)
    marker = item.get_closest_marker("ways")
    return tuple(marker.args) if marker else ALL


def policy_of(item) -> str:
    params = (getattr(item, "callspec", None) and item.callspec.params) or {}
    return params.get("session_policy", STOCK)


def claims_of(item) -> list[tuple[str, str, str, str]]:
    claims = []
    policy = policy_of(item)
    for standard in ("asvs", "wstg", "outage"):
        for marker in item.iter_markers(standard):
            only = marker.kwargs.get("ways")
            for way in ways_of(item):
                if only is None or way in only:
                    claims += [(policy, standard, id_, way) for id_ in marker.args]
    return claims


class SecurityMatrix:
    def __init__(self, path: str):
        self.path = Path(path)
        self.evidence: dict[str, Evidence] = {}

    def pytest_collection_modifyitems(self, items):
        for item in items:
            if claims := claims_of(item):
                self.evidence[item.nodeid] = Evidence(
                    test_id=item.nodeid.removeprefix("tests/"),
                    claims=claims,
                    by_design=item.get_closest_marker("by_design") is not None,
                    fails=item.get_closest_marker("fails") is not None,
                )

    def pytest_runtest_logreport(self, report):
        evidence = self.evidence.get(report.nodeid)
        # A skipped test proves nothing: only a test that ran and passed counts.
        if evidence and (report.failed or report.skipped):
            evidence.passed = False

    def pytest_sessionfinish(self, session):
        if session.config.option.collectonly or not self.evidence:
            return
        markdown, problems = render(self.evidence.values())
        if problems:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            reporter.write_sep("=", "security matrix: missing or contradicting evidence", red=True)
            for problem in problems:
                reporter.write_line(problem)
            return
        self.path.write_text(markdown)


def pytest_configure(config):
    path = config.getoption("--security-matrix")
    if path:
        config.pluginmanager.register(SecurityMatrix(path), "security-matrix")


def render(evidence) -> tuple[str, list[str]]:
    """The matrix as Markdown, and the problems that make it untrustworthy."""
    evidence = list(evidence)
    by_cell = defaultdict(list)
    for test in evidence:
        for policy, standard, requirement, way in test.claims:
            by_cell[policy, standard, requirement, way].append(test)
    known = {(r.standard, r.id) for r in CATALOGUE}
    problems = [
        f"{test.test_id}: {standard} {requirement} is not in tests/security_catalogue.py"
        for test in evidence
        for _, standard, requirement, _ in test.claims
        if (standard, requirement) not in known
    ]
    sections = []
    for policy in POLICIES:
        section, section_problems = render_policy(policy, by_cell)
        sections += section
        problems += section_problems
    markdown = "\n".join(
        [
            "# Security matrix",
            "",
            "Generated by `make security-matrix` from a run of the test suite on the embedded "
            "default (SQLite, local-memory cache); do not edit by hand. CI regenerates it and "
            "fails when this file is stale. Requirements: OWASP ASVS 5.0 (V7 session "
            "management, V9 self-contained tokens, V3.3 cookies, the V10 refresh token "
            "rotation, and the V3.4/V3.5 rows the ways share), OWASP WSTG session management "
            "tests, and which ways survive an outage of Redis or of the database; the "
            "catalogue and the reasons are in `tests/security_catalogue.py`. One table per "
            "session policy: `stock`, each way as its library ships it, and `managed`, every "
            'login a login session (README: "Two session policies"). Every tagged test ran '
            "under the policy of the table it is cited in.",
            "",
            "- ✅ **pass**: tests tagged with the requirement ran for this way and passed.",
            "- ⚠️ **by design**: the way has this weakness by its nature; a test demonstrates it.",
            "- — **n/a**: the requirement does not apply to this way (why is given below).",
            "- ⏳ **not yet**: the way could meet it, but the project does not yet (planned).",
            "- ❌ **fails**: the `plain-cookie` way, insecure on purpose (served with `DEBUG` "
            "only), fails it; a test tagged `fails` shows how.",
            "",
            *sections,
        ]
    )
    return markdown.rstrip() + "\n", problems


def render_policy(policy: str, by_cell) -> tuple[list[str], list[str]]:
    """The table and the evidence of one session policy, and their problems."""
    summary, details, problems = [], [], []
    counts = {way: defaultdict(int) for way in COLUMNS}
    for requirement in CATALOGUE:
        cells, lines = [], []
        for way in COLUMNS:
            expected = requirement.expected(way, policy)
            tests = by_cell[policy, requirement.standard, requirement.id, way]
            problems += [
                f"{policy}: {problem}"
                for problem in cell_problems(requirement, way, expected, tests)
            ]
            counts[way][expected] += 1
            cells.append(SYMBOLS[expected])
            proof = ", ".join(
                f"`{test.test_id}`" for test in sorted(tests, key=lambda t: t.test_id)
            )
            reason = requirement.reason(way, policy)
            lines.append(
                f"- `{way}` {SYMBOLS[expected]}"
                + (f": {reason}" if reason else "")
                + (f". Shown by {proof}" if proof and expected in {"by design", "fails"} else "")
                + (f": {proof}" if proof and expected == "pass" else "")
            )
        summary.append(f"| {requirement.label} | {requirement.text} | " + " | ".join(cells) + " |")
        details += [f"#### {requirement.label}: {requirement.text}", "", *lines, ""]
    totals = [
        f"| **{status}** | | " + " | ".join(str(counts[way][status]) for way in COLUMNS) + " |"
        for status in SYMBOLS
    ]
    header = "| requirement | | " + " | ".join(f"`{way}`" for way in COLUMNS) + " |"
    rule = "|---|---|" + "---|" * len(COLUMNS)
    section = [
        f"## The `{policy}` profile",
        "",
        header,
        rule,
        *summary,
        *totals,
        "",
        f"### Evidence: `{policy}`",
        "",
        *details,
    ]
    return section, problems


def cell_problems(requirement, way, expected, tests) -> list[str]:
    cell = f"{requirement.label} for {way}"
    failed = [test.test_id for test in tests if not test.passed]
    if failed:
        return [f"{cell}: tagged tests failed or were skipped: {', '.join(failed)}"]
    demonstrations = [test for test in tests if test.by_design]
    failures = [test for test in tests if test.fails]
    proofs = [test for test in tests if not (test.by_design or test.fails)]
    if expected == "pass" and not proofs:
        return [f"{cell}: expected to pass, but no passing test is tagged with it"]
    if expected == "pass" and demonstrations:
        return [f"{cell}: a by_design test contradicts the expected pass"]
    if expected == "fails" and (not failures or proofs or demonstrations):
        return [f"{cell}: fails needs tests tagged fails only, found {len(proofs)} others"]
    if expected != "fails" and failures:
        return [f"{cell}: a test tagged fails contradicts the expected {expected}"]
    if expected == "by design" and (not demonstrations or proofs):
        return [f"{cell}: by design needs by_design tests only, found {len(proofs)} others"]
    if expected in {"n/a", "not yet"} and tests:
        return [f"{cell}: catalogue says {expected}, but tests are tagged with it"]
    return []
