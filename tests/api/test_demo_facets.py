"""After `cosmo demo`, navigation shows intention facets worth clicking, through GraphQL.

The graph is the demo's (its catalogue, behaviour and refined triples, loaded with the real
loader into each backend); every demo query with at least three result products must show
at least three facet values, none of them shared by all the products the facets describe,
and clicking one narrows the products.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cosmo.api import ApiSettings
from cosmo.core.tables import read_table
from cosmo.kg.factory import open_store

NAV = """query($q: String!, $sel: [ID!]) { navigate(query: $q, selectedIntentions: $sel) {
  products(first: 100) { totalCount edges { node { product { id } } } }
  facets(size: 8) { relation values { count selected score intention { id text } } } } }"""


def load_demo(store: Any, workdir: Path) -> None:
    """The demo's graph into ``store``: catalogue and behaviour, then its refined triples."""
    from cosmo.kg.loader import load_behaviour, load_triples_file

    ingest = {k: read_table(workdir / "ingest" / f"{k}.parquet").frame
              for k in ("catalogue", "search_buy", "co_buy")}  # fmt: skip
    load_behaviour(store, products=ingest["catalogue"], search_buy=ingest["search_buy"],
                   co_buy=ingest["co_buy"])  # fmt: skip
    load_triples_file(store, workdir / "refine" / "triples.parquet")


def _load(settings: Any, workdir: Path) -> None:
    store = open_store(settings)
    try:
        store.setup(embedding_dim=384)
        load_demo(store, workdir)
    finally:
        store.close()


@pytest.mark.slow
def test_demo_queries_show_facets_that_narrow(
    falkordb_demo: dict[str, Any], graph_settings: Any, make_client: Any, gql: Any
) -> None:
    workdir = Path(falkordb_demo["workdir"])
    _load(graph_settings, workdir)
    client, _ = make_client(graph_settings)
    limit = ApiSettings().facet_products  # the products facets are counted on
    queries = sorted(set(read_table(workdir / "ingest" / "search_buy.parquet").frame["query"]))
    checked = 0
    for q in queries:
        nav = gql(client, NAV, {"q": q})["data"]["navigate"]
        n = min(nav["products"]["totalCount"], limit)
        if nav["products"]["totalCount"] < 3:
            continue
        values = [v for f in nav["facets"] for v in f["values"]]
        assert len(values) >= 3, (q, nav)
        assert all(v["count"] < n and v["score"] > 0 for v in values), (q, values)
        checked += 1
        # clicking the best value keeps only the products that have it
        best = max(values, key=lambda v: v["score"])
        narrowed = gql(client, NAV, {"q": q, "sel": [best["intention"]["id"]]})["data"]
        got = narrowed["navigate"]["products"]["totalCount"]
        assert 0 < got < nav["products"]["totalCount"], (q, best)
    assert checked >= 5, f"only {checked} demo queries have three products"


SCREENSHOTS = Path(__file__).resolve().parents[2] / ".cosmo" / "screenshots"
"""A stable, git-ignored place for the navigation screenshot (besides the test's tmp dir)."""


@pytest.mark.slow
def test_demo_navigation_page_facets_narrow(
    falkordb_demo: dict[str, Any], graph_settings: Any, browser: Any, prefix: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from cosmo.api import create_app
    from tests.conftest import serve_app

    _load(graph_settings, Path(falkordb_demo["workdir"]))
    products = (By.CSS_SELECTOR, "#products .product")
    chips = (By.CSS_SELECTOR, "#facets .facet button.chip")

    def total() -> int:  # "N products for …" in the status line
        text = browser.find_element(By.ID, "status").text
        return int(text.split()[0]) if "products for" in text else -1

    with serve_app(create_app(ApiSettings(key_prefix=prefix), core=graph_settings)) as url:
        wait = WebDriverWait(browser, 90)  # the first request also warms the app up
        browser.get(f"{url}/navigate")
        browser.find_element(By.ID, "q").send_keys("newborn essentials")
        browser.find_element(By.ID, "search").click()
        wait.until(lambda d: "products for" in d.find_element(By.ID, "status").text)
        before = total()
        wait.until(lambda d: len(d.find_elements(*chips)) >= 3)
        assert before >= 3 and len(browser.find_elements(*products)) >= 3
        browser.find_elements(*chips)[0].click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#selected .chip"))
        wait.until(lambda d: 0 < total() < before)
        shot = tmp_path / "navigate-facets.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stable = SCREENSHOTS / f"navigate-facets-{graph_settings.backend}.png"
        stable.write_bytes(shot.read_bytes())
