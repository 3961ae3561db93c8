// Statistics: exports with progress (start a job, poll it, download), column chooser.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // the column chooser submits one "columns=a,b,c" instead of many checkboxes
  var filters = document.getElementById("filters");
  if (filters) {
    filters.addEventListener("submit", function () {
      var boxes = filters.querySelectorAll('input[name="columns"]');
      var chosen = [];
      boxes.forEach(function (b) { if (b.checked) chosen.push(b.value); b.disabled = true; });
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = "columns"; hidden.value = chosen.join(",");
      filters.appendChild(hidden);
      // empty fields stay out of the address
      filters.querySelectorAll("input, select").forEach(function (el) {
        if (!el.value && el.type !== "hidden") el.disabled = true;
      });
    });
  }

  var box = document.querySelector(".export-box");
  if (!box) return;
  var panel = box.querySelector(".export-progress");
  var bar = panel.querySelector("progress");
  var text = panel.querySelector(".export-text");
  var cancel = panel.querySelector("[data-export-cancel]");
  var download = panel.querySelector("[data-export-download]");
  var current = null;

  function show(job) {
    panel.hidden = false;
    bar.value = job.percent || 0;
    var total = job.total == null ? "…" : job.total.toLocaleString();
    if (job.state === "counting") text.textContent = "Counting rows…";
    else if (job.state === "running") text.textContent = job.done.toLocaleString() + " of " + total + " rows (" + job.percent + " %)";
    else if (job.state === "done") text.textContent = "Ready: " + job.done.toLocaleString() + " rows";
    else if (job.state === "failed") text.textContent = "Export failed: " + job.error;
    else if (job.state === "cancelled") text.textContent = "Export cancelled";
    cancel.hidden = !(job.state === "counting" || job.state === "running");
    download.hidden = job.state !== "done";
  }

  function poll() {
    if (!current) return;
    fetch(current.progress_url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        show(job);
        if (job.state === "done") {
          download.href = current.download_url;
          download.setAttribute("download", job.filename);
          window.location.href = current.download_url;  // start the download at once
          current = null;
        } else if (job.state === "counting" || job.state === "running") {
          setTimeout(poll, 500);
        } else {
          current = null;
        }
      })
      .catch(function () { text.textContent = "Lost contact with the portal; retrying…"; setTimeout(poll, 2000); });
  }

  box.querySelectorAll("[data-export]").forEach(function (button) {
    button.addEventListener("click", function () {
      var query = box.dataset.exportQuery;
      var url = new URL(box.dataset.exportUrl, window.location.href);
      new URLSearchParams(query || "").forEach(function (value, key) { url.searchParams.append(key, value); });
      url.searchParams.set("format", button.dataset.export);
      text.textContent = "Starting…"; panel.hidden = false; download.hidden = true;
      fetch(url, { method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (res) {
          if (!res.ok) { text.textContent = res.body.message || "Export refused"; return; }
          current = res.body; show(current); poll();
        });
    });
  });
  cancel.addEventListener("click", function () {
    if (!current) return;
    fetch(current.cancel_url, { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
  });
})();
