// Search navigation (COSMO Figure 9): query -> intention facets -> products.
// Talks to /graphql only; every value from the server is inserted as text, never as HTML.
"use strict";
(function () {
  const PAGE = 10;
  const state = { query: "", selected: new Map(), after: null };
  const $ = (id) => document.getElementById(id);

  const NAV = `query Nav($q: String!, $sel: [ID!], $first: Int, $after: String) {
    navigate(query: $q, selectedIntentions: $sel) {
      knownQuery
      facets(size: 8) { relation tailType count values { count selected intention { id text } } }
      products(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { score product { id title type domain
          intentions(first: 3) { edges { node { relation intention { text } } } } } } }
      }
    }
  }`;

  async function gql(query, variables) {
    const r = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    const body = await r.json();
    if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
    return body.data;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function status(msg, isError) {
    $("status").textContent = msg;
    $("status").className = isError ? "error" : "";
  }

  function toggle(id, text) {
    if (state.selected.has(id)) state.selected.delete(id);
    else state.selected.set(id, text);
    run(false);
  }

  function renderSelected() {
    const box = $("selected");
    box.replaceChildren();
    for (const [id, text] of state.selected) {
      const c = el("button", "chip selected", text + " ✕");
      c.type = "button";
      c.dataset.id = id;
      c.addEventListener("click", () => toggle(id, text));
      box.append(c);
    }
  }

  function renderFacets(facets) {
    const box = $("facets");
    box.replaceChildren();
    for (const f of facets) {
      const sec = el("div", "facet");
      sec.dataset.relation = f.relation;
      sec.append(el("h3", "", `${f.tailType || f.relation} · ${f.relation}`));
      for (const v of f.values) {
        const c = el("button", "chip" + (v.selected ? " selected" : ""), v.intention.text);
        c.type = "button";
        c.dataset.id = v.intention.id;
        c.append(el("span", "n", String(v.count)));
        c.addEventListener("click", () => toggle(v.intention.id, v.intention.text));
        sec.append(c);
      }
      box.append(sec);
    }
  }

  function renderProducts(conn, append) {
    const list = $("products");
    if (!append) list.replaceChildren();
    for (const { node } of conn.edges) {
      const p = node.product;
      const li = el("li", "product");
      li.dataset.id = p.id;
      li.append(el("h4", "", p.title || p.id));
      li.append(el("div", "meta", [p.type, p.domain, `score ${node.score.toFixed(2)}`].filter(Boolean).join(" · ")));
      const why = el("div", "why");
      for (const e of p.intentions.edges) why.append(el("span", "", `${e.node.relation}: ${e.node.intention.text}`));
      li.append(why);
      list.append(li);
    }
    state.after = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
    $("more").hidden = !state.after;
  }

  async function run(more) {
    if (!state.query) return;
    status("Searching…");
    try {
      const data = await gql(NAV, {
        q: state.query,
        sel: [...state.selected.keys()],
        first: PAGE,
        after: more ? state.after : null,
      });
      const nav = data.navigate;
      renderSelected();
      if (!more) renderFacets(nav.facets);
      renderProducts(nav.products, more);
      const how = nav.knownQuery ? "" : " (query not in the graph: title search)";
      status(`${nav.products.totalCount} products for “${state.query}”${how}`);
    } catch (err) {
      status(err.message, true);
    }
  }

  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.query = $("q").value.trim();
    state.selected.clear();
    run(false);
  });
  $("more").addEventListener("click", () => run(true));
  const initial = new URLSearchParams(location.search).get("q");
  if (initial) { $("q").value = initial; state.query = initial; run(false); }
})();
