"""Check the HTML pages that `modelinfo report` writes, in headless Chromium, as a person would use them.

Usage: .venv/bin/python Tools/check-report.py [DIR]

Tools/check-report makes the pages into DIR (default .generated/reports) and
runs this; it can also run alone on pages made before. PAGES lists the pages.
DIR/make-ms.tsv holds the wall time of each page's `modelinfo report` run
("NAME<TAB>MILLISECONDS" lines), written by Tools/check-report.

The browser is Debian's chromium (Tools/bootstrap installs it), driven by
Playwright; Playwright's own browser downloads are never used. Each page is
opened as a file:// URL in a fresh browser context, and checked for:
- no console error, no uncaught exception, no dialog (a name shown as markup
  would run `alert`), no request for anything but the page itself;
- the charts: svg#chart-layers-M, -stages-M, -ops-M and svg#graph-view-M for
  each model M < main#report's data-models, one svg#chart-resolution, and
  under --compare a g.series with rects for each model in it;
- exactly two script elements, the JSON one (#report-data, which must parse)
  and the page's code, so that no name became a script;
- window.modelinfoReport.ready, and its interactiveMs (performance.now() when
  the page became ready) at most INTERACTIVE_MS;
- a click on the bar of model 0 with the most MACs selects that node in
  svg#graph-view-0 (class `selected`, modelinfoReport.selected = {m, i}) and
  shows it inside the graph and the window;
- the stage of that node collapses (no node of it visible) and expands again
  (some visible), once by modelinfoReport.toggleStage and once by a click on
  its .stage-toggle (the click event sent to it if the graph's pan hid it);
- a search for part of another node's name in input#graph-search-0 selects a
  node with that name. A node's name is its data-name, else its <title>, else
  its `n` in the page's JSON (models[m].nodes, found by `i`);
- the page from Tools/make-hostile-names.py's model shows `<script>alert(1)</script>`
  as text (and escaped in the markup), and no text shows a name escaped twice
  or unescaped;
- the large page is made in at most MAKE_SECONDS and is at most MAX_BYTES.
The folder that --svg wrote must hold SVG_FILES; each .svg in it must parse as
XML, have an SVG root with a viewBox and at least one <text>, and
resolution.svg must open in Chromium without an error.

Screenshots go next to the pages: NAME.png (the whole page as loaded) and
NAME-graph.png (the graph after the bar click). Prints each problem, a table
of the pages, and "N passed, M failed" (pages); exits 1 if any page failed.
"""

import html
import importlib.util
import shutil
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
INTERACTIVE_MS = 1000
MAKE_SECONDS = 2.0
MAX_BYTES = 5 << 20  # 5 MB, meaning 5 MiB as elsewhere in Tools/
TIMEOUT_MS = 10_000  # for any one wait on a page; a working page needs far less
VIEWPORT = {"width": 1280, "height": 900}
SVG = "{http://www.w3.org/2000/svg}"
SVG_FILES = ["layers-0.svg", "layers-1.svg", "resolution.svg", "stages-0.svg", "stages-1.svg",
             "ops-0.svg", "ops-1.svg", "graph-0.svg", "graph-1.svg"]


@dataclass
class Page:
    name: str  # NAME.html in DIR
    models: int  # main#report's data-models: 2 for a --compare page
    svg_dir: str | None = None  # the folder --svg wrote, in DIR
    hostile: bool = False  # made from Tools/make-hostile-names.py's model
    limited: bool = False  # the large page: MAKE_SECONDS and MAX_BYTES apply


# The same names as in Tools/check-report, which makes them.
PAGES = [
    Page("vgg19-vs-resnet34", 2, svg_dir="vgg19-vs-resnet34-svg"),
    Page("vit_b_16", 1),
    Page("llama", 1, limited=True),
    Page("hostile-names", 1, hostile=True),
]


@dataclass
class Result:
    page: Page
    size: int | None = None
    make_ms: int | None = None
    interactive_ms: float | None = None
    problems: list[str] = field(default_factory=list)


class Problem(Exception):
    """A check that failed in a way that ends its step."""


