"""The saved queries as a Neo4j Browser guide (``:play <url>`` or ``:guide <url>``).

Neo4j Browser loads a remote guide from a host in the server's
``browser.remote_content_hostname_whitelist``: an HTML page whose ``<slide>`` elements become
the guide's slides. In a slide, a ``<pre class="runnable">`` block is code: clicking it puts
it in the editor, and clicking its play icon runs it. Each saved query gets one slide with two
runnable blocks: one ``:param name => value;`` line per example parameter, then the query
itself. (``:param … =>`` has the server evaluate the value, so integers stay integers, as
``LIMIT`` needs; the ``:params {…}`` map form would turn them into floats.)
"""

from __future__ import annotations

import json
from html import escape

from cosmo.cypher import SavedQuery, saved_queries

__all__ = ["render_guide"]

_INTRO = """<slide>
<h3>cosmo: the knowledge graph, for analysts</h3>
<p>One slide per saved query in <code>cypher/</code>. On each slide, first run the
<code>:param</code> block (it sets the example parameters; edit them in the editor to ask
about something else), then run the query. Click a block to copy it into the editor, or its
play icon to run it at once.</p>
<p>The graph: <code>(:Query)-[:SEARCH_BUY]-&gt;(:Product)</code>,
<code>(:Product)-[:CO_BUY]-&gt;(:Product)</code>, and
<code>(:Query|:Product)-[:&lt;RELATION&gt;]-&gt;(:Intention)</code> for COSMO's 15 relations,
each edge with its plausibility, typicality and provenance.</p>
<ol>{items}</ol>
</slide>"""

_SLIDE = """<slide id="{name}">
<h3>{name}</h3>
<p>{description}</p>
<p><em>Parameters:</em> {params}</p>
{set_params}<pre class="runnable">{text}</pre>
<p><small>From <code>cypher/{file}</code>.</small></p>
</slide>"""


def _cypher_literal(value: object) -> str:
    """A JSON value as a Cypher literal map/list/scalar (keys unquoted when they are names)."""
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {_cypher_literal(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_cypher_literal(v) for v in value) + "]"
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def _param_block(example: dict[str, object]) -> str:
    """``:param k => v;`` lines in a runnable block (none for a query without parameters)."""
    if not example:
        return ""
    lines = "\n".join(f":param {k} => {_cypher_literal(v)};" for k, v in example.items())
    return f'<pre class="runnable">{escape(lines)}</pre>\n'


def _slide(q: SavedQuery) -> str:
    return _SLIDE.format(
        name=escape(q.name),
        description=escape(q.description),
        params=escape(q.params),
        set_params=_param_block(q.example),
        text=escape(q.text),
        file=escape(q.file),
    )


def render_guide(queries: dict[str, SavedQuery] | None = None) -> str:
    """The guide page: an introduction, then one slide per saved query."""
    qs = saved_queries() if queries is None else queries
    items = "".join(f"<li>{escape(q.name)}: {escape(q.description)}</li>" for q in qs.values())
    slides = "\n".join([_INTRO.format(items=items), *(_slide(q) for q in qs.values())])
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        "<title>cosmo saved queries</title></head>\n<body>\n" + slides + "\n</body></html>\n"
    )
