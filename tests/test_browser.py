"""Every page of a running console in a real browser: it loads, shows no error, and
is saved as a screenshot (tests/screenshots/). Debian's Chromium, driven by Playwright
by path and headless (slow)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("demo")]

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "tests" / "screenshots"
PAGES = {
    "inventory": "",
    "model": "model",
    "explanations": "explanations",
    "fairness": "fairness",
    "drift": "drift",
    "data-quality": "data-quality",
    "model-card": "model-card",
    "inbox": "inbox",
    "request": "request",
    "review": "review",
    "deployment": "deployment",
    "people": "people",
    "audit": "audit",
}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def console_url(assessed_demo, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    env = {**os.environ, "GOVERNANCE_HOME": str(assessed_demo.home)}
    for name in (
        "GOVERNANCE_DATABASE_URL",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_REGISTRY_URI",
    ):
        env.pop(name, None)
    log = (tmp_path_factory.mktemp("streamlit") / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("The console did not start within 60 s")
    yield url
    server.terminate()
    server.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


def _settle(page) -> None:
    """Wait until the script run ends and every chart has drawn."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=90_000)
    for _ in range(3):
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
            timeout=60_000,
        )
        page.wait_for_timeout(700)
    charts = page.locator('[data-testid="stPlotlyChart"]').count()
    page.wait_for_function(
        f"() => document.querySelectorAll('.main-svg').length >= {charts}",
        timeout=60_000,
    )
    page.wait_for_timeout(500)


@pytest.mark.parametrize(("name", "path"), list(PAGES.items()), ids=list(PAGES))
def test_page_loads_without_error(console_url, browser, name, path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{console_url}/{path}", wait_until="networkidle", timeout=60_000)
        _settle(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

        # st.error shows failed standards on purpose; an exception element or a
        # traceback is what must never reach the browser.
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "Traceback" not in page.inner_text("body")
        assert page.locator('[data-testid="stMain"] h1').count() >= 1
    finally:
        page.close()
