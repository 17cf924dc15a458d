"""The published scenario schema, and the validate and list commands built on the same rules."""
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness import scenario as scenarios
from harness.cli import main

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").rglob("*.yaml"))
MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))


def test_the_shipped_schema_is_the_one_the_steps_declare():
    """Regenerate with ``mic-harness schema > harness/schema/scenario.schema.json``."""
    shipped = json.loads(scenarios.SCHEMA_FILE.read_text())
    assert shipped == json.loads(json.dumps(scenarios.published_schema()))
    jsonschema.Draft202012Validator.check_schema(shipped)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bundled_scenario_passes_the_published_schema(path):
    validator = jsonschema.Draft202012Validator(json.loads(scenarios.SCHEMA_FILE.read_text()))
    assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []


@pytest.mark.parametrize("document, complaint", [
    ({"scenario": "x", "needs": ["password-grant"], "steps": [{"token": {"grant": "password", "usr": "a"}}]},
     "'usr' was unexpected"),
    ({"scenario": "x", "needs": ["password-grant"], "steps": [{"tokn": {}}]}, "'tokn' was unexpected"),
    ({"scenario": "x", "needs": ["password-grant"], "steps": [{"token": {"grant": "password"}, "expect": {}}]},
     "has too many properties"),
    ({"scenario": "x", "needs": ["password-grant"], "steps": [], "colour": "red"}, "'colour' was unexpected"),
])
def test_editors_see_the_same_mistakes(document, complaint):
    validator = jsonschema.Draft202012Validator(json.loads(scenarios.SCHEMA_FILE.read_text()))
    messages = [e.message for e in validator.iter_errors(document)] + [
        c.message for e in validator.iter_errors(document) for c in e.context]
    assert any(complaint in m for m in messages), messages


def test_validate_passes_the_bundled_suite(capsys):
    assert main(["validate", str(ROOT / "scenarios")]) == 0
    assert f"{len(BUNDLED)} file(s) checked" in capsys.readouterr().out


def test_validate_reports_every_broken_file_with_its_place(tmp_path, capsys):
    (tmp_path / "good.yaml").write_text("scenario: g\nneeds: [password-grant]\nsteps:\n  - expect: {status: 200}\n")
    (tmp_path / "typo.yaml").write_text("scenario: t\nneeds: [password-grant]\nsteps:\n  - expect: {stauts: 200}\n")
    (tmp_path / "syntax.yaml").write_text("scenario: s\nneeds: [password-grant\n")
    (tmp_path / "known.yaml").write_text("- cell: '*'\n  reasn: typo\n")
    assert main(["validate", str(tmp_path / "good.yaml"), str(tmp_path / "typo.yaml"), str(tmp_path / "syntax.yaml"),
                 "--expected-failures", str(tmp_path / "known.yaml")]) == 1
    out = capsys.readouterr()
    assert f"{tmp_path / 'typo.yaml'}:4:" in out.err and "unknown key 'stauts' in steps[0].expect" in out.err
    assert f"{tmp_path / 'syntax.yaml'}:" in out.err and "YAML syntax error" in out.err
    assert f"{tmp_path / 'known.yaml'}:" in out.err and "reasn" in out.err
    assert "good.yaml" not in out.err
    assert "4 file(s) checked" in out.out and "3 error(s)" in out.out


def test_validate_names_a_path_that_is_not_there(capsys):
    assert main(["validate", "no/such/dir"]) == 1
    assert "no/such/dir: no such file or directory" in capsys.readouterr().err


def test_list_prints_each_cell_and_a_profile_narrows_it():
    everything = subprocess.run([MIC_HARNESS, "list"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert everything.returncode == 0, everything.stderr
    cells = [line for line in everything.stdout.splitlines() if line.startswith("scenarios/")]
    assert "scenarios/login/password-grant.yaml::oauth2-password::http" in cells
    assert "scenarios/login/authorization-code.yaml::oauth2-code::browser" in cells
    narrowed = subprocess.run([MIC_HARNESS, "list", "--service", "oauth2-password"], capture_output=True,
                              text=True, cwd=ROOT, timeout=60)
    narrowed_cells = [line for line in narrowed.stdout.splitlines() if line.startswith("scenarios/")]
    assert narrowed_cells and all("::oauth2-password::" in line for line in narrowed_cells)
    assert set(narrowed_cells) < set(cells)
