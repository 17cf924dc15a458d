"""The requirement catalogue and ``mic-harness coverage``: a cite is a claim, and a claim must be catalogued."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import coverage
from harness.cli import main
from plumbing import yamlfile

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").rglob("*.yaml"))
#: the MUSTs issue 14 names as unchecked: the catalogue must hold them, so coverage can show the gap
NAMED_GAPS = ["RFC6749-2.3", "RFC6749-3.2.1", "RFC6749-4.1.3-3", "RFC7636-4.6-S256", "RFC9700-4.8.2",
              "RFC9700-2.1"]


def scenario(tmp_path: Path, name: str, *expects: str) -> Path:
    steps = "".join(f"  - token: {{grant: password, user: alice}}\n  - expect: {e}\n" for e in expects)
    path = tmp_path / name
    path.write_text(f"scenario: {name}\nneeds: [password-grant]\nsteps:\n{steps}", encoding="utf-8")
    return path


def test_the_bundled_catalogue_validates_and_every_source_is_used():
    requirements = coverage.load_catalogue()
    assert {r.source for r in requirements.values()} == set(yamlfile.load(coverage.CATALOGUE).data["sources"])
    assert len(requirements) > 80
    assert {r.level for r in requirements.values()} == set(coverage.LEVELS)
    for cite in NAMED_GAPS:
        assert requirements[cite].level == "MUST" and "mic" in requirements[cite].binds, cite
    # the revocation of a reused code's tokens is a SHOULD in RFC 6749 4.1.2, not a MUST
    assert requirements["RFC6749-4.1.2-revoke"].level == "SHOULD"


def test_every_cite_of_the_bundled_scenarios_is_in_the_catalogue():
    found = coverage.measure(BUNDLED)
    assert found.errors == []
    assert [f"{c.file}:{c.line}: {c.cite}" for c in found.unknown] == []
    assert len(found.citations) > 200
    assert not (ROOT / "scenarios" / "requirements.yaml").exists()  # a scenario glob would take it


def test_the_command_on_the_bundled_suite_passes_and_lists_the_mics_musts_first(capsys):
    assert main(["coverage", str(ROOT / "scenarios")]) == 0
    out = capsys.readouterr().out
    assert out.split()[:5] == ["requirement", "level", "scenarios", "negative", "binds"]
    assert "Cites not in the catalogue" not in out
    gaps = coverage.measure(BUNDLED).gaps()
    first = [r.level == "MUST" and r.binds_mic for r in gaps]
    assert first == sorted(first, reverse=True)  # every MUST of the MIC before anything else
    rest = [r.level for r in gaps if not (r.level == "MUST" and r.binds_mic)]
    assert rest == sorted(rest, key=coverage.LEVELS.index)


def test_an_unknown_cite_is_named_with_its_file_and_line_and_fails(tmp_path, capsys):
    path = scenario(tmp_path, "typo.yaml", "{status: 200, cite: RFC6749-5.1}", "{status: 400, cite: RFC6749-4.1.22}")
    assert main(["coverage", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:7: RFC6749-4.1.22" in out
    assert "Scenario files citing nothing" not in out  # it cites RFC6749-5.1 too


def test_a_file_citing_nothing_known_is_listed_but_not_fatal(tmp_path, capsys):
    path = scenario(tmp_path, "silent.yaml", "{status: 200}")
    assert main(["coverage", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["uncited_files"] == [str(path)] and report["unknown"] == []
    assert "RFC6749-3.2.1" in report["gaps"]


@pytest.mark.parametrize("args, refusal", [
    ({"status": 400, "json": {"error": "invalid_grant"}}, True),
    ({"status": 401}, True),
    ({"json": {"error.code": 190}}, True),
    ({"redirect": {"params": {"error": "access_denied"}}}, True),
    ({"redirect": {"present": ["error"]}}, True),
    ({"absent": ["access_token"]}, True),
    ({"redirect": {"absent": ["code"]}}, True),
    ({"status": 400, "severity": "warning"}, False),  # a warning fails nothing
    ({"status": 200, "present": ["access_token"]}, False),
    ({"status": 502, "json": {"token_type": "Bearer"}}, False),
    ({"redirect": {"present": ["code"], "absent": ["error"]}}, False),
    ({"landed": "page"}, False),  # an IdP's login page is a page too
    ({"landed": "mic"}, True),  # a page of the MIC's own: its refusal
    ({"absent": ["_socialIdentity.kinveyAuth.email"]}, False),
])
def test_a_negative_expectation_is_told_from_a_positive_one(args, refusal):
    assert coverage.negative("expect", args) is refusal


def test_the_matrix_counts_scenarios_and_negative_expectations(tmp_path):
    one = scenario(tmp_path, "one.yaml", "{status: 200, cite: RFC6749-5.2}", "{status: 400, cite: RFC6749-5.2}")
    two = scenario(tmp_path, "two.yaml", "{json: {error: invalid_grant}, cite: RFC6749-5.2}")
    row = {r["cite"]: r for r in coverage.matrix(coverage.measure([one, two]))}["RFC6749-5.2"]
    assert (len(row["scenarios"]), row["expectations"], row["negative"]) == (2, 3, 2)


def test_a_skipped_file_counts_for_nothing_but_its_typos_still_fail(tmp_path):
    path = scenario(tmp_path, "skipped.yaml", "{status: 400, cite: RFC6749-5.2}", "{status: 400, cite: RFC-oops}")
    path.write_text(path.read_text(encoding="utf-8") + "skip: not yet\n", encoding="utf-8")
    found = coverage.measure([path])
    assert [c.cite for c in found.unknown] == ["RFC-oops"]
    assert "RFC6749-5.2" not in found.by_requirement()


def test_mics_musts_cited_only_positively_are_reported(tmp_path):
    path = scenario(tmp_path, "weak.yaml", "{status: 200, cite: RFC6749-4.1.3}")
    assert "RFC6749-4.1.3" in [r.cite for r in coverage.measure([path]).unrefused()]


@pytest.mark.parametrize("entry, message", [
    ("  RFC6749-5.2: {source: RFC6749, clause: '5.2', level: MUST, binds: [mic], requires: x, scenario: y}",
     "unknown key 'scenario'"),
    ("  RFC6749-5.2: {source: RFC6749, clause: '5.2', level: MUST!, binds: [mic], requires: x}", "level"),
    ("  RFC6749-5.2: {source: RFC6750, clause: '5.2', level: MUST, binds: [mic], requires: x}",
     "RFC6749-5.2 is cited as if from another source"),
    ("  RFC6749-5.2: {source: RFC1, clause: '5.2', level: MUST, binds: [mic], requires: x}",
     "unknown source 'RFC1'"),
    ("  RFC6749-5.2: {source: RFC6749, clause: '5.2', level: MUST, binds: [everyone], requires: x}", "binds"),
])
def test_a_broken_catalogue_is_named_at_its_line_and_fails(tmp_path, capsys, entry, message):
    catalogue = tmp_path / "requirements.yaml"
    catalogue.write_text("sources:\n  RFC6749: {title: OAuth}\n  RFC6750: {title: Bearer}\nrequirements:\n"
                         f"{entry}\n", encoding="utf-8")
    path = scenario(tmp_path, "s.yaml", "{status: 400, cite: RFC6749-5.2}")
    assert main(["coverage", str(path), "--catalogue", str(catalogue)]) == 1
    captured = capsys.readouterr()
    assert f"{catalogue}:5:" in captured.err and message in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_the_report_shows_the_matrix_when_the_run_has_one(tmp_path):
    from harness.report import page
    run = {"results": [], "tally": {}, "generated": "now"}
    assert 'id="coverage"' not in page.render(run, tmp_path)
    path = scenario(tmp_path, "s.yaml", "{status: 400, cite: RFC6749-5.2}", "{status: 400, cite: RFC-<oops>}")
    html = page.render({**run, "coverage": coverage.as_json(coverage.measure([path]))}, tmp_path)
    section = html.split('<section id="coverage">')[1].split("</section>")[0]
    assert "<tr class=''><td>RFC6749-5.2</td><td>MUST</td>" in section
    assert "<tr class='gap'><td>RFC6749-3.2.1</td>" in section
    assert "RFC-&lt;oops&gt;" in section and "RFC-<oops>" not in section
