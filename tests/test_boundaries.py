"""The rules of the layout, checked on the source: who may import whom, and who reads the time."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "mic_reference": {"mock_idps", "harness", "samples"},
    "mock_idps": {"mic_reference", "harness", "samples"},
    "plumbing": {"mic_reference", "mock_idps", "harness", "samples"},
    # a vendor copies a sample out of the project: it stands on its own
    "samples": {"mic_reference", "mock_idps", "harness", "plumbing"},
}


def imported_packages(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_meet_only_over_the_wire(package):
    offenders = {str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
                 for path in (ROOT / package).rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_clock_reads_wall_time():
    """Every TTL goes through plumbing.clock: nobody else calls time.time()."""
    offenders = []
    for package in ("mic_reference", "mock_idps", "harness", "plumbing"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "plumbing" / "clock.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (isinstance(node, ast.Attribute) and node.attr == "time"
                        and isinstance(node.value, ast.Name) and node.value.id == "time"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
