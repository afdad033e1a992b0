"""Page speed with a large store: 100 models, 300 versions, 100,000 audit events.

Targets (issue: review views): each page's first load under 2.5 s, an interaction
(a selectbox, the fairness threshold slider) under 0.3 s, no page importing shap or
evidently unless it draws from them, and under 5 MB sent to the browser per page.

Builds the demo, assesses lead-scoring v2, then adds 99 synthetic models with three
versions each (sharing v2's evidence and artifacts) and pads the audit trail to
100,000 events. Times each page with AppTest in this process (the first run of a
page includes importing its modules; the second is what every later visitor
gets), checks imports in a fresh process per page, and counts the bytes a real
browser receives over the websocket for each page.

Run from the repository root: ``PYTHONPATH=. python benchmarks/bench_pages.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# page name -> (script, URL path, the demo person who opens it: what a page shows,
# and so what it costs, depends on the roles of who is signed in).
PAGES = {
    "inventory": ("views/inventory.py", "", "layla"),
    "model": ("views/model.py", "model", "layla"),
    "explanations": ("views/explanations.py", "explanations", "omar"),
    "fairness": ("views/fairness.py", "fairness", "omar"),
    "drift": ("views/drift.py", "drift", "omar"),
    "data_quality": ("views/data_quality.py", "data-quality", "omar"),
    "model_card": ("views/model_card.py", "model-card", "omar"),
    "inbox": ("views/inbox.py", "inbox", "daniel"),
    "review": ("views/review.py", "review", "layla"),
    "deployment": ("views/deployment.py", "deployment", "priya"),
    "monitoring": ("views/monitoring.py", "monitoring", "priya"),
    "serving": ("views/serving.py", "shadow-canary", "priya"),
    "incidents": ("views/incidents.py", "incidents", "priya"),
    "calendar": ("views/calendar.py", "calendar", "priya"),
    "people": ("views/people.py", "people", "admin"),
    "audit": ("views/audit.py", "audit", "daniel"),
    "reports": ("views/reports.py", "reports", "daniel"),
    "kpis": ("views/kpis.py", "kpis", "daniel"),
    "training": ("views/training.py", "training", "admin"),
    "records": ("views/records.py", "records", "daniel"),
}
MODELS, VERSIONS, EVENTS = 100, 3, 100_000


def build_store(home: Path) -> None:
    """The demo, one assessment, and the synthetic models and events."""
    from governance.access import SYSTEM_USER_ID, stable_user_id
    from governance.assessment.runner import assess_version
    from governance.audit import unit_of_work
    from governance.bootstrap import prepare_store
    from governance.demo.world import build_demo
    from governance.evidence import latest_evidence
    from governance.inventory import register_version
    from governance.settings import load_settings
    from governance.tables import Assessment

    settings = load_settings({"GOVERNANCE_HOME": str(home)})
    build_demo(settings, seed=7)
    engine, policy = prepare_store(settings)
    assess_version(
        settings,
        engine,
        policy,
        model="lead-scoring",
        version="2",
        actor_id=stable_user_id("omar"),
    )
    template = latest_evidence(engine, "lead-scoring", "2")
    for number in range(MODELS - 2):
        for version in range(1, VERSIONS + 1):
            version_id = register_version(
                engine,
                actor_id=SYSTEM_USER_ID,
                policy=policy,
                name=f"model-{number:03d}",
                version=str(version),
                model_uri=f"models:/model-{number:03d}/{version}",
                owner_id=stable_user_id("layla"),
                algorithm="gradient boosting",
                data_spec={
                    "target": "converted",
                    "features": template.evidence["drift"]["psi"].keys()
                    and list(template.evidence["drift"]["psi"]),
                    "sensitive_features": ["gender", "nationality_region", "age_band"],
                    "pii_columns": [],
                },
            )
            with unit_of_work(engine) as work:
                work.session.add(
                    Assessment(
                        model_version_id=version_id,
                        run_id=None,
                        passed=template.passed,
                        risk_score=template.risk_score,
                        risk_level=template.risk_level,
                        evidence=template.evidence,
                        artifact_dir=str(template.artifact_dir),
                        created_by=SYSTEM_USER_ID,
                        policy_version=policy.version,
                        policy_hash=policy.content_hash,
                    )
                )
                work.record(
                    actor_id=SYSTEM_USER_ID,
                    action="assessment.recorded",
                    entity_type="model_version",
                    entity_id=f"model-{number:03d}/{version}",
                )
    from governance.audit import count_events
    from governance.store import read_session

    with read_session(engine) as session:
        missing = EVENTS - count_events(session)
    while missing > 0:
        with unit_of_work(engine) as work:
            for index in range(min(missing, 10_000)):
                work.record(
                    actor_id=SYSTEM_USER_ID,
                    action="benchmark.padding",
                    entity_type="benchmark",
                    entity_id=str(index),
                    payload={"index": index},
                )
        missing -= 10_000
    engine.dispose()


def time_pages(home: Path) -> dict[str, dict[str, float]]:
    """First and repeat load of each page, and two interactions, with AppTest."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from governance.access import stable_user_id

    os.environ["GOVERNANCE_HOME"] = str(home)
    results: dict[str, dict[str, float]] = {}
    for name, (script, _, person) in PAGES.items():
        timings = []
        for _ in range(2):
            app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            app.session_state["acting_user_id"] = stable_user_id(person)
            app.run()
            started = time.perf_counter()
            app.switch_page(script).run()
            timings.append(time.perf_counter() - started)
        results[name] = {"first": timings[0], "repeat": timings[1]}
        if name == "model":
            started = time.perf_counter()
            app.selectbox(key="overview_model").select("model-050").run()
            results[name]["selectbox"] = time.perf_counter() - started
        if name == "fairness":
            slider = app.slider[0]
            started = time.perf_counter()
            slider.set_value(0.3).run()
            results[name]["slider"] = time.perf_counter() - started
    st.cache_data.clear()
    return results


