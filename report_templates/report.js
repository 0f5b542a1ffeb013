/* ovs-analyzer report: the timeline (zoom, pan, brush) and the findings filters.
 * The wheel scrolls the page unless the chart has focus (click or Tab to it; Esc or a click elsewhere leaves)
 * or Ctrl/Meta is held; Shift+wheel pans. Zoom buttons zoom around the selection, else the finding in focus
 * (Start here at first), else the densest findings in view. Everything drawn in the plot is clipped to it.
 * Inlined into report.html by analyzer/outputs/report.py and allowed to run by its hash in the page's CSP.
 * Every text that comes from the bundle is set with textContent, never parsed as markup. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var BANDS = [["o", "#94a3b8", "other"], ["w", "#f59e0b", "warning"], ["e", "#dc2626", "error+"]];
  var SEV = {critical: "#7f1d1d", high: "#dc2626", medium: "#d97706", low: "#2563eb", info: "#6b7280"};
  var STATE_COLORS = [[/fail|dead|crash|error|kill|halt/i, "#dc2626"], [/silent|deactivat/i, "#94a3b8"],
                      [/restart|respawn/i, "#8b5cf6"], [/stop|inactive|exit/i, "#f59e0b"],
                      [/run|active|start|up|ok/i, "#16a34a"]];
  var LABEL = 200, RIGHT = 14, DENS = 84, AXIS = 24, ROW = 16, GROUP = 22;
  var TICKS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
  var state = {view: [data.t0, data.t1], brush: null, sevs: new Set(Object.keys(SEV)), comp: "", text: "",
               focus: null, highlight: null};
  var box = document.getElementById("tl");
  var articles = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  var svg = null, geometry = null, drag = null;
  var byIndex = {};
  data.findings.forEach(function (f) { byIndex[f.i] = f; });
  (function () {  // the first finding in focus: the one to start with
    var link = document.querySelector("#start-here .sh-cause a[href^='#f']");
    var f = link && byIndex[parseInt(link.getAttribute("href").slice(2), 10)];
    if (f && f.t1 !== null) state.focus = f.t1;
  })();

  function node(name, attrs, parent, text) {
    var n = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) n.textContent = text;
    if (parent) parent.appendChild(n);
    return n;
  }
  function tip(parent, text) { node("title", {}, parent, text); }
  function stamp(t, seconds) {
    var iso = new Date(t * 1000).toISOString();
    return iso.slice(0, seconds ? 19 : 16).replace("T", " ");
  }
  function overlaps(t1, t2, range) {
    if (!range || isNaN(t1)) return true;
    return t1 <= range[1] && (isNaN(t2) ? t1 : t2) >= range[0];
  }
  function stateColor(word) {
    for (var i = 0; i < STATE_COLORS.length; i++) if (STATE_COLORS[i][0].test(word)) return STATE_COLORS[i][1];
    return "#64748b";
  }

  /* Sum the sparse per-bucket counts of one lane into display bins of the current view. */
  function binLane(lane, v0, bin, nbins) {
    var out = {e: new Float64Array(nbins), w: new Float64Array(nbins), o: new Float64Array(nbins)};
    for (var j = 0; j < lane.i.length; j++) {
      var t = data.t0 + lane.i[j] * data.bucket;
      if (t + data.bucket <= v0) continue;
      var k = Math.floor((t - v0) / bin);
      if (k >= nbins) break;
      if (k < 0) k = 0;
      out.e[k] += lane.e[j]; out.w[k] += lane.w[j]; out.o[k] += lane.o[j];
    }
    return out;
  }

  function render() {
    if (data.t0 === null) {
      box.textContent = "No timestamped events in this bundle.";
      box.className += " empty";
      return;
    }
    var width = Math.max(box.clientWidth, 600), plot = width - LABEL - RIGHT;
    var v0 = state.view[0], v1 = state.view[1];
    var x = function (t) { return LABEL + (t - v0) / (v1 - v0) * plot; };
    var bin = data.bucket * Math.max(1, Math.ceil((v1 - v0) / data.bucket / (plot / 4)));
    var start = data.t0 + Math.floor((v0 - data.t0) / bin) * bin;
    var nbins = Math.ceil((v1 - start) / bin);
    var binned = data.lanes.map(function (lane) { return binLane(lane, start, bin, nbins); });
    var total = {e: new Float64Array(nbins), w: new Float64Array(nbins), o: new Float64Array(nbins)};
    binned.forEach(function (b) { for (var k = 0; k < nbins; k++) { total.e[k] += b.e[k]; total.w[k] += b.w[k]; total.o[k] += b.o[k]; } });
    var peak = 1;
    for (var k = 0; k < nbins; k++) peak = Math.max(peak, total.e[k] + total.w[k] + total.o[k]);

    var fresh = node("svg", {id: "tl-svg", role: "img", "aria-label": "Timeline of events and findings"});
    var clip = node("rect", {x: LABEL, y: 0, width: plot, height: 0},
                    node("clipPath", {id: "tl-clip"}, node("defs", {}, fresh)));
    var grid = node("g", {"class": "gridlines", "clip-path": "url(#tl-clip)"}, fresh);
    var area = node("g", {"class": "plot", "clip-path": "url(#tl-clip)"}, fresh);  // nothing drawn outside the plot
    var y = 8, barW = Math.max(1, x(start + bin) - x(start) - 0.6);
    node("text", {x: 8, y: y + 12}, fresh, "All events");
    node("text", {x: 8, y: y + 27, "class": "muted", fill: "#6b7280"}, fresh, "peak " + peak.toLocaleString("en") + " / " + Math.round(bin / 60) + " min");
    for (k = 0; k < nbins; k++) {
      var sum = total.e[k] + total.w[k] + total.o[k];
      if (!sum) continue;
      var t = start + k * bin, g = node("g", {}, area), base = y + DENS;
      BANDS.forEach(function (band) {
        var h = total[band[0]][k] / peak * DENS;
        if (h <= 0) return;
        base -= h;
        node("rect", {x: x(t).toFixed(1), y: base.toFixed(1), width: barW.toFixed(1), height: h.toFixed(1), fill: band[1]}, g);
      });
      tip(g, stamp(t) + " UTC, " + Math.round(bin / 60) + " min: " + total.e[k] + " error+, " + total.w[k] + " warning, " + total.o[k] + " other");
    }
    y += DENS + 4;
    var axis = node("g", {"class": "axis"}, fresh);
    node("line", {x1: LABEL, x2: width - RIGHT, y1: y, y2: y, stroke: "#9ca3af"}, axis);
    var step = TICKS.filter(function (s) { return s / (v1 - v0) * plot >= 110; })[0] || TICKS[TICKS.length - 1];
    var ticks = [], lastDay = "";
    for (t = Math.ceil(v0 / step) * step; t <= v1; t += step) ticks.push(t);
    ticks.forEach(function (t) {
      var label = stamp(t), day = label.slice(0, 10);
      node("line", {x1: x(t), x2: x(t), y1: y, y2: y + 4, stroke: "#9ca3af"}, axis);
      var text = day !== lastDay ? label : label.slice(11);
      if (x(t) + 7 * text.length < width) node("text", {x: x(t) + 3, y: y + 15}, axis, text);
      lastDay = day;
    });
    y += AXIS;

    function group(label) {
      node("text", {x: 8, y: y + 15}, node("g", {"class": "group"}, fresh), label);
      y += GROUP;
    }
    function lane(label, tooltip, highlight) {
      if (highlight !== undefined) {
        node("rect", {x: 2, y: y, width: width - 4, height: ROW, rx: 3, "class": "hl-row", "data-finding": highlight}, fresh);
      }
      node("rect", {x: LABEL, y: y + 1, width: plot, height: ROW - 2, "class": "lane-bg"}, fresh);
      var text = node("text", {x: LABEL - 8, y: y + 12, "text-anchor": "end",
                               "class": "lane-label" + (highlight !== undefined ? " hl" : "")}, fresh,
                      label.length > 26 ? label.slice(0, 25) + "…" : label);
      tip(text, tooltip || label);
      var row = y;
      y += ROW;
      return row;
    }

    if (data.lanes.length) {
      group("Events per node × producer");
      var lanePeak = 1;
      binned.forEach(function (b) { for (var k = 0; k < nbins; k++) lanePeak = Math.max(lanePeak, b.e[k] + b.w[k] + b.o[k]); });
      data.lanes.forEach(function (info, index) {
        var b = binned[index], row = lane(info.host + " · " + info.producer,
          info.host + " · " + info.producer + ": " + info.total.toLocaleString("en") + " lines");
        for (var k = 0; k < nbins; k++) {
          var n = b.e[k] + b.w[k] + b.o[k];
          if (!n) continue;
          var t = start + k * bin, color = b.e[k] ? BANDS[2][1] : b.w[k] ? BANDS[1][1] : BANDS[0][1];
          var cell = node("rect", {x: x(t).toFixed(1), y: row + 2, width: barW.toFixed(1), height: ROW - 4, fill: color,
                                   "fill-opacity": (0.25 + 0.75 * Math.log(1 + n) / Math.log(1 + lanePeak)).toFixed(2)}, area);
          tip(cell, info.host + " · " + info.producer + " " + stamp(t) + " UTC: " + b.e[k] + " error+, " + b.w[k] + " warning, " + b.o[k] + " other");
        }
      });
    }
    var lastSection = null;
    data.section_lanes.forEach(function (info) {
      if (info.section !== lastSection) { group(info.section.replace(/_/g, " ")); lastSection = info.section; }
      var row = lane(info.lane);
      info.spans.forEach(function (span) {
        if (span.t2 < v0 || span.t1 > v1) return;
        var x1 = Math.max(x(span.t1), LABEL), x2 = Math.min(Math.max(x(span.t2), x1 + 3), width - RIGHT);
        var r = node("rect", {x: x1.toFixed(1), y: row + 3, width: (x2 - x1).toFixed(1), height: ROW - 6, rx: 2,
                              fill: stateColor(span.state)}, area);
        tip(r, info.lane + ": " + span.state + " " + stamp(span.t1, true) + " → " + stamp(span.t2, true) + " UTC" + (span.title ? "\n" + span.title : ""));
      });
    });
    if (data.findings.length) {
      group("Findings");
      data.findings.forEach(function (f) {
        var row = lane(f.rule, f.rule + ": " + f.title, state.highlight === f.i ? f.i : undefined);
        var link = node("a", {href: "#f" + f.i, "data-finding": f.i}, area);
        if (articles[f.i] && articles[f.i].hidden) link.setAttribute("class", "faded");
        tip(link, f.title + " (" + f.sev + ")" + (f.t1 !== null ? "\n" + stamp(f.t1, true) + " → " + stamp(f.t2, true) + " UTC" : ""));
        if (f.t1 === null) return;
        var x1 = Math.min(Math.max(x(f.t1), LABEL), width - RIGHT - 6), x2 = Math.min(Math.max(x(f.t2), x1 + 6), width - RIGHT);
        if (f.t2 >= v0 && f.t1 <= v1) {
          node("rect", {"class": "mark", x: x1.toFixed(1), y: row + 4, width: (x2 - x1).toFixed(1), height: ROW - 8, rx: 4,
                        fill: SEV[f.sev], "fill-opacity": 0.35}, link);
        }
        f.ev.forEach(function (t) {
          if (t < v0 || t > v1) return;
          node("rect", {"class": "mark", x: (x(t) - 1.5).toFixed(1), y: row + 1, width: 3, height: ROW - 2, fill: SEV[f.sev]}, link);
        });
      });
    }
    ticks.forEach(function (t) { node("line", {x1: x(t), x2: x(t), y1: 8, y2: y, "class": "grid"}, grid); });
    var height = y + 8;
    clip.setAttribute("height", height);
    fresh.appendChild(area);  // over the lanes' backgrounds, so the marks take the clicks
    if (state.brush && state.brush[1] >= v0 && state.brush[0] <= v1) {
      var b1 = Math.max(x(state.brush[0]), LABEL), b2 = Math.min(x(state.brush[1]), width - RIGHT);
      node("rect", {"class": "brush", x: b1, y: 4, width: Math.max(b2 - b1, 1), height: height - 8}, area);
    }
    fresh.setAttribute("viewBox", "0 0 " + width + " " + height);
    fresh.setAttribute("height", height);
    if (svg) box.replaceChild(fresh, svg); else box.appendChild(fresh);
    svg = fresh;
    geometry = {v0: v0, v1: v1, plot: plot, width: width};
    document.getElementById("tl-range").textContent = stamp(v0) + " → " + stamp(v1) + " UTC";
    document.getElementById("zoom-brush").disabled = !state.brush;
    document.getElementById("clear-brush").disabled = !state.brush;
  }

  function timeAt(clientX) {
    var rect = svg.getBoundingClientRect(), scale = geometry.width / rect.width;
    var px = (clientX - rect.left) * scale - LABEL;
    return geometry.v0 + Math.min(Math.max(px / geometry.plot, 0), 1) * (geometry.v1 - geometry.v0);
  }
  function setView(v0, v1) {
    var full = data.t1 - data.t0, span = Math.min(Math.max(v1 - v0, Math.max(data.bucket * 3, 60)), full);
    v0 = Math.min(Math.max(v0, data.t0), data.t1 - span);
    state.view = [v0, v0 + span];
    render();
  }
  function zoom(factor, center) {  // the time under `center` stays where it is on screen
    var v0 = state.view[0], v1 = state.view[1];
    setView(center - (center - v0) * factor, center + (v1 - center) * factor);
  }
  /* Where the buttons and keys zoom: the brushed selection, else the finding in focus (Start here, or the last
   * one shown on the timeline) when in view, else the densest findings in view; the middle only when none is. */
  function anchor() {
    var v0 = state.view[0], v1 = state.view[1];
    if (state.brush) return (state.brush[0] + state.brush[1]) / 2;
    if (state.focus !== null && state.focus >= v0 && state.focus <= v1) return state.focus;
    var times = [];
    data.findings.forEach(function (f) {
      if (articles[f.i] && articles[f.i].hidden) return;
      (f.ev.length ? f.ev : f.t1 !== null ? [f.t1] : []).forEach(function (t) { if (t >= v0 && t <= v1) times.push(t); });
    });
    if (!times.length) return (v0 + v1) / 2;
    times.sort(function (a, b) { return a - b; });
    var reach = (v1 - v0) / 8, best = times[0], most = 0;
    for (var i = 0, j = 0; i < times.length; i++) {
      while (times[i] - times[j] > reach) j++;
      if (i - j + 1 > most) { most = i - j + 1; best = (times[i] + times[j]) / 2; }
    }
    return best;
  }
  function zoomCentred(factor) {
    var c = anchor(), span = (state.view[1] - state.view[0]) * factor;
    setView(c - span / 2, c + span / 2);
  }
  function showOnTimeline(index) {
    var f = byIndex[index];
    if (!f || f.t1 === null) return;
    var pad = Math.max((f.t2 - f.t1) / 2, 600);
    state.focus = (f.t1 + f.t2) / 2;
    state.highlight = index;
    setView(f.t1 - pad, f.t2 + pad);
    document.getElementById("timeline").scrollIntoView({block: "start"});
  }
  function pan(fraction) {
    var span = state.view[1] - state.view[0];
    setView(state.view[0] + span * fraction, state.view[1] + span * fraction);
  }

  /* Filters: severity, component, text and the brushed time range decide what the tables show. */
  function applyFilters() {
    var shown = 0, brush = state.brush;
    articles.forEach(function (a) {
      var ok = state.sevs.has(a.dataset.sev) && (!state.comp || a.dataset.comp === state.comp) &&
        (!state.text || a.textContent.toLowerCase().indexOf(state.text) >= 0) &&
        overlaps(parseFloat(a.dataset.t1), parseFloat(a.dataset.t2), brush);
      a.hidden = !ok;
      if (ok) shown++;
    });
    document.querySelectorAll(".ev[data-ts]").forEach(function (e) {
      var t = parseFloat(e.dataset.ts);
      e.classList.toggle("out-of-range", !!brush && !isNaN(t) && !overlaps(t, t, brush));
    });
    document.querySelectorAll("main tr[data-t1]").forEach(function (row) {
      row.hidden = !overlaps(parseFloat(row.dataset.t1), parseFloat(row.dataset.t2), brush);
    });
    var counter = document.getElementById("f-shown");
    if (counter) counter.textContent = shown + " of " + articles.length + " shown";
    var none = document.getElementById("f-none");
    if (none) none.hidden = shown > 0 || !articles.length;
    markChips();
    capTables();
    document.getElementById("filter-state").textContent = brush ? "Time filter: " + stamp(brush[0]) + " → " + stamp(brush[1]) + " UTC" : "";
    if (svg) render();
  }
  function setSeverities(list) {
    state.sevs = new Set(list);
    document.querySelectorAll("#finding-filters input[name=sev]").forEach(function (box) { box.checked = state.sevs.has(box.value); });
    applyFilters();
  }
  function markChips() {  // a chip is pressed when its severity is the only one shown
    document.querySelectorAll("#sev-chips [data-sev]").forEach(function (chip) {
      var only = state.sevs.size === 1 && state.sevs.has(chip.getAttribute("data-sev"));
      chip.setAttribute("aria-pressed", only ? "true" : "false");
    });
  }
  function openFinding(index) {
    var article = articles[index];
    if (!article) return;
    if (article.hidden) {
      state.comp = ""; state.text = ""; state.brush = null;
      document.getElementById("f-component").value = "";
      document.getElementById("f-text").value = "";
      setSeverities(Object.keys(SEV));
    }
    if (engaged()) box.blur();  // the page moves to the finding: the wheel scrolls it again
    var details = article.querySelector("details");
    if (details) details.open = true;
    article.classList.add("flash");
    setTimeout(function () { article.classList.remove("flash"); }, 1600);
  }

  function engaged() { return box.contains(document.activeElement); }
  box.addEventListener("wheel", function (event) {
    if (!svg || data.t0 === null) return;
    var modifier = event.ctrlKey || event.metaKey || event.shiftKey;
    if (!modifier && !engaged()) return;  // the page scrolls
    event.preventDefault();
    if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
      pan((event.deltaX || event.deltaY) > 0 ? 0.15 : -0.15);
    } else {
      var center = timeAt(event.clientX);
      if (state.brush && state.brush[1] >= state.view[0] && state.brush[0] <= state.view[1]) {
        center = Math.min(Math.max((state.brush[0] + state.brush[1]) / 2, state.view[0]), state.view[1]);
      }
      zoom(event.deltaY > 0 ? 1.25 : 0.8, center);
    }
  }, {passive: false});
  box.addEventListener("keydown", function (event) {
    if (!svg || data.t0 === null || event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key;
    if (key === "Escape") box.blur();
    else if (key === "+" || key === "=") zoomCentred(0.5);
    else if (key === "-" || key === "_") zoomCentred(2);
    else if (key === "ArrowLeft") pan(-0.25);
    else if (key === "ArrowRight") pan(0.25);
    else if (key === "0") setView(data.t0, data.t1);
    else return;
    event.preventDefault();
  });
  box.addEventListener("mousedown", function (event) {
    if (!svg || event.button !== 0 || event.target.closest("a")) return;  // a finding's link leads away
    if (!engaged()) box.focus({preventScroll: true});
    var t = timeAt(event.clientX);
    drag = {from: t, x: event.clientX};
    event.preventDefault();
  });
  window.addEventListener("mousemove", function (event) {
    if (!drag || Math.abs(event.clientX - drag.x) < 4) return;
    var t = timeAt(event.clientX);
    state.brush = [Math.min(drag.from, t), Math.max(drag.from, t)];
    render();
  });
  window.addEventListener("mouseup", function () {
    if (!drag) return;
    drag = null;
    applyFilters();
  });
  box.addEventListener("dblclick", function () { setView(data.t0, data.t1); });
  box.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-finding]");
    if (link) openFinding(parseInt(link.getAttribute("data-finding"), 10));
  });
  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var what = button.getAttribute("data-zoom");
      if (what === "in") zoomCentred(0.5);
      else if (what === "out") zoomCentred(2);
      else if (what === "reset") setView(data.t0, data.t1);
      else if (what === "brush" && state.brush) setView(state.brush[0], state.brush[1]);
    });
  });
  document.querySelectorAll("[data-pan]").forEach(function (button) {
    button.addEventListener("click", function () { pan(0.5 * parseFloat(button.getAttribute("data-pan"))); });
  });
  articles.forEach(function (article) {  // a click on the folded description or advice unfolds the finding
    var details = article.querySelector("details.ev-list");
    article.querySelectorAll(".desc, .fix").forEach(function (part) {
      part.addEventListener("click", function () {
        if (details && !details.open && !String(window.getSelection())) details.open = true;
      });
    });
  });
  document.querySelectorAll("article.finding [data-show]").forEach(function (button) {
    button.addEventListener("click", function () { showOnTimeline(parseInt(button.getAttribute("data-show"), 10)); });
  });
  document.getElementById("clear-brush").addEventListener("click", function () { state.brush = null; applyFilters(); });
  document.querySelectorAll("#finding-filters input[name=sev]").forEach(function (box) {
    box.addEventListener("change", function () {
      if (box.checked) state.sevs.add(box.value); else state.sevs.delete(box.value);
      applyFilters();
    });
  });
  document.querySelectorAll("#sev-chips [data-sev]").forEach(function (chip) {
    chip.addEventListener("click", function () {  // a toggle: only this severity, and again: all of them
      var sev = chip.getAttribute("data-sev");
      setSeverities(state.sevs.size === 1 && state.sevs.has(sev) ? Object.keys(SEV) : [sev]);
      document.getElementById("findings").scrollIntoView();
    });
  });
  var order = document.getElementById("f-order");
  if (order) order.addEventListener("change", function () {
    // chain by chain (each cause, then what it brought, in time) or back to severity order
    var key = order.value === "chain" ? "data-chain-order" : "data-severity-order";
    var list = document.getElementById("findings");
    var cards = Array.prototype.slice.call(list.querySelectorAll("article.finding"));
    cards.sort(function (a, b) { return parseInt(a.getAttribute(key), 10) - parseInt(b.getAttribute(key), 10); });
    var end = document.getElementById("f-none");
    cards.forEach(function (card) { list.insertBefore(card, end); });
    document.getElementById("f-order-note").textContent = order.value === "chain"
      ? "chain by chain: each root cause, then what it brought, in time order" : "sorted by severity, then first seen";
  });
  var component = document.getElementById("f-component");
  if (component) component.addEventListener("change", function () { state.comp = component.value; applyFilters(); });
  var text = document.getElementById("f-text");
  if (text) text.addEventListener("input", function () { state.text = text.value.trim().toLowerCase(); applyFilters(); });
  window.addEventListener("hashchange", function () {
    var match = /^#f(\d+)$/.exec(location.hash);
    if (match) openFinding(parseInt(match[1], 10));
  });
  var resizing = null;
  window.addEventListener("resize", function () { clearTimeout(resizing); resizing = setTimeout(render, 100); });

  /* Evidence headers say UTC; when a line's own stamp is the node's local time, say its offset too. The offset is
   * read off the line: its first clock time minus the record's UTC time, when that is a whole quarter hour. */
  document.querySelectorAll(".local[data-ts]").forEach(function (label) {
    var ts = parseFloat(label.getAttribute("data-ts")), holder = label.closest(".ev, .ev-peek");
    var line = holder && holder.querySelector(".hit, .ev-peek-line");
    var clock = line && /(?:^|[^\d:])(\d{1,2}):(\d{2}):(\d{2})(?![\d:])/.exec(line.textContent.split("\n")[0]);
    if (isNaN(ts) || !clock) return;
    var utc = Math.floor(ts) % 86400, local = clock[1] * 3600 + clock[2] * 60 + clock[3] * 1;
    var diff = ((local - utc) % 86400 + 86400) % 86400;
    if (diff > 14 * 3600) diff -= 86400;
    if (diff === 0 || diff % 900 !== 0) return;
    var minutes = Math.abs(diff) / 60, pad = function (n) { return (n < 10 ? "0" : "") + n; };
    label.textContent = " · local " + (diff < 0 ? "-" : "+") + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
    label.title = "the line's own stamp is the node's local time, UTC" + label.textContent.slice(9);
  });
  /* A long table shows its first rows (those the time filter keeps) and a button to show them all. */
  var CAP = 10;
  function capTables() {
    document.querySelectorAll("main table.capped").forEach(function (table) {
      var kept = 0, all = table.classList.contains("all");
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        if (!row.hidden) kept++;
        row.classList.toggle("over", !all && !row.hidden && kept > CAP);
      });
      var more = table.nextElementSibling;
      more.hidden = kept <= CAP;
      more.textContent = all ? "Show the first " + CAP + " rows" : "Show all " + kept.toLocaleString("en") + " rows";
      more.setAttribute("aria-expanded", all ? "true" : "false");
    });
  }
  document.querySelectorAll("main table").forEach(function (table) {
    if (!table.tBodies.length || table.tBodies[0].rows.length <= CAP + 2) return;
    var more = document.createElement("button");
    more.type = "button";
    more.className = "more-rows";
    table.classList.add("capped");
    table.parentNode.insertBefore(more, table.nextSibling);
    more.addEventListener("click", function () { table.classList.toggle("all"); capTables(); });
    table.addEventListener("click", function (event) { if (event.target.closest("th")) capTables(); });  // after a sort
  });
  capTables();
  /* Every table with a header sorts on a click (table.js, inlined after this script, does the sorting); numbers
   * written for people (1,234 · 12 % · 0.25 s) sort as numbers. */
  document.querySelectorAll("main table").forEach(function (table) {
    if (!table.tHead) return;
    table.classList.add("sortable");
    table.querySelectorAll("tbody td:not([data-sort])").forEach(function (cell) {
      var m = /^([+-]?[\d,]*\.?\d+)\s*(?:%|s|ms|min)?$/.exec(cell.textContent.trim());
      if (m) cell.setAttribute("data-sort", m[1].replace(/,/g, ""));
    });
  });

  render();
  var initial = /^#f(\d+)$/.exec(location.hash);
  if (initial) openFinding(parseInt(initial[1], 10));
})();