def hostile_names():
    """The names of Tools/make-hostile-names.py's model (a file name with dashes, so loaded by path)."""
    spec = importlib.util.spec_from_file_location("make_hostile_names", ROOT / "Tools" / "make-hostile-names.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SCRIPT, module.NAMES


# Functions the page evaluates. `visible` is what a person sees: in the
# document, not hidden by display, visibility or opacity, with an area.
# `nodeName` is the name a search should find a node by: the node's
# data-name or <title> if it has one, else its entry in the page's data
# (models[m].nodes[k] with i, the index, and n, the name, as `modelinfo
# report` writes them); null if none of these tells.
HELPERS = """
const visible = (el) => {
    if (!el || !el.isConnected) return false;
    const own = getComputedStyle(el);
    if (own.visibility === "hidden" || own.visibility === "collapse") return false;
    for (let e = el; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.display === "none" || parseFloat(s.opacity) === 0) return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
};
const nodeName = (el) => {
    const own = el.dataset.name ?? el.querySelector(":scope > title")?.textContent;
    if (own !== undefined) return own;
    window.__checkReportData ??= JSON.parse(document.getElementById("report-data")?.textContent ?? "null");
    const entry = window.__checkReportData?.models?.[Number(el.dataset.m)]?.nodes?.find(n => String(n.i) === el.dataset.i);
    return typeof entry?.n === "string" ? entry.n : null;
};
const holds = (name, query) => name !== null && name.toLowerCase().includes(query.toLowerCase());
const graphNode = (m, i) => document.querySelector(`svg#graph-view-${m} g.node[data-m="${m}"][data-i="${CSS.escape(String(i))}"]`);
const stageOf = (m, s) => document.querySelector(`g.stage[data-m="${m}"][data-s="${CSS.escape(String(s))}"]`);
"""


def quoted(value):
    """A CSS string holding value, for an attribute selector."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def js(body):
    """A function of one argument for page.evaluate, with HELPERS in scope."""
    return f"(arg) => {{ {HELPERS}\n{body} }}"


CHARTS = js("""
const main = document.querySelector("main#report");
if (!main) return null;
const n = Number(main.dataset.models);
const missing = [], empty = [];
for (let m = 0; m < n; m++) {
    for (const id of [`chart-layers-${m}`, `chart-stages-${m}`, `chart-ops-${m}`, `graph-view-${m}`]) {
        const svg = document.querySelector(`svg#${id}`);
        if (!svg) missing.push(`svg#${id}`);
        else if (!svg.querySelector("rect, path, line, circle, polyline, polygon, text")) empty.push(`svg#${id}`);
    }
}
const series = [];
for (let m = 0; m < Math.max(n, 0); m++)
    series.push(document.querySelectorAll(`svg#chart-resolution g.series[data-m="${m}"] rect`).length);
return {models: main.dataset.models, n, missing, empty, resolution: document.querySelectorAll("svg#chart-resolution").length, series};
""")

SCRIPTS = js("""
return [...document.querySelectorAll("script")].map(s => {
    let parses = null;
    if (s.id === "report-data") { try { JSON.parse(s.textContent); parses = true; } catch (e) { parses = String(e); } }
    return {id: s.id, type: s.getAttribute("type"), src: s.getAttribute("src"), parses};
});
""")

BIGGEST_BAR = js("""
const bars = [...document.querySelectorAll('rect.bar[data-m="0"][data-i]')];
let best = null, unreadable = 0;
for (const bar of bars) {
    const macs = Number(bar.dataset.macs);
    if (bar.dataset.macs === undefined || !Number.isFinite(macs)) { unreadable++; continue; }
    if (!best || macs > Number(best.dataset.macs)) best = bar;
}
return {count: bars.length, unreadable, i: best?.dataset.i ?? null, macs: best?.dataset.macs ?? null};
""")

# Where a node is against the graph and the window, for the bar click.
NODE_PLACE = js("""
const {m, i} = arg;
const node = graphNode(m, i), svg = document.querySelector(`svg#graph-view-${m}`);
if (!node || !svg) return {exists: !!node};
const r = node.getBoundingClientRect(), g = svg.getBoundingClientRect(), slack = 1;
const box = (b) => [b.left, b.top, b.right, b.bottom].map(Math.round).join(",");
return {
    exists: true, selected: node.classList.contains("selected"), visible: visible(node),
    inGraph: r.left >= g.left - slack && r.top >= g.top - slack && r.right <= g.right + slack && r.bottom <= g.bottom + slack,
    inWindow: r.left >= -slack && r.top >= -slack && r.right <= innerWidth + slack && r.bottom <= innerHeight + slack,
    node: box(r), graph: box(g), window: `0,0,${innerWidth},${innerHeight}`,
};
""")

STAGE_OF_NODE = js("""
const node = graphNode(arg.m, arg.i);
if (!node) return null;
return node.closest(`g.stage[data-m="${arg.m}"]`)?.dataset.s ?? node.dataset.s ?? null;
""")

# A stage's state, and how many of its nodes show: those drawn inside its
# element and those elsewhere that name it in data-s.
STAGE_STATE = js("""
const {m, s} = arg, stage = stageOf(m, s);
if (!stage) return null;
const nodes = new Set([...stage.querySelectorAll(`g.node[data-m="${m}"]`),
                       ...document.querySelectorAll(`g.node[data-m="${m}"][data-s="${CSS.escape(String(s))}"]`)]);
return {expanded: stage.classList.contains("expanded"), collapsed: stage.classList.contains("collapsed"),
        visible: [...nodes].filter(visible).length, toggle: !!stage.querySelector(".stage-toggle")};
""")

# A node to search for: the first one drawn that is not selected, and the part
# of its name to type (without its first letter, so the search must match
# inside names), chosen so that the selected node does not match it.
SEARCH_TARGET = js("""
const m = arg, selected = window.modelinfoReport?.selected ?? null;
const nodes = [...document.querySelectorAll(`svg#graph-view-${m} g.node[data-m="${m}"]`)];
const current = nodes.filter(n => n.classList.contains("selected")).map(nodeName);
let named = 0;
for (const node of nodes) {
    const name = nodeName(node);
    if (name !== null) named++;
    if (node.classList.contains("selected") || name === null || name.trim().length < 2) continue;
    const query = name.trim().length > 3 ? name.trim().slice(1) : name.trim();
    if (!current.some(c => holds(c, query))) return {i: node.dataset.i, name, query, before: selected};
}
return {named, drawn: nodes.length};
""")

SEARCH_RESULT = js("""
const {m, query} = arg, selected = window.modelinfoReport?.selected ?? null;
const nodes = [...document.querySelectorAll(`svg#graph-view-${m} g.node[data-m="${m}"].selected`)];
return {selected, nodes: nodes.map(n => ({i: n.dataset.i, name: nodeName(n), matches: holds(nodeName(n), query), visible: visible(n)}))};
""")

# Every text that shows (text nodes outside script and style) holding each name.
TEXTS_HOLDING = js("""
const found = arg.map(() => new Set());
const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (!parent || parent.closest("script, style")) continue;
    arg.forEach((name, k) => { if (walker.currentNode.data.includes(name)) found[k].add(parent.tagName); });
}
return found.map(s => [...s]);
""")


def watch(page, problems):
    """Record console errors, uncaught exceptions and dialogs."""

    def on_console(message):
        if message.type == "error":
            place = message.location
            problems.append(f"console error: {message.text} ({place.get('url', '')}:{place.get('lineNumber', '')})")

    def on_dialog(dialog):
        problems.append(f"a {dialog.type} dialog opened with {dialog.message!r}: text of the page ran as code")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
    page.on("dialog", on_dialog)


def forbid_requests(context, allowed_url, problems):
    """Fail and block every request but the page's own file: the page must be self-contained.
    Data and blob URLs are the page's own bytes, so they pass."""

    def on_request(request):
        url = request.url.split("#")[0]
        if url != allowed_url and not url.startswith(("data:", "blob:")):
            problems.append(f"request for {request.url}: the page must not load anything")

    context.on("request", on_request)
    context.route(lambda url: not url.startswith(("file:", "data:", "blob:")), lambda route: route.abort())


