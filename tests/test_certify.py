"""Certification: a profile's run becomes a package whose digest covers every file in it."""
import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path

from harness import certify, profiles

ROOT = Path(__file__).resolve().parent.parent
MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))


def test_a_narrowed_certify_run_writes_a_package_that_checks_out_but_certifies_nothing(tmp_path):
    package = tmp_path / "package"
    done = subprocess.run([MIC_HARNESS, "certify", "--profile", "oauth2-connector", "--service", "oauth2-password",
                           "--report", str(package)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "partial, not a certification: a narrowed run (--service oauth2-password)" in done.stdout
    assert "certified" not in done.stdout
    manifest_bytes = (package / certify.MANIFEST).read_bytes()
    digest, name = (package / certify.DIGEST).read_text().split()
    assert name == certify.MANIFEST and digest == hashlib.sha256(manifest_bytes).hexdigest()
    manifest = json.loads(manifest_bytes)
    assert manifest["verdict"] == "partial" and manifest["profile"]["name"] == "oauth2-connector"
    assert {"report.html", "results.json", "junit.xml"} <= set(manifest["files"])
    for file, sha in manifest["files"].items():
        assert hashlib.sha256((package / file).read_bytes()).hexdigest() == sha, file
    # the inputs that decided it: the profile and every scenario file of it, the target and MIC configuration
    inputs = manifest["inputs"]
    assert {"harness/profiles/oauth2-connector.yaml", "scenarios/login/password-grant.yaml",
            "harness/targets/embedded.yaml", "mic_reference/demo.yaml"} <= set(inputs)
    for file, sha in inputs.items():
        assert hashlib.sha256((ROOT / file).read_bytes()).hexdigest() == sha, file
    # the MIC as it ran, the command, the versions
    run = manifest["run"]
    assert run["target"]["mic"].startswith("http://127.0.0.1:") and manifest["target"]["mic"] == run["target"]["mic"]
    assert run["command"][:2] == ["mic-harness", "certify"] and "--service" in run["command"]
    assert not any(str(ROOT) in part for part in run["command"]) and run["versions"]["mic-conformance"]
    ids = {c["id"] for c in manifest["cells"]}
    assert "scenarios/login/password-grant.yaml::oauth2-password::http" in ids
    assert all("::oauth2-password::" in cell for cell in ids)
    assert not any("/ttl/" in cell for cell in ids)  # not in the oauth2-connector profile
    assert "demo-app-secret" not in manifest_bytes.decode()
    # the verdict is the report's first section
    page = (package / "report.html").read_text()
    assert page.index('id="verdict"') < page.index('id="run"') < page.index('id="summary"')
    assert "Certification: partial" in page


def _results(directory: Path, outcomes: dict[str, str]) -> None:
    directory.mkdir()
    (directory / "results.json").write_text(json.dumps({"generated": "2026-12-04T00:00:00+00:00", "tally": {},
                                                        "results": [
        {"id": f"{file}::oauth2-code::http", "file": file, "outcome": outcome, "reason": None, "scenario": file,
         "service": "oauth2-code", "connector": "oauth2", "flow": "ttl", "driver": "http", "seconds": 0.01,
         "steps": [], "curl": None, "artifacts": {}, "exchanges": []}
        for file, outcome in outcomes.items()]}))


def test_a_required_failure_refuses_and_an_optional_one_does_not(tmp_path):
    profile = profiles.load("mic-core")
    _results(tmp_path / "a", {"scenarios/login/mfa.yaml": "failed", "scenarios/ttl/code.yaml": "passed"})
    verdict = certify.package(tmp_path / "a", profile)
    assert verdict.certified, verdict.refusals
    _results(tmp_path / "b", {"scenarios/ttl/code.yaml": "failed", "scenarios/ttl/token.yaml": "xfailed",
                              "scenarios/ttl/refresh.yaml": "skipped", "scenarios/sso/cross-app.yaml": "warned"})
    verdict = certify.package(tmp_path / "b", profile)
    assert not verdict.certified
    assert [r.split(":")[0] for r in verdict.refusals] == [
        "scenarios/ttl/code.yaml", "scenarios/ttl/token.yaml", "scenarios/ttl/refresh.yaml"]
    assert json.loads((tmp_path / "b" / certify.MANIFEST).read_text())["verdict"] == "refused"
    assert verdict.lines()[0] == "refused: 3 required cell(s) did not pass"
    assert "Certification: refused" in (tmp_path / "b" / "report.html").read_text()


def test_a_run_with_no_cell_certifies_nothing(tmp_path):
    _results(tmp_path / "empty", {})
    verdict = certify.package(tmp_path / "empty", profiles.load("mic-core"))
    assert not verdict.certified and "passed no applicable cell" in verdict.refusals[0]


def test_a_fleet_that_cannot_start_refuses_certification_and_every_cell_says_why(tmp_path):
    with socket.socket() as held:  # the MIC's fixed port is taken
        held.bind(("127.0.0.1", 0))
        held.listen()
        (tmp_path / "vendor.yaml").write_text(f"mic_port: {held.getsockname()[1]}\n")
        done = subprocess.run([MIC_HARNESS, "certify", "--profile", "oauth2-connector", "--connector-url",
                               "http://127.0.0.1:9", "--connector", str(tmp_path / "vendor.yaml"),
                               "--report", str(tmp_path / "package")], capture_output=True, text=True, cwd=ROOT,
                              timeout=300)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    manifest = json.loads((tmp_path / "package" / certify.MANIFEST).read_text())
    assert manifest["verdict"] == "refused"
    ran = [c for c in json.loads((tmp_path / "package" / "results.json").read_text())["results"]
           if c["outcome"] != "skipped"]
    assert ran and all(c["outcome"] == "failed" and "the cell could not run" in c["steps"][0]["message"]
                       for c in ran)
