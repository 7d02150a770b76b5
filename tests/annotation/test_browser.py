"""The annotation page in a real headless Chromium, against a real uvicorn server.

Annotate three items with the keyboard, take one answer back, reload and resume at the
fourth item, export, and compute agreement with a second annotator who uses the JSON API.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cosmo.refine.annotation import QUESTIONS, AnnotationStore
from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

pytestmark = pytest.mark.slow


@pytest.fixture
def server(ann_store: AnnotationStore) -> Iterator[str]:
    """A real uvicorn server with the standalone annotation app, in a thread."""
    import uvicorn

    from cosmo.refine.annotation.web import create_app

    port = free_port()
    config = uvicorn.Config(create_app(ann_store), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield base
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser() -> Iterator:  # type: ignore[type-arg]
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail(f"the browser test needs Debian's chromium and chromium-driver ({CHROMIUM})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cosmo-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1100,900",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_annotate_resume_export_agreement(
    server: str, browser, ann_store: AnnotationStore, tmp_path: Path
):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 15)
    items = ann_store.items()

    def shown() -> str:
        return browser.find_element(By.ID, "item").get_attribute("data-item-id") or ""

    def keys(*ks: str) -> None:
        chain = ActionChains(browser)
        for k in ks:
            chain.send_keys(k)
        chain.perform()

    # the annotator identifies with the small form
    browser.get(f"{server}/annotate/")
    field = wait.until(lambda d: d.find_element(By.ID, "annotator-input"))
    assert field.is_displayed()
    field.send_keys("alice", Keys.ENTER)
    wait.until(lambda d: shown() == items[0]["item_id"])
    assert "alice" in browser.current_url

    # three items, keyboard only: y/n per question, Enter to submit
    plan = ["yyyyy", "yynyn", "ynyyy"]
    for i, answers in enumerate(plan):
        wait.until(lambda d, i=i: shown() == items[i]["item_id"])
        keys(*answers)
        if i == 2:
            browser.save_screenshot(str(tmp_path / "annotate.png"))
            if os.environ.get("COSMO_SCREENSHOT"):
                shutil.copy(tmp_path / "annotate.png", os.environ["COSMO_SCREENSHOT"])
        keys(Keys.ENTER)
    wait.until(lambda d: shown() == items[3]["item_id"])
    assert (tmp_path / "annotate.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # u takes the third answer back: the item comes again with its answers; fix one and resubmit
    keys("u")
    wait.until(lambda d: shown() == items[2]["item_id"])
    rows = browser.find_elements(By.CSS_SELECTOR, "#questions li .ans")
    assert [r.text for r in rows] == ["yes", "no", "yes", "yes", "yes"]
    keys("2", "y", Keys.ENTER)
    wait.until(lambda d: shown() == items[3]["item_id"])

    # what the store holds is what was typed
    got = {lab.item_id: [lab.answers[q] for q in QUESTIONS] for lab in ann_store.labels("alice")}
    want = [[c == "y" for c in a] for a in ("yyyyy", "yynyn", "yyyyy")]
    assert got == {items[i]["item_id"]: want[i] for i in range(3)}

    # reload: the page resumes at the fourth item, with the progress shown
    browser.refresh()
    wait.until(lambda d: shown() == items[3]["item_id"])
    assert browser.find_element(By.ID, "progress").text.startswith("3 / 12 done")

    # export from the page's own link
    href = browser.find_element(By.ID, "exp-jsonl").get_attribute("href")
    exported = [json.loads(x) for x in httpx.get(href).text.splitlines()]
    assert [(r["item_id"], r["annotator"]) for r in exported] == [
        (items[i]["item_id"], "alice") for i in range(3)
    ]
    assert exported[1]["informativeness"] is False and exported[1]["typicality"] is False

    # a second annotator through the JSON API, then agreement
    with httpx.Client(base_url=f"{server}/annotate/api") as api:
        for i in range(3):
            nxt = api.get("/next", params={"annotator": "bob"}).json()["item"]
            assert nxt["item_id"] == items[i]["item_id"]
            ans = {q: True for q in QUESTIONS} | {"typicality": i != 1}
            assert api.post(
                "/labels", json={"item_id": nxt["item_id"], "annotator": "bob", "answers": ans}
            ).is_success
        ag = api.get("/agreement").json()
    assert ag["method"] == "cohen" and ag["items"] == 3 and ag["annotators"] == ["alice", "bob"]
    assert ag["percent_agreement"]["typicality"] == 1.0 and ag["kappa"]["typicality"] == 1.0
    assert ag["percent_agreement"]["informativeness"] == pytest.approx(2 / 3, abs=1e-3)
