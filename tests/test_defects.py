"""The seeded-defect catalogue and its runner (bench/defects): the catalogue is checked
against today's tree, and a sample of defects is run end to end in scratch copies.

The sample is three defects that fast, HTTP-only scenarios catch, so that ``./dev test``
keeps the runner itself working; the whole catalogue is a benchmark
(``python -m bench.defects``), not part of this suite.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.defects import catalogue
from bench.defects.catalogue import ROOT, Defect
from plumbing.yamlfile import YamlError

SAMPLE = ["code-any-client", "client-auth-none-accepted", "refresh-token-reusable"]


def _tree_digest() -> str:
    """What the MIC and the mocks are in the working tree, whoever else edits it meanwhile."""
    digest = hashlib.sha256()
    for path in sorted(p for package in ("mic_reference", "mock_idps") for p in (ROOT / package).rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _run(*args: str, timeout: float = 240) -> tuple[int, dict, str]:
    out = Path(args[-1]) if args and args[-2:-1] == ("--json",) else None
    done = subprocess.run([sys.executable, "-m", "bench.defects", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    report = json.loads(out.read_text()) if out is not None and out.exists() else {}
    return done.returncode, report, done.stdout + done.stderr


def test_catalogue_is_current_and_big_enough():
    defects = catalogue.load()
    stale = [f"{d.id} ({d.occurrences(ROOT)} times in {d.file})" for d in defects if d.occurrences(ROOT) != 1]
    assert not stale, "defects whose text to find is not in the tree exactly once: " + ", ".join(stale)
    packages = [d.package for d in defects]
    assert packages.count("mic_reference") >= 40 and packages.count("mock_idps") >= 10


def test_a_mistake_in_the_catalogue_is_named_with_its_line(tmp_path):
    bad = tmp_path / "catalogue.yaml"
    bad.write_text("defects:\n  - id: typo\n    file: mic_reference/records.py\n    bug: a cite that is not one\n"
                   "    breaks: RFC6749-99\n    find: x\n    replace: y\n"
                   "    scenarios: [scenarios/login/password-grant.yaml]\n")
    with pytest.raises(YamlError) as raised:
        catalogue.load(bad)
    assert raised.value.line == 5 and "RFC6749-99" in raised.value.message


def test_a_defect_is_never_applied_to_the_working_tree():
    defect = catalogue.load()[0]
    with pytest.raises(ValueError, match="working tree"):
        defect.apply(ROOT)


def test_the_sample_is_caught_in_scratch_copies_and_the_tree_is_untouched(tmp_path):
    before = _tree_digest()
    code, report, output = _run(*SAMPLE, "--quick", "--json", str(tmp_path / "out.json"))
    assert code == 0, output
    assert report["caught"] == report["total"] == len(SAMPLE)
    for result in report["results"]:
        assert result["how"] == "failed" and result["cell"].startswith("scenarios/"), result
    assert "caught 3 of 3" in output
    assert _tree_digest() == before


def test_a_defect_that_breaks_the_import_is_caught_by_crash_and_a_stale_one_is_reported(tmp_path):
    """The copy's code is what runs: a MIC that cannot be imported must not pass as the tree's MIC."""
    seeded = tmp_path / "catalogue.yaml"
    seeded.write_text(
        "defects:\n"
        "  - id: cannot-start\n    file: mic_reference/records.py\n    bug: the MIC raises as it is imported\n"
        "    breaks: RFC6749-5.1\n    find: \"from plumbing.grants import ClockedCode, ClockedToken\\n\"\n"
        "    replace: \"from plumbing.grants import ClockedCode, ClockedToken\\nraise ImportError('seeded')\\n\"\n"
        "    scenarios: [scenarios/login/password-grant.yaml]\n"
        "  - id: gone\n    file: mic_reference/records.py\n    bug: text that this tree no longer has\n"
        "    breaks: RFC6749-5.1\n    find: \"no such text in the file\"\n    replace: \"\"\n"
        "    scenarios: [scenarios/login/password-grant.yaml]\n")
    code, report, output = _run("--catalogue", str(seeded), "--quick", "--no-control",
                                "--json", str(tmp_path / "out.json"))
    assert code == 1, output
    crash, stale = report["results"]
    assert crash["status"] == "caught" and crash["how"] in ("crash", "error"), crash
    assert stale["status"] == "stale" and "0 times" in stale["detail"], stale
    assert "caught 1 of 2" in output and "stale (1): gone" in output
