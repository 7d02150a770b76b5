"""The annotation router's JSON API, over real HTTP inside the process (TestClient)."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cosmo.refine.annotation import QUESTIONS, AnnotationStore
from cosmo.refine.annotation.web import create_app, create_router


@pytest.fixture
def client(ann_store: AnnotationStore) -> TestClient:
    app = FastAPI()
    app.include_router(create_router(ann_store), prefix="/annotate")
    return TestClient(app)


def all_yes() -> dict[str, bool]:
    return dict.fromkeys(QUESTIONS, True)


def test_page_is_served_with_its_base_path(client: TestClient):
    r = client.get("/annotate/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert '"base": "/annotate"' in r.text and "typicality" in r.text
    assert "http://" not in r.text and "https://" not in r.text  # no CDN, no external asset
    assert client.get("/annotate", follow_redirects=True).status_code == 200


def test_annotate_undo_export_agreement(client: TestClient, ann_store: AnnotationStore):
    s = client.get("/annotate/api/next", params={"annotator": "alice"}).json()
    assert s["item"]["position"] == 0 and s["progress"]["done"] == 0
    first = s["item"]["item_id"]
    r = client.post(
        "/annotate/api/labels", json={"item_id": first, "annotator": "alice", "answers": all_yes()}
    )
    assert r.status_code == 200 and r.json()["item"]["position"] == 1
    assert r.json()["progress"]["done"] == 1
    back = client.post("/annotate/api/undo", json={"annotator": "alice"}).json()
    assert back["item"]["item_id"] == first and back["progress"]["done"] == 0
    for who in ("alice", "bob"):
        for _ in range(2):
            it = client.get("/annotate/api/next", params={"annotator": who}).json()["item"]
            ans = all_yes() | {"typicality": who == "alice"}
            client.post(
                "/annotate/api/labels",
                json={"item_id": it["item_id"], "annotator": who, "answers": ans},
            )
    lines = client.get("/annotate/api/export", params={"format": "jsonl"}).text.splitlines()
    assert len(lines) == 4 and {json.loads(x)["annotator"] for x in lines} == {"alice", "bob"}
    csv = client.get("/annotate/api/export", params={"format": "csv", "annotator": "bob"})
    assert csv.headers["content-type"].startswith("text/csv") and len(csv.text.splitlines()) == 3
    ag = client.get("/annotate/api/agreement").json()
    assert ag["method"] == "cohen" and ag["items"] == 2
    assert ag["percent_agreement"]["typicality"] == 0.0 and ag["kappa"]["completeness"] == 1.0


def test_bad_requests_get_clear_errors(client: TestClient):
    r = client.post(
        "/annotate/api/labels", json={"item_id": "nope", "annotator": "a", "answers": all_yes()}
    )
    assert r.status_code == 422 and "unknown item id 'nope'" in r.json()["detail"]
    r = client.post(
        "/annotate/api/labels",
        json={"item_id": "x", "annotator": "a", "answers": {"typicality": True}},
    )
    assert r.status_code == 422 and "completeness" in r.json()["detail"]
    r = client.get("/annotate/api/next", params={"annotator": "has space"})
    assert r.status_code == 422 and "annotator id" in r.json()["detail"]


def test_standalone_app_redirects_to_the_page(ann_store: AnnotationStore):
    c = TestClient(create_app(ann_store))
    r = c.get("/", follow_redirects=False)
    assert r.status_code in (302, 307) and r.headers["location"] == "/annotate/"


def test_writes_need_the_key_when_one_is_configured(ann_store: AnnotationStore):
    app = FastAPI()
    app.include_router(create_router(ann_store, api_key="k3y"), prefix="/annotate")
    client = TestClient(app)
    it = client.get("/annotate/api/next", params={"annotator": "alice"}).json()["item"]
    label = {"item_id": it["item_id"], "annotator": "alice", "answers": all_yes()}
    for headers, problem in [({}, "missing API key"), ({"X-API-Key": "guess"}, "wrong API key")]:
        r = client.post("/annotate/api/labels", json=label, headers=headers)
        assert r.status_code == 401 and problem in r.json()["detail"]
    assert ann_store.labels() == []
    r = client.post("/annotate/api/labels", json=label, headers={"X-API-Key": "k3y"})
    assert r.status_code == 200 and len(ann_store.labels()) == 1
    # another client cannot take alice's label back without the key
    for headers in ({}, {"X-API-Key": "guess"}):
        r = client.post("/annotate/api/undo", json={"annotator": "alice"}, headers=headers)
        assert r.status_code == 401
    assert len(ann_store.labels()) == 1
    r = client.post("/annotate/api/undo", json={"annotator": "alice"}, headers={"X-API-Key": "k3y"})
    assert r.status_code == 200 and ann_store.labels() == []
    # reads stay open; the page sends the key it was opened with
    assert client.get("/annotate/api/progress", params={"annotator": "alice"}).status_code == 200
    assert client.get("/annotate/api/export").status_code == 200
    page = client.get("/annotate/", params={"key": "k3y"}).text
    assert 'get("key")' in page and 'headers["X-API-Key"] = KEY' in page
