/// The page's style and script. The script draws the graphs from the
/// positions the report computed (`GraphView`), folds and unfolds stages,
/// pans and zooms, finds nodes by name, and ties the per-layer bars to the
/// graph. It never lays out: unfolding a stage only shifts the stages right
/// of it and below it, as `GraphView.placement(unfolded:)` does.
enum ReportScript {
    static let css = """
    body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
    main{max-width:1400px;margin:0 auto;padding:16px 24px 64px}
    h1{font-size:22px;margin:8px 0 16px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
    h3{font-size:15px;margin:16px 0 4px}
    .hint{color:#666;margin:2px 0 6px;font-size:13px}
    .scroll{overflow-x:auto;background:#fff;border:1px solid #e3e3e3;border-radius:4px}
    table{border-collapse:collapse;background:#fff;margin:8px 0}
    th,td{border:1px solid #e3e3e3;padding:3px 8px;text-align:left;vertical-align:top}
    table.breakdown td:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}
    table.summary td{max-width:520px;overflow-wrap:anywhere}
    rect.bar{cursor:pointer}rect.bar:hover{opacity:.7}
    .graph-tools{display:flex;gap:8px;align-items:center;margin:6px 0}
    .graph-search{width:320px;padding:4px 6px}
    svg.graph{display:block;width:100%;height:72vh;background:#fff;border:1px solid #d8d8d8;border-radius:4px;cursor:grab;touch-action:none}
    svg.graph text{font:11px system-ui,sans-serif;pointer-events:none}
    svg.graph .stage>rect{fill:#e8eef4;stroke:#8a9bb0;rx:6px}
    svg.graph .stage.expanded>rect{fill:#f7f9fb}
    svg.graph .stage-toggle{cursor:pointer}
    svg.graph .stage-toggle rect{fill:transparent}
    svg.graph .stage-title{font-weight:600}
    svg.graph .node rect{stroke:#556;rx:3px}
    svg.graph .node.selected rect{stroke:#1f5fbf;stroke-width:3px}
    svg.graph .node.divergent rect{stroke:#e15759;stroke-width:3px}
    svg.graph path,svg.graph polyline{fill:none;stroke:#9aa}
    .node-details{margin:6px 0;padding:6px 8px;background:#fff;border:1px solid #e3e3e3;border-radius:4px;overflow-wrap:anywhere}
    #tooltip{position:fixed;pointer-events:none;background:#222;color:#fff;padding:4px 8px;border-radius:4px;font-size:12px;max-width:460px;z-index:10;overflow-wrap:anywhere}
    """