def check_charts(page, spec, r):
    charts = page.evaluate(CHARTS, None)
    if charts is None:
        raise Problem("no main#report element")
    if charts["n"] != spec.models:
        r.problems.append(f"main#report data-models is {charts['models']!r}, expected {spec.models}")
    for what, ids in (("missing", charts["missing"]), ("empty (nothing drawn)", charts["empty"])):
        if ids:
            r.problems.append(f"charts {what}: {', '.join(ids)}")
    if charts["resolution"] != 1:
        r.problems.append(f"{charts['resolution']} svg#chart-resolution elements, expected 1")
    if spec.models > 1:
        for m, rects in enumerate(charts["series"]):
            if rects == 0:
                r.problems.append(f'svg#chart-resolution has no g.series[data-m="{m}"] with a rect')


def check_scripts(page, r):
    scripts = page.evaluate(SCRIPTS, None)
    data = [s for s in scripts if s["id"] == "report-data" and s["type"] == "application/json"]
    code = [s for s in scripts if s["type"] in (None, "", "text/javascript", "module") and not s["src"]]
    if len(scripts) != 2 or len(data) != 1 or len(code) != 1:
        r.problems.append(f"{len(scripts)} script elements, expected the JSON #report-data and one of code: {scripts}")
    for s in data:
        if s["parses"] is not True:
            r.problems.append(f"script#report-data is not JSON: {s['parses']}")


