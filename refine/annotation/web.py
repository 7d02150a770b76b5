"""The annotation web page and its JSON endpoints, as a FastAPI router.

Mount it anywhere (the API app mounts it at ``/annotate``)::

    app.include_router(create_router(AnnotationStore(path)), prefix="/annotate")

==========================  ==========================================================
``GET  /``                   the page (plain HTML and JS, keyboard-driven)
``GET  /api/next``           ``?annotator=``: the next item, its position and progress
``POST /api/labels``         ``{item_id, annotator, answers: {question: bool}, note, audit}``
``POST /api/undo``           ``{annotator}``: take back the last answer, return that item
``GET  /api/progress``       ``?annotator=``
``GET  /api/export``         ``?format=jsonl|csv[&annotator=]``: the labels as a file
``GET  /api/agreement``      kappa per question (Cohen for two annotators, Fleiss for more)
==========================  ==========================================================

Given an ``api_key``, the writes (labels, undo) need it in ``X-API-Key`` (401 without it or
with another); reads stay open. The page sends the key it was opened with
(``/annotate/?key=...``).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from cosmo.core.errors import InputError
from cosmo.core.keys import API_KEY_HEADER, key_problem
from cosmo.refine.annotation.agreement import agreement
from cosmo.refine.annotation.io import labels_to_text
from cosmo.refine.annotation.items import QUESTION_TEXT, QUESTIONS, Label
from cosmo.refine.annotation.store import AnnotationStore

__all__ = ["create_router"]


class LabelIn(BaseModel):
    item_id: str = Field(min_length=1)
    annotator: str = Field(min_length=1, max_length=64)
    answers: dict[str, bool]
    note: str = Field(default="", max_length=2000)
    audit: bool = False


class UndoIn(BaseModel):
    annotator: str = Field(min_length=1, max_length=64)


def _page(base: str) -> str:
    html = resources.files("cosmo.refine.annotation").joinpath("page.html").read_text("utf-8")
    config = {"base": base, "questions": list(QUESTIONS), "text": QUESTION_TEXT}
    return html.replace("/*CONFIG*/null", json.dumps(config))


def _writer(api_key: str | None) -> Any:
    """A dependency refusing a write without the key (when one is configured)."""

    def check(request: Request) -> None:
        if api_key is None:
            return
        problem = key_problem(api_key, request.headers.get(API_KEY_HEADER))
        if problem is not None:
            raise HTTPException(401, problem)

    return Depends(check)


def create_router(store: AnnotationStore, api_key: str | None = None) -> APIRouter:
    """A router serving the annotation page and its JSON API over ``store``.

    With ``api_key``, saving a label and undoing one need it in ``X-API-Key``.
    """
    router = APIRouter(tags=["annotation"])
    writer = _writer(api_key)

    def bad(e: InputError) -> HTTPException:
        return HTTPException(status_code=422, detail=str(e))

    def state(annotator: str) -> dict[str, Any]:
        return {"item": store.next_item(annotator), "progress": store.progress(annotator)}

    @router.get("/", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        base = request.url.path.rstrip("/")
        return HTMLResponse(_page(base))

    @router.get("/api/next")
    def next_item(annotator: str) -> dict[str, Any]:
        try:
            return state(annotator)
        except InputError as e:
            raise bad(e) from e

    @router.post("/api/labels", dependencies=[writer])
    def save(body: LabelIn) -> dict[str, Any]:
        unknown = set(body.answers) - set(QUESTIONS)
        missing = [q for q in QUESTIONS if q not in body.answers]
        if unknown or missing:
            raise HTTPException(422, f"answer exactly these questions: {', '.join(QUESTIONS)}")
        try:
            store.save_label(
                Label(body.item_id, body.annotator, body.answers, note=body.note), audit=body.audit
            )
            return state(body.annotator)
        except InputError as e:
            raise bad(e) from e

    @router.post("/api/undo", dependencies=[writer])
    def undo(body: UndoIn) -> dict[str, Any]:
        try:
            item = store.undo(body.annotator)
            return {"item": item, "progress": store.progress(body.annotator)}
        except InputError as e:
            raise bad(e) from e

    @router.get("/api/progress")
    def progress(annotator: str) -> dict[str, int]:
        try:
            return store.progress(annotator)
        except InputError as e:
            raise bad(e) from e

    @router.get("/api/export")
    def export(format: Literal["jsonl", "csv"] = "jsonl", annotator: str | None = None) -> Response:
        text = labels_to_text(store, format, annotator)
        media = "application/x-ndjson" if format == "jsonl" else "text/csv"
        name = f"annotations{'-' + annotator if annotator else ''}.{format}"
        return Response(
            text,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get("/api/agreement")
    def agree() -> dict[str, object]:
        return agreement(store.labels()).as_dict()

    return router


def create_app(
    store: AnnotationStore, prefix: str = "/annotate", api_key: str | None = None
) -> Any:
    """A minimal FastAPI app with only the annotation router (``cosmo annotate serve``)."""
    from fastapi import FastAPI
    from fastapi.responses import RedirectResponse

    app = FastAPI(title="cosmo annotation")
    app.include_router(create_router(store, api_key), prefix=prefix)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(prefix + "/")

    return app