    static let javascript = """
    "use strict";
    (function () {
      const NS = "http://www.w3.org/2000/svg";
      const data = JSON.parse(document.getElementById("report-data").textContent);
      const api = window.modelinfoReport = { ready: false, interactiveMs: null, selected: null, reveal: reveal, toggleStage: toggleStage };
      const tooltip = document.getElementById("tooltip");
      const graphs = data.models.map(setUp);

      function element(name, attributes, parent) {
        const e = document.createElementNS(NS, name);
        for (const key in attributes) e.setAttribute(key, attributes[key]);
        if (parent) parent.appendChild(e);
        return e;
      }

      function text(parent, x, y, content, anchor, cls) {
        const t = element("text", { x: x, y: y, "text-anchor": anchor || "start" }, parent);
        if (cls) t.setAttribute("class", cls);
        t.textContent = content;
        return t;
      }

      function setUp(model, m) {
        const g = {
          model: model, m: m, svg: document.getElementById("graph-view-" + m),
          byIndex: new Map(), open: new Set(), selected: null, matches: [], match: -1, view: null
        };
        model.nodes.forEach(function (node, k) { g.byIndex.set(node.i, k); });
        model.stages.forEach(function (stage) { stage.members = []; });
        model.nodes.forEach(function (node, k) { model.stages[node.s].members.push(k); });
        if (model.open) model.stages.forEach(function (_, s) { g.open.add(s); });
        render(g);
        fit(g);
        panAndZoom(g);
        return g;
      }

      // Each stage's box with the stages in g.open unfolded: the mirror of GraphView.placement(unfolded:).
      function placement(g) {
        const stages = g.model.stages;
        let layers = 0;
        stages.forEach(function (s) { layers = Math.max(layers, s.l + 1); });
        const extraHeight = new Array(layers).fill(0), below = new Array(layers + 1).fill(0), extraWidth = new Array(layers).fill(0);
        g.open.forEach(function (s) { extraHeight[stages[s].l] = Math.max(extraHeight[stages[s].l], stages[s].uh - stages[s].h); });
        for (let l = 0; l < layers; l++) below[l + 1] = below[l] + extraHeight[l];
        const boxes = stages.map(function (s) { return { x: s.x, y: s.y, w: s.w, h: s.h }; });
        const order = stages.map(function (_, s) { return s; }).sort(function (a, b) { return stages[a].x - stages[b].x; });
        order.forEach(function (s) {
          const stage = stages[s], l = stage.l;
          boxes[s].x += extraWidth[l];
          boxes[s].y += below[l];
          if (g.open.has(s)) {
            extraWidth[l] += stage.uw - stage.w;
            boxes[s].w = stage.uw;
            boxes[s].h = stage.uh;
          }
        });
        return boxes;
      }

      function render(g) {
        const svg = g.svg, model = g.model;
        while (svg.firstChild) svg.removeChild(svg.firstChild);
        const boxes = placement(g);
        g.boxes = boxes;
        const root = element("g", {}, svg);
        model.edges.forEach(function (e) {
          const a = boxes[e[0]], b = boxes[e[1]];
          const x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y, mid = (y1 + y2) / 2;
          element("path", { d: "M" + x1 + " " + y1 + "C" + x1 + " " + mid + " " + x2 + " " + mid + " " + x2 + " " + y2 }, root);
        });
        model.stages.forEach(function (stage, s) {
          const box = boxes[s], open = g.open.has(s);
          const group = element("g", { "class": "stage " + (open ? "expanded" : "collapsed"), "data-m": g.m, "data-s": s,
                                       transform: "translate(" + box.x + "," + box.y + ")" }, root);
          element("rect", { width: box.w, height: box.h }, group);
          const toggle = element("g", { "class": "stage-toggle", "data-m": g.m, "data-s": s }, group);
          element("rect", { width: box.w, height: 26 }, toggle);
          const limit = Math.max(8, Math.floor((box.w - 40) / 6.6));
          const key = stage.k.length > limit ? stage.k.slice(0, limit - 1) + "\\u2026" : stage.k;
          text(toggle, 8, 17, (open ? "\\u25be " : "\\u25b8 ") + key + " (" + stage.members.length + ")", "start", "stage-title");
          if (!open) return;
          const inner = element("g", { transform: "translate(10,26)" }, group);
          stage.r.forEach(function (points) {
            let p = "";
            for (let k = 0; k < points.length; k += 2) p += points[k] + "," + points[k + 1] + " ";
            element("polyline", { points: p }, inner);
          });
          stage.members.forEach(function (k) {
            const node = model.nodes[k];
            let cls = "node";
            if (node.d) cls += " divergent";
            if (g.selected === node.i) cls += " selected";
            const n = element("g", { "class": cls, "data-m": g.m, "data-i": node.i, transform: "translate(" + node.x + "," + node.y + ")" }, inner);
            element("rect", { width: node.w, height: 34, fill: node.f }, n);
            text(n, node.w / 2, 14, node.op, "middle").setAttribute("font-weight", "600");
            text(n, node.w / 2, 27, node.sh, "middle");
          });
        });
      }

      function setView(g, view) {
        g.view = view;
        g.svg.setAttribute("viewBox", view.x + " " + view.y + " " + view.w + " " + view.h);
      }

      function fit(g) {
        const boxes = g.boxes;
        let w = 200, h = 60;
        boxes.forEach(function (b) { w = Math.max(w, b.x + b.w + 8); h = Math.max(h, b.y + b.h + 8); });
        const screen = g.svg.clientWidth || 1000, aspect = (g.svg.clientHeight || 600) / screen;
        // The whole graph when it fits at a readable scale; otherwise its top at that scale.
        const width = Math.min(Math.max(w, h / aspect, 600), screen / 0.4);
        setView(g, { x: Math.min(0, (w - width) / 2), y: 0, w: width, h: width * aspect });
      }

      function panAndZoom(g) {
        const svg = g.svg;
        let drag = null;
        // No pointer capture: it would retarget the click that follows to the
        // graph itself, and a click on a node or a stage's title would be lost.
        svg.addEventListener("pointerdown", function (event) {
          if (event.target.closest(".stage-toggle")) return;
          drag = { x: event.clientX, y: event.clientY, view: g.view };
        });
        svg.addEventListener("pointermove", function (event) {
          if (!drag) return;
          const scale = g.view.w / svg.clientWidth;
          setView(g, { x: drag.view.x - (event.clientX - drag.x) * scale, y: drag.view.y - (event.clientY - drag.y) * scale, w: g.view.w, h: g.view.h });
        });
        svg.addEventListener("pointerup", function () { drag = null; });
        svg.addEventListener("pointerleave", function () { drag = null; });
        svg.addEventListener("wheel", function (event) {
          event.preventDefault();
          const r = svg.getBoundingClientRect(), v = g.view;
          const factor = Math.exp(Math.max(-1, Math.min(1, event.deltaY * 0.0015)));
          const px = v.x + (event.clientX - r.left) / r.width * v.w, py = v.y + (event.clientY - r.top) / r.height * v.h;
          setView(g, { x: px - (px - v.x) * factor, y: py - (py - v.y) * factor, w: v.w * factor, h: v.h * factor });
        }, { passive: false });
      }

      function toggleStage(m, s) {
        const g = graphs[m];
        if (!g || !g.model.stages[s]) return false;
        if (g.open.has(s)) g.open.delete(s); else g.open.add(s);
        render(g);
        return g.open.has(s);
      }

      // Unfolds the node's stage, selects the node, scrolls the graph into view and pans to it.
      function reveal(m, i) {
        const g = graphs[m];
        if (!g || !g.byIndex.has(i)) return false;
        const node = g.model.nodes[g.byIndex.get(i)];
        g.open.add(node.s);
        g.selected = i;
        render(g);
        const box = g.boxes[node.s];
        const cx = box.x + 10 + node.x + node.w / 2, cy = box.y + 26 + node.y + 17;
        const w = Math.min(g.view.w, 1200), h = w * (g.svg.clientHeight || 600) / (g.svg.clientWidth || 1000);
        setView(g, { x: cx - w / 2, y: cy - h / 2, w: w, h: h });
        g.svg.scrollIntoView({ block: "center" });
        api.selected = { m: m, i: i };
        details(g, node);
        return true;
      }

      function details(g, node) {
        const panel = document.getElementById("node-details-" + g.m);
        let line = node.n + " \\u2014 " + node.op + ", output " + (node.sh || "?") + ", " + node.mac + " MACs, " + node.p + " parameters";
        if (node.t !== undefined) line += ", " + node.t + " ms";
        panel.textContent = line;
      }

      function search(g, query, next) {
        const result = document.getElementById("search-result-" + g.m);
        const q = query.trim().toLowerCase();
        if (!q) { result.textContent = ""; g.matches = []; return; }
        if (!next || !g.matches.length || g.query !== q) {
          g.query = q;
          g.matches = g.model.nodes.filter(function (n) { return n.n.toLowerCase().includes(q); }).map(function (n) { return n.i; });
          g.match = -1;
        }
        if (!g.matches.length) { result.textContent = "no node"; return; }
        g.match = (g.match + 1) % g.matches.length;
        reveal(g.m, g.matches[g.match]);
        result.textContent = (g.match + 1) + " of " + g.matches.length;
      }

      document.addEventListener("click", function (event) {
        const target = event.target;
        const bar = target.closest && target.closest("rect.bar");
        if (bar) { reveal(Number(bar.dataset.m), Number(bar.dataset.i)); return; }
        const toggle = target.closest && target.closest(".stage-toggle");
        if (toggle) { toggleStage(Number(toggle.dataset.m), Number(toggle.dataset.s)); return; }
        const node = target.closest && target.closest("g.node");
        if (node) {
          const g = graphs[Number(node.dataset.m)];
          g.selected = Number(node.dataset.i);
          api.selected = { m: g.m, i: g.selected };
          render(g);
          details(g, g.model.nodes[g.byIndex.get(g.selected)]);
          return;
        }
        const action = target.dataset && target.dataset.action;
        if (action) {
          const g = graphs[Number(target.dataset.m)];
          if (action === "unfold") g.model.stages.forEach(function (_, s) { g.open.add(s); });
          if (action === "fold") g.open.clear();
          render(g);
          fit(g);
        }
      });

      document.querySelectorAll(".graph-search").forEach(function (input) {
        input.addEventListener("keydown", function (event) {
          if (event.key === "Enter") { event.preventDefault(); search(graphs[Number(input.dataset.m)], input.value, true); }
        });
      });

      document.addEventListener("mouseover", function (event) {
        const bar = event.target.closest && event.target.closest("rect.bar");
        if (!bar) { tooltip.hidden = true; return; }
        const g = graphs[Number(bar.dataset.m)];
        const k = g.byIndex.get(Number(bar.dataset.i));
        if (k === undefined) { tooltip.hidden = true; return; }
        const node = g.model.nodes[k];
        tooltip.textContent = node.n + " (" + node.op + ") " + (node.sh || "") + ": " + node.mac + " MACs, " + node.p + " parameters"
          + (node.t !== undefined ? ", " + node.t + " ms" : "");
        tooltip.hidden = false;
      });
      document.addEventListener("mousemove", function (event) {
        if (tooltip.hidden) return;
        tooltip.style.left = Math.min(event.clientX + 14, window.innerWidth - 480) + "px";
        tooltip.style.top = (event.clientY + 14) + "px";
      });

      api.ready = true;
      api.interactiveMs = performance.now();
    })();
    """
}