def check_ready(page, r):
    try:
        page.wait_for_function("() => window.modelinfoReport?.ready === true", timeout=TIMEOUT_MS)
    except PlaywrightError:
        raise Problem(f"window.modelinfoReport.ready is not true {TIMEOUT_MS} ms after load") from None
    ms, now = page.evaluate("() => [window.modelinfoReport.interactiveMs, performance.now()]")
    if not isinstance(ms, (int, float)) or not 0 < ms <= now:
        raise Problem(f"modelinfoReport.interactiveMs is {ms!r}, not a time since navigation (now {now:.0f} ms)")
    r.interactive_ms = ms
    if ms > INTERACTIVE_MS:
        r.problems.append(f"interactive after {ms:.0f} ms, more than {INTERACTIVE_MS} ms")


def click_biggest_bar(page, spec, r, folder):
    """Click model 0's bar with the most MACs; the graph must select and show its node. Returns the node index."""
    bar = page.evaluate(BIGGEST_BAR, None)
    if bar["i"] is None:
        raise Problem(f'no rect.bar[data-m="0"] with data-i and a numeric data-macs ({bar["count"]} bars, '
                      f'{bar["unreadable"]} without a number in data-macs)')
    i = bar["i"]
    locator = page.locator(f'rect.bar[data-m="0"][data-i={quoted(i)}][data-macs={quoted(bar["macs"])}]').first
    try:
        locator.scroll_into_view_if_needed(timeout=TIMEOUT_MS)
        locator.click(timeout=TIMEOUT_MS)
    except PlaywrightError as error:
        raise Problem(f"cannot click the bar of node {i} ({bar['macs']} MACs): {str(error).splitlines()[0]}") from None
    # The page may scroll and pan smoothly: wait until the node is in place.
    in_place = js("const p = (" + NODE_PLACE + ")(arg); return p.exists && p.selected && p.inGraph && p.inWindow;")
    try:
        page.wait_for_function(in_place, arg={"m": 0, "i": i}, timeout=TIMEOUT_MS)
    except PlaywrightError:
        place = page.evaluate(NODE_PLACE, {"m": 0, "i": i})
        if not place["exists"]:
            selected = page.evaluate("() => window.modelinfoReport.selected")
            raise Problem(f'after the click on the bar of node {i}, no g.node[data-m="0"][data-i="{i}"] in '
                          f'svg#graph-view-0 (modelinfoReport.selected is {selected!r})') from None
        r.problems.append(f"bar click: node {i} is not selected and in view: selected {place['selected']}, "
                          f"inside the graph {place['inGraph']}, inside the window {place['inWindow']} "
                          f"(node {place['node']}, graph {place['graph']}, window {place['window']})")
    selected = page.evaluate("() => window.modelinfoReport.selected")
    if selected != {"m": 0, "i": int(i)}:
        r.problems.append(f"bar click: modelinfoReport.selected is {selected!r}, expected {{m: 0, i: {i}}}")
    page.locator("svg#graph-view-0").screenshot(path=folder / f"{spec.name}-graph.png")
    return i


# Whether the middle of an element shows inside its graph's svg and the window,
# where a person could click it.
CLICKABLE = js("""
const el = document.querySelector(arg), svg = el?.closest("svg");
if (!el || !svg) return false;
const r = el.getBoundingClientRect(), g = svg.getBoundingClientRect();
const x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
return x >= Math.max(g.left, 0) && x <= Math.min(g.right, innerWidth) && y >= Math.max(g.top, 0) && y <= Math.min(g.bottom, innerHeight);
""")


