"""Boundaries the architecture promises, checked on the source and at run time."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Ways of turning model bytes into objects, which runs code from the artifacts.
LOADING_CALLS = [
    re.compile(pattern)
    for pattern in (
        r"\bload_model\(",
        r"\bpyfunc\b",
        r"\bpickle\.loads?\(",
        r"\bjoblib\.load\(",
        r"\bskops\.io\.loads?\(",
        r"\bcloudpickle\b",
    )
]
GOVERNANCE = ROOT / "governance"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    "path",
    sorted(GOVERNANCE.rglob("*.py")),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_governance_never_imports_streamlit(path):
    assert "streamlit" not in _imports(path)


def test_importing_the_domain_loads_no_ui_and_no_heavy_library():
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in GOVERNANCE.rglob("*.py")
        if "migrations" not in path.parts and path.name != "__main__.py"
    )
    script = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in modules)
        + "print(sorted({m.split('.')[0] for m in sys.modules} & {'streamlit', 'mlflow', 'shap', 'evidently'}))"
    )

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    loaded = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()

    assert loaded == "[]"


@pytest.mark.parametrize(
    "path",
    [
        ROOT / "app.py",
        *sorted((ROOT / "views").glob("*.py")),
        *sorted((ROOT / "ui").glob("*.py")),
    ],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_the_app_never_loads_a_model(path):
    source = path.read_text(encoding="utf-8")
    for call in LOADING_CALLS:
        assert not call.search(source), f"{path.name} calls {call.pattern}"
