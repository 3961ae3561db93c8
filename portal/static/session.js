// Session details: the meter values over time as a chart (Chart.js, vendored).
(function () {
  "use strict";
  var canvas = document.getElementById("meter-chart");
  if (!canvas || typeof Chart === "undefined") return;
  var colours = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
  fetch(canvas.dataset.meterUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var series = data.series || [];
      if (!series.length) { document.getElementById("meter-empty").hidden = false; canvas.hidden = true; return; }
      var labels = [];
      series.forEach(function (s) { s.points.forEach(function (p) { if (labels.indexOf(p[0]) < 0) labels.push(p[0]); }); });
      labels.sort();
      var datasets = series.map(function (s, i) {
        var byTime = {};
        s.points.forEach(function (p) { byTime[p[0]] = p[1]; });
        var energy = s.unit === "Wh" && s.measurand.indexOf("Energy") === 0;
        return {
          label: s.measurand + " (" + (energy ? "kWh" : s.unit) + ")",
          data: labels.map(function (t) { var v = byTime[t]; return v == null ? null : (energy ? v / 1000 : v); }),
          borderColor: colours[i % colours.length], backgroundColor: colours[i % colours.length],
          spanGaps: true, pointRadius: 2, yAxisID: energy ? "y" : "y1", tension: 0.2
        };
      });
      var scales = { y: { position: "left", title: { display: true, text: "kWh" } } };
      if (datasets.some(function (d) { return d.yAxisID === "y1"; })) {
        scales.y1 = { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "W / other" } };
      }
      new Chart(canvas, {
        type: "line",
        data: { labels: labels.map(function (t) { return t.replace("T", " ").slice(0, 19); }), datasets: datasets },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
          scales: scales
        }
      });
      canvas.dataset.ready = "1";
    });
})();