def toggle(page, m, s, by_click):
    """Fold or unfold stage s of model m, by a click on its .stage-toggle or by modelinfoReport.toggleStage.
    A header that the graph's pan has put out of sight (the graph svg clips it;
    the window's scrolling cannot bring it back) gets the click event sent to it
    instead of a click at its place."""
    if by_click:
        selector = f'g.stage[data-m="{m}"][data-s={quoted(s)}] .stage-toggle'
        header = page.locator(selector).first
        header.scroll_into_view_if_needed(timeout=TIMEOUT_MS)
        if page.evaluate(CLICKABLE, selector):
            header.click(timeout=TIMEOUT_MS)
        else:
            header.dispatch_event("click", timeout=TIMEOUT_MS)
    else:
        page.evaluate("([m, s]) => window.modelinfoReport.toggleStage(m, s)", [m, int(s) if s.isdigit() else s])


def check_stage(page, r, i):
    """Collapse the selected node's stage and expand it again; the nodes shown must follow."""
    s = page.evaluate(STAGE_OF_NODE, {"m": 0, "i": i})
    if s is None:
        raise Problem(f'node {i} is in no g.stage[data-m="0"] and has no data-s')
    before = page.evaluate(STAGE_STATE, {"m": 0, "s": s})
    if before is None:
        raise Problem(f'no g.stage[data-m="0"][data-s="{s}"] for node {i}')
    if before["expanded"] == before["collapsed"]:
        raise Problem(f"stage {s} has class expanded {before['expanded']} and collapsed {before['collapsed']}: expected one")
    has_api = page.evaluate("() => typeof window.modelinfoReport.toggleStage === 'function'")
    if not has_api and not before["toggle"]:
        raise Problem(f"stage {s} has no .stage-toggle and modelinfoReport.toggleStage is not a function")
    # First by the function, then back by a click on the header, as a person would.
    for step, by_click in (("toggled", not has_api), ("toggled back", before["toggle"])):
        was = page.evaluate(STAGE_STATE, {"m": 0, "s": s})
        try:
            toggle(page, 0, s, by_click)
            page.wait_for_function(js("return stageOf(arg.m, arg.s)?.classList.contains(arg.c) === true;"),
                                   arg={"m": 0, "s": s, "c": "collapsed" if was["expanded"] else "expanded"},
                                   timeout=TIMEOUT_MS)
        except PlaywrightError as error:
            raise Problem(f"stage {s} {step} ({'click on .stage-toggle' if by_click else 'toggleStage'}): "
                          f"its class did not flip: {str(error).splitlines()[0]}") from None
        now = page.evaluate(STAGE_STATE, {"m": 0, "s": s})
        how = "click on .stage-toggle" if by_click else "toggleStage"
        if now["collapsed"] and now["visible"] != 0:
            r.problems.append(f"stage {s} collapsed ({how}) still shows {now['visible']} nodes")
        if now["expanded"] and now["visible"] == 0:
            r.problems.append(f"stage {s} expanded ({how}) shows no node")
    after = page.evaluate(STAGE_STATE, {"m": 0, "s": s})
    if after["expanded"] != before["expanded"]:
        r.problems.append(f"stage {s} did not come back to {'expanded' if before['expanded'] else 'collapsed'}")