def heavy_imports(home: Path, script: str, person: str) -> list[str]:
    """Which heavy libraries a page imports, in a fresh interpreter."""
    code = (
        "import sys\nfrom streamlit.testing.v1 import AppTest\n"
        "from governance.access import stable_user_id\n"
        f"app = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=120)\n"
        f"app.session_state['acting_user_id'] = stable_user_id({person!r})\n"
        f"app.run(); app.switch_page({script!r}).run()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'shap', 'evidently', 'mlflow'}))"
    )
    env = {**os.environ, "GOVERNANCE_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return (
        json.loads(out.stdout.strip().splitlines()[-1].replace("'", '"'))
        if out.returncode == 0
        else ["error"]
    )


def _counter(received: list[int]):  # type: ignore[no-untyped-def]
    def on_socket(socket_) -> None:  # type: ignore[no-untyped-def]
        socket_.on(
            "framereceived",
            lambda payload: received.__setitem__(0, received[0] + len(payload)),
        )

    return on_socket


def bytes_sent(home: Path) -> dict[str, int]:
    """Websocket bytes a browser receives for each page of a running console."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GOVERNANCE_HOME": str(home)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=1
                )
                break
            except OSError:
                time.sleep(0.5)
        sizes = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            for name, (_, path, _) in PAGES.items():
                page = browser.new_page()
                received = [0]
                page.on("websocket", _counter(received))
                page.goto(
                    f"http://127.0.0.1:{port}/{path}",
                    wait_until="networkidle",
                    timeout=120_000,
                )
                page.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)
                page.wait_for_timeout(3000)
                sizes[name] = received[0]
                page.close()
            browser.close()
        return sizes
    finally:
        server.terminate()


def main() -> int:
    # ``--home DIR`` reuses (or keeps) a built store between runs.
    kept = sys.argv[sys.argv.index("--home") + 1] if "--home" in sys.argv else None
    with tempfile.TemporaryDirectory() as folder:
        home = Path(kept or folder)
        started = time.perf_counter()
        if not (home / "governance.db").exists():
            build_store(home)
        print(
            f"store built in {time.perf_counter() - started:.0f} s: {MODELS} models, {MODELS * VERSIONS} versions (about), {EVENTS:,} audit events\n"
        )
        timings = time_pages(home)
        sizes = bytes_sent(home)
        print(
            f"{'page':<14}{'first s':>9}{'repeat s':>10}{'interaction s':>15}{'sent MB':>9}  heavy imports"
        )
        for name, (script, _, person) in PAGES.items():
            row = timings[name]
            interaction = row.get("selectbox", row.get("slider"))
            shown = f"{interaction:.3f}" if interaction is not None else "-"
            imports = ", ".join(heavy_imports(home, script, person)) or "none"
            print(
                f"{name:<14}{row['first']:>9.2f}{row['repeat']:>10.2f}{shown:>15}{sizes.get(name, 0) / 1e6:>9.2f}  {imports}"
            )
        print(
            "\ntargets: first load < 2.5 s, interaction < 0.3 s, < 5 MB sent; ratios are the columns over these."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
