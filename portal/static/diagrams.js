// Diagrams: draw the chosen chart (Chart.js, vendored) and a timeline that moves its range.
(function () {
  "use strict";
  var canvas = document.getElementById("chart");
  if (!canvas || typeof Chart === "undefined") return;
  var COLOURS = ["#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#9333ea", "#0891b2"];
  var DAY = 86400000;
  var state = { chart: canvas.dataset.chart, from: canvas.dataset.from, to: canvas.dataset.to };
  var drawn = null;
  var fromInput = document.getElementById("from"), toInput = document.getElementById("to");

  function toDay(ms) { return new Date(ms).toISOString().slice(0, 10); }
  function parseDay(s) { return Date.parse(s + "T00:00:00Z"); }

  // Addresses are built with URL/URLSearchParams, never by gluing strings: the data
  // address may already carry a query (?node=site:3).
  function address(base, params) {
    var url = new URL(base, window.location.href);
    Object.keys(params).forEach(function (k) { if (params[k]) url.searchParams.set(k, params[k]); });
    return url.toString();
  }
  function query() {
    return { chart: state.chart, from: state.from, to: state.to, node: canvas.dataset.node };
  }

  function render(data) {
    if (drawn) drawn.destroy();
    var horizontal = !!data.horizontal;
    var datasets = data.datasets.map(function (d, i) {
      var c = COLOURS[i % COLOURS.length];
      var set = { label: d.label, data: d.data, backgroundColor: data.type === "doughnut" ? COLOURS : c,
                  borderColor: data.type === "doughnut" ? "#fff" : c, spanGaps: true, pointRadius: 1.5 };
      if (d.type) set.type = d.type;
      if (d.axis && data.type !== "doughnut" && !horizontal) set.yAxisID = d.axis;
      return set;
    });
    var scales = {};
    if (data.type !== "doughnut") {
      scales = horizontal ? { x: { beginAtZero: true } } : { y: { beginAtZero: true, position: "left" } };
      if (data.datasets.some(function (d) { return d.axis === "y1"; })) {
        scales.y1 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } };
      }
    }
    drawn = new Chart(canvas, {
      type: data.type,
      data: { labels: data.labels, datasets: datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false, indexAxis: horizontal ? "y" : "x",
                 interaction: { mode: "index", intersect: false }, scales: scales,
                 plugins: { legend: { display: datasets.length > 1 || data.type === "doughnut" } } }
    });
    canvas.dataset.ready = state.from + "/" + state.to;
    var range = document.querySelector('[data-testid="chart-range"]');
    if (range) range.textContent = state.from + " – " + toDay(parseDay(state.to) - DAY);
  }

  function load() {
    canvas.dataset.ready = "";
    fetch(address(canvas.dataset.url, query()), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (!data.error) render(data); });
  }

  function setRange(fromMs, toMs, push) {
    state.from = toDay(fromMs); state.to = toDay(Math.max(toMs, fromMs + DAY));
    fromInput.value = state.from; toInput.value = state.to;
    var url = new URL(window.location.href);
    url.searchParams.set("from", state.from); url.searchParams.set("to", state.to);
    history.replaceState(null, "", url.toString());
    document.querySelectorAll(".chart-menu a").forEach(function (a) {
      var u = new URL(a.href); u.searchParams.set("from", state.from); u.searchParams.set("to", state.to); a.href = u.toString();
    });
    if (push) load();
    placeWindow();
  }

  // --- the timeline: sessions per day over the whole span, a draggable window on top --------
  var tl = document.getElementById("timeline");
  var win = tl.querySelector(".window");
  var tlCanvas = tl.querySelector("canvas");
  var span = null;  // {first, last} in ms

  function xOf(ms) { return (ms - span.first) / (span.last - span.first) * tl.clientWidth; }
  function msOf(x) { return span.first + x / tl.clientWidth * (span.last - span.first); }
  function snap(ms) { return Math.round(ms / DAY) * DAY; }

  function placeWindow() {
    if (!span) return;
    var a = Math.max(0, xOf(parseDay(state.from))), b = Math.min(tl.clientWidth, xOf(parseDay(state.to)));
    win.style.left = a + "px"; win.style.width = Math.max(6, b - a) + "px"; win.hidden = false;
  }

  function drawOverview(days) {
    var ratio = window.devicePixelRatio || 1;
    tlCanvas.width = tl.clientWidth * ratio; tlCanvas.height = tl.clientHeight * ratio;
    var g = tlCanvas.getContext("2d"); g.scale(ratio, ratio);
    var max = days.reduce(function (m, d) { return Math.max(m, d[1]); }, 1);
    var w = Math.max(1, tl.clientWidth / ((span.last - span.first) / DAY));
    g.fillStyle = "#94a3b8";
    days.forEach(function (d) {
      var h = (tl.clientHeight - 6) * d[1] / max;
      g.fillRect(xOf(parseDay(d[0])), tl.clientHeight - h, Math.max(1, w - 0.5), h);
    });
  }

  fetch(address(tl.dataset.url, { node: canvas.dataset.node }),
        { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      if (!data.first) { tl.hidden = true; return; }
      span = { first: Math.min(parseDay(data.first), parseDay(state.from)), last: Math.max(parseDay(data.last), parseDay(state.to)) };
      document.querySelector("[data-first]").textContent = toDay(span.first);
      document.querySelector("[data-last]").textContent = toDay(span.last);
      drawOverview(data.days); placeWindow();
      tl.dataset.ready = "1";
    });

  var drag = null;
  win.addEventListener("pointerdown", function (e) {
    if (!span) return;
    var mode = e.target.classList.contains("left") ? "left" : e.target.classList.contains("right") ? "right" : "move";
    drag = { mode: mode, x: e.clientX, from: parseDay(state.from), to: parseDay(state.to) };
    win.setPointerCapture(e.pointerId); e.preventDefault();
  });
  win.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var delta = msOf(e.clientX - drag.x) - span.first;
    var from = drag.from, to = drag.to;
    if (drag.mode === "move") { from += delta; to += delta; }
    if (drag.mode === "left") from = Math.min(from + delta, to - DAY);
    if (drag.mode === "right") to = Math.max(to + delta, from + DAY);
    var width = to - from;
    if (from < span.first) { from = span.first; if (drag.mode === "move") to = from + width; }
    if (to > span.last) { to = span.last; if (drag.mode === "move") from = to - width; }
    state.from = toDay(snap(from)); state.to = toDay(snap(to)); placeWindow();
  });
  win.addEventListener("pointerup", function () {
    if (!drag) return;
    drag = null; setRange(parseDay(state.from), parseDay(state.to), true);
  });
  tl.addEventListener("wheel", function (e) {
    if (!span) return;
    e.preventDefault();
    var from = parseDay(state.from), to = parseDay(state.to), centre = (from + to) / 2;
    var width = Math.max(DAY, (to - from) * (e.deltaY > 0 ? 1.25 : 0.8));
    setRange(Math.max(span.first, snap(centre - width / 2)), Math.min(span.last, snap(centre + width / 2)), true);
  }, { passive: false });
  tl.addEventListener("keydown", function (e) {
    var from = parseDay(state.from), to = parseDay(state.to), step = Math.max(DAY, snap((to - from) / 4));
    if (e.key === "ArrowLeft") { setRange(from - step, to - step, true); e.preventDefault(); }
    if (e.key === "ArrowRight") { setRange(from + step, to + step, true); e.preventDefault(); }
    if (e.key === "+") { setRange(from + step / 2, to - step / 2, true); e.preventDefault(); }
    if (e.key === "-") { setRange(from - step, to + step, true); e.preventDefault(); }
  });
  document.getElementById("range-form").addEventListener("submit", function (e) {
    e.preventDefault(); setRange(parseDay(fromInput.value), parseDay(toInput.value), true);
  });
  window.addEventListener("resize", function () { placeWindow(); });
  load();
})();