def check_search(page, r):
    target = page.evaluate(SEARCH_TARGET, 0)
    if "query" not in target:
        # Every drawn node is selected (folded stages draw none): unfold one more.
        folded = page.evaluate(js('return document.querySelector(\'g.stage[data-m="0"].collapsed\')?.dataset.s ?? null;'), None)
        if folded is not None:
            toggle(page, 0, folded, by_click=page.evaluate("() => typeof window.modelinfoReport.toggleStage !== 'function'"))
            target = page.evaluate(SEARCH_TARGET, 0)
    if "query" not in target:
        raise Problem(f"no node to search for in svg#graph-view-0: of {target['drawn']} drawn, {target['named']} have a "
                      f"name (data-name, <title> or the page's data), and none but the selected one")
    search = page.locator("input#graph-search-0")
    try:
        search.fill(target["query"], timeout=TIMEOUT_MS)
        search.press("Enter", timeout=TIMEOUT_MS)
    except PlaywrightError as error:
        raise Problem(f"cannot type into input#graph-search-0: {str(error).splitlines()[0]}") from None
    found = js("""const res = (""" + SEARCH_RESULT + """)(arg);
        return res.nodes.some(n => n.matches && res.selected && String(res.selected.i) === n.i
                                   && JSON.stringify(res.selected) !== JSON.stringify(arg.before));""")
    try:
        page.wait_for_function(found, arg={"m": 0, "query": target["query"], "before": target["before"]}, timeout=TIMEOUT_MS)
    except PlaywrightError:
        result = page.evaluate(SEARCH_RESULT, {"m": 0, "query": target["query"]})
        raise Problem(f"searching {target['query']!r} (part of node {target['i']}'s name {target['name']!r}) "
                      f"selected no node of that name: selected {result['selected']!r}, "
                      f"nodes with class selected {result['nodes']}") from None
    result = page.evaluate(SEARCH_RESULT, {"m": 0, "query": target["query"]})
    if not any(n["visible"] for n in result["nodes"] if n["matches"]):
        r.problems.append(f"the node found by searching {target['query']!r} is selected but not visible")


# Entities that no name of the hostile model holds (its "&amp;" is text):
# shown on the page, they mean a name was escaped twice.
TWICE_ESCAPED = ["&lt;", "&gt;", "&quot;", "&#34;", "&#39;", "&#x27;", "&amp;amp;"]


def check_hostile(page, r):
    """Markup in names shows as text: run after the clicks and the search, so the text they bring up counts.
    A report may show a name only in part (a stage is named by the name up to
    its first "/") or only on demand, so only the script's text is looked for
    whole; every text must show the names neither escaped twice nor unescaped."""
    script, names = hostile_names()
    escaped = html.escape(script, quote=False)
    if escaped not in page.content():
        r.problems.append(f"the page's markup lacks {escaped!r}: the name was not escaped as text")
    if not page.evaluate(TEXTS_HOLDING, [script])[0]:
        r.problems.append(f"no text on the page shows {script!r}")
    unescaped = sorted({html.unescape(name) for name in names.values()} - set(names.values()))
    looked_for = TWICE_ESCAPED + unescaped
    for text, tags in zip(looked_for, page.evaluate(TEXTS_HOLDING, looked_for), strict=True):
        if tags:
            where = ", ".join(f"<{tag.lower()}>" for tag in sorted(tags))
            how = "escaped twice" if text in TWICE_ESCAPED else "written into the page unescaped (its &amp; shows as &)"
            r.problems.append(f"text in {where} shows {text!r}: a name was {how}")


def read_make_times(folder):
    times = {}
    path = folder / "make-ms.tsv"
    if path.exists():
        for line in path.read_text().splitlines():
            name, ms = line.split("\t")
            times[name] = int(ms)
    return times


def run_step(name, step, r):
    """Run one step; a Problem ends that step only."""
    try:
        step()
    except Problem as problem:
        r.problems.append(f"{name}: {problem}")


def check_page(browser, spec, folder, make_times):
    r = Result(spec)
    path = folder / f"{spec.name}.html"
    if not path.exists():
        r.problems.append(f"{path} is missing")
        return r
    r.size = path.stat().st_size
    r.make_ms = make_times.get(spec.name)
    if spec.limited:
        if r.make_ms is None:
            r.problems.append(f"no make time for {spec.name} in {folder / 'make-ms.tsv'}")
        elif r.make_ms > MAKE_SECONDS * 1000:
            r.problems.append(f"made in {r.make_ms / 1000:.2f} s, more than {MAKE_SECONDS} s")
        if r.size > MAX_BYTES:
            r.problems.append(f"{r.size / 2**20:.2f} MB, more than {MAX_BYTES / 2**20:.0f} MB")

    url = path.resolve().as_uri()
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    forbid_requests(context, url, r.problems)
    page = context.new_page()
    watch(page, r.problems)
    # Checks of the page as loaded, and of the page after the clicks and the
    # search (which may have added text and elements).
    first = [("charts", lambda: check_charts(page, spec, r))]
    last = [("scripts", lambda: check_scripts(page, r))]
    if spec.hostile:
        last.append(("names", lambda: check_hostile(page, r)))
    try:
        page.goto(url, wait_until="load")
        try:
            check_ready(page, r)
        finally:  # the page as it is, ready or not
            page.screenshot(path=folder / f"{spec.name}.png", full_page=True)
        for name, step in first:
            run_step(name, step, r)
        run_step("bar click and stage", lambda: check_stage(page, r, click_biggest_bar(page, spec, r, folder)), r)
        run_step("search", lambda: check_search(page, r), r)
        for name, step in last:
            run_step(name, step, r)
    except Problem as problem:
        r.problems.append(str(problem))
    except PlaywrightError as error:
        r.problems.append(f"browser: {str(error).splitlines()[0]}")
    # Errors reported while the page went on running count too.
    page.wait_for_timeout(100)
    context.close()
    return r


