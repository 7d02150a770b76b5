"""The navigation page in headless Chromium against a real uvicorn and a real graph."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import serve_app


@pytest.fixture
def live_server(api_graph: Any, prefix: str) -> Iterator[str]:
    """A real uvicorn on a free loopback port, serving the app on the sample graph."""
    from cosmo.api import ApiSettings, create_app

    with serve_app(create_app(ApiSettings(key_prefix=prefix), core=api_graph)) as url:
        yield url


@pytest.mark.slow
def test_navigation_page(live_server: str, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    browser.get(f"{live_server}/navigate")
    assert "search navigation" in browser.title
    box = browser.find_element(By.ID, "q")
    box.send_keys("winter camping")
    browser.find_element(By.ID, "search").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#products .product")) == 3)
    ids = [
        e.get_attribute("data-id")
        for e in browser.find_elements(By.CSS_SELECTOR, "#products .product")
    ]
    assert ids == ["P1", "P2", "P3"]
    assert "3 products" in browser.find_element(By.ID, "status").text
    facets = browser.find_elements(By.CSS_SELECTOR, "#facets .facet")
    assert {f.get_attribute("data-relation") for f in facets} >= {"USED_FOR_EVE", "CAPABLE_OF"}
    chip = wait.until(
        ec.element_to_be_clickable(
            (By.XPATH, "//aside[@id='facets']//button[contains(., 'camping in cold weather')]")
        )
    )
    chip.click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#products .product")) == 2)
    assert "camping in cold weather" in browser.find_element(By.ID, "selected").text
    shot = tmp_path / "navigate.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("COSMO_SCREENSHOT"):
        shutil.copy(shot, os.environ["COSMO_SCREENSHOT"])
    # an injection attempt is shown as text, never executed
    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys('<img src=x onerror="document.title=1">')
    browser.find_element(By.ID, "search").click()
    wait.until(lambda d: "products for" in d.find_element(By.ID, "status").text)
    assert browser.title != "1"