def check_svg_folder(browser, folder, r):
    """The files --svg wrote: XML with an SVG root, a viewBox and text; resolution.svg opens cleanly."""
    for name in SVG_FILES:
        if not (folder / name).exists():
            r.problems.append(f"{folder.name}/{name} is missing")
    for path in sorted(folder.glob("*.svg")):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as error:
            r.problems.append(f"{folder.name}/{path.name} is not XML: {error}")
            continue
        if root.tag != f"{SVG}svg":
            r.problems.append(f"{folder.name}/{path.name}: root is {root.tag}, expected svg in the SVG namespace")
        if not root.get("viewBox"):
            r.problems.append(f"{folder.name}/{path.name}: the svg root has no viewBox")
        if next(root.iter(f"{SVG}text"), None) is None:
            r.problems.append(f"{folder.name}/{path.name}: no <text> (axis labels, legend)")
    resolution = folder / "resolution.svg"
    if resolution.exists():
        problems = []
        url = resolution.resolve().as_uri()
        context = browser.new_context(viewport=VIEWPORT)
        forbid_requests(context, url, problems)
        page = context.new_page()
        watch(page, problems)
        page.goto(url, wait_until="load")
        if page.evaluate("() => document.documentElement.namespaceURI") != SVG[1:-1]:
            problems.append("does not open as an SVG document")
        page.wait_for_timeout(100)
        context.close()
        r.problems += [f"{folder.name}/resolution.svg in the browser: {p}" for p in problems]


def main():
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        sys.exit(__doc__)
    folder = Path(sys.argv[1]) if len(sys.argv) == 2 else ROOT / ".generated" / "reports"
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        sys.exit("check-report: chromium is missing (Debian package chromium); run Tools/bootstrap")
    make_times = read_make_times(folder)
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        for spec in PAGES:
            start = time.monotonic()
            r = check_page(browser, spec, folder, make_times)
            if spec.svg_dir:
                check_svg_folder(browser, folder / spec.svg_dir, r)
            status = "FAIL" if r.problems else "ok"
            shown = "-" if r.interactive_ms is None else f"{r.interactive_ms:.0f} ms"
            print(f"{spec.name}: {status} (interactive after {shown}; checked in {time.monotonic() - start:.1f} s)")
            if spec.limited and r.size is not None:
                made = "?" if r.make_ms is None else f"{r.make_ms / 1000:.2f} s"
                print(f"    made in {made} (limit {MAKE_SECONDS} s), {r.size / 2**20:.2f} MB (limit {MAX_BYTES >> 20} MB)")
            for problem in r.problems:
                print(f"    {problem}")
            results.append(r)
        browser.close()

    print()
    print(f"{'page':22} {'size':>10} {'made in':>9} {'interactive':>12} {'errors':>7}")
    for r in results:
        size = "-" if r.size is None else f"{r.size / 2**20:.2f} MB" if r.size >= 2**20 else f"{r.size / 1024:.0f} kB"
        made = "-" if r.make_ms is None else f"{r.make_ms / 1000:.2f} s"
        ready = "-" if r.interactive_ms is None else f"{r.interactive_ms:.0f} ms"
        print(f"{r.page.name:22} {size:>10} {made:>9} {ready:>12} {len(r.problems):>7}")
    print(f"limits: large page made in <= {MAKE_SECONDS} s and <= {MAX_BYTES >> 20} MB; "
          f"every page interactive in <= {INTERACTIVE_MS} ms (kB and MB of 1024)")
    failed = sum(1 for r in results if r.problems)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
