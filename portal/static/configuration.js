/* Configuration pages: copy buttons, charge box id warning, map, floor plan drag & drop,
   live station state (offline before the click), firmware/log progress. No inline JS (CSP). */
(function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Copy buttons: <button data-copy="#input">
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) return;
    var field = document.querySelector(btn.dataset.copy);
    if (!field) return;
    var text = field.value || field.textContent;
    var done = function () { btn.textContent = "Copied"; setTimeout(function () { btn.textContent = "Copy"; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { field.select(); document.execCommand("copy"); done(); });
    } else { field.select(); document.execCommand("copy"); done(); }
  });

  // Charge box id: warn that the station must change too, and confirm before saving.
  var cbid = document.querySelector("input[data-original]");
  if (cbid) {
    var warning = document.querySelector("[data-cbid-warning]");
    var save = document.querySelector("[data-confirm-if-cbid-changed]");
    var sync = function () {
      var changed = cbid.value.trim() !== cbid.dataset.original;
      if (warning) warning.hidden = !changed;
      if (save) {
        if (changed) save.dataset.confirm = "Change the charge box id to " + cbid.value.trim() + "? The station must be configured with the same id, or it cannot connect.";
        else delete save.dataset.confirm;
      }
    };
    cbid.addEventListener("input", sync);
    sync();
  }

  // Map (Leaflet, vendored), only when a tile server is set (System → General): click to set
  // latitude/longitude; typing moves the marker. Built after the page's load event, so tiles
  // that are slow or unreachable never hold the page (or its load event) up; the form works
  // without it.
  var mapEl = document.querySelector("[data-map]");
  function buildMap() {
    if (!window.L) return;
    var form = document.querySelector("[data-address-form]");
    var lat = form.querySelector("[data-lat]"), lng = form.querySelector("[data-lng]");
    var note = document.querySelector("[data-map-note]");
    var read = function () {
      var a = parseFloat((lat.value || "").replace(",", ".")), b = parseFloat((lng.value || "").replace(",", "."));
      return isFinite(a) && isFinite(b) ? [a, b] : null;
    };
    var start = read();
    var map = L.map(mapEl, { attributionControl: true }).setView(start || [59.334, 18.063], start ? 15 : 5);
    var layer = L.tileLayer(mapEl.dataset.tileUrl, { maxZoom: 19, attribution: "&copy; map data contributors" });
    var shown = false;
    var unreachable = function () { if (!shown && note) note.hidden = false; };
    layer.on("tileload", function () { shown = true; if (note) note.hidden = true; });
    layer.on("tileerror", unreachable);
    setTimeout(unreachable, 5000);
    layer.addTo(map);
    var marker = start ? L.marker(start).addTo(map) : null;
    map.on("click", function (ev) {
      lat.value = ev.latlng.lat.toFixed(6);
      lng.value = ev.latlng.lng.toFixed(6);
      if (marker) marker.setLatLng(ev.latlng); else marker = L.marker(ev.latlng).addTo(map);
    });
    [lat, lng].forEach(function (input) {
      input.addEventListener("change", function () {
        var p = read();
        if (!p) return;
        if (marker) marker.setLatLng(p); else marker = L.marker(p).addTo(map);
        map.panTo(p);
      });
    });
    window.chargePortalMap = map;
  }
  if (mapEl && mapEl.dataset.tileUrl) {
    if (document.readyState === "complete") setTimeout(buildMap, 0);
    else window.addEventListener("load", function () { setTimeout(buildMap, 0); });
  }

  // Floor plan: drag stations onto the plan (pointer events), save as fractions 0..1.
  var positions = document.querySelector("[data-positions]");
  if (positions) {
    var plan = positions.querySelector("[data-plan]");
    var unplaced = positions.querySelector("[data-unplaced]");
    var state = positions.querySelector("[data-save-state]");
    var dirty = false;
    var markDirty = function () { dirty = true; state.textContent = "Unsaved changes."; };
    var placeAt = function (icon, x, y) {
      x = Math.min(1, Math.max(0, x)); y = Math.min(1, Math.max(0, y));
      icon.style.left = (x * 100).toFixed(3) + "%";
      icon.style.top = (y * 100).toFixed(3) + "%";
      icon.dataset.x = x; icon.dataset.y = y;
      if (icon.parentElement !== plan) plan.appendChild(icon);
      var none = unplaced.querySelector("[data-none]"); if (none) none.remove();
    };
    plan.querySelectorAll(".plan-icon").forEach(function (icon) {
      icon.dataset.x = parseFloat(icon.style.left) / 100; icon.dataset.y = parseFloat(icon.style.top) / 100;
    });
    var dragging = null;
    positions.addEventListener("pointerdown", function (e) {
      var icon = e.target.closest(".plan-icon");
      if (!icon) return;
      e.preventDefault();
      dragging = icon;
      icon.classList.add("dragging");
      icon.setPointerCapture(e.pointerId);
    });
    positions.addEventListener("pointermove", function (e) {
      if (!dragging) return;
      var r = plan.getBoundingClientRect();
      if (e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom) {
        placeAt(dragging, (e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
      }
    });
    positions.addEventListener("pointerup", function (e) {
      if (!dragging) return;
      var icon = dragging; dragging = null;
      icon.classList.remove("dragging");
      var u = unplaced.getBoundingClientRect();
      if (e.clientX >= u.left && e.clientX <= u.right && e.clientY >= u.top && e.clientY <= u.bottom) {
        icon.style.left = icon.style.top = ""; delete icon.dataset.x; delete icon.dataset.y;
        unplaced.appendChild(icon);
      }
      markDirty();
    });
    positions.addEventListener("keydown", function (e) {
      var icon = e.target.closest(".plan-icon");
      if (!icon) return;
      if (icon.parentElement !== plan) {
        // keyboard: Enter or Space puts an unplaced station in the middle of the plan
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          placeAt(icon, 0.5, 0.5);
          icon.focus();
          markDirty();
        }
        return;
      }
      if (e.key === "Delete" || e.key === "Backspace") {
        e.preventDefault();
        icon.style.left = icon.style.top = ""; delete icon.dataset.x; delete icon.dataset.y;
        unplaced.appendChild(icon);
        icon.focus();
        markDirty();
        return;
      }
      var step = e.shiftKey ? 0.05 : 0.01, x = parseFloat(icon.dataset.x), y = parseFloat(icon.dataset.y);
      var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (!moves[e.key]) return;
      e.preventDefault();
      placeAt(icon, x + moves[e.key][0], y + moves[e.key][1]);
      markDirty();
    });
    positions.querySelector("[data-save-positions]").addEventListener("click", function () {
      var body = { positions: {} };
      positions.querySelectorAll(".plan-icon").forEach(function (icon) {
        body.positions[icon.dataset.station] = icon.parentElement === plan ? [parseFloat(icon.dataset.x), parseFloat(icon.dataset.y)] : null;
      });
      fetch(positions.dataset.saveUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify(body)
      }).then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
        .then(function (res) { state.textContent = res[1].message || (res[0] ? "Saved." : "Not saved."); dirty = !res[0]; })
        .catch(function () { state.textContent = "Not saved: the portal did not answer."; });
    });
    window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
  }

  // Live station state: the offline banner and disabled buttons follow the station.
  var live = document.querySelector("[data-station-live]");
  function applyOnline(online) {
    if (!live) return;
    var banner = live.querySelector("[data-offline-banner]"), line = live.querySelector("[data-online-line]");
    if (banner) banner.hidden = online;
    if (line) line.hidden = !online;
    document.querySelectorAll("[data-needs-online]").forEach(function (b) { b.disabled = !online; });
  }
  // Remote stop lists the running sessions: re-read them (from this page) when the
  // station's state changes, at most once a second.
  var sessions = document.querySelector("[data-running-sessions]"), sessionsTimer = null;
  function refreshSessions() {
    sessionsTimer = null;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-running-sessions]");
        if (fresh && fresh.innerHTML !== sessions.innerHTML) sessions.innerHTML = fresh.innerHTML;
      })
      .catch(function () { /* the next change tries again */ });
  }
  // Live state and progress come from the frame's one event stream (portal.js).
  var steps = ["Downloading", "Downloaded", "Installing", "Installed"];
  document.addEventListener("cp:station", function (e) {
    var d = e.detail;
    if (!live || d.station !== live.dataset.cbid) return;
    applyOnline(d.online);
    if (sessions && !sessionsTimer) sessionsTimer = setTimeout(refreshSessions, 1000);
    if (d.firmwareVersion) {
      document.querySelectorAll("[data-firmware-version]").forEach(function (el) { el.textContent = d.firmwareVersion; });
    }
  });
  document.addEventListener("cp:progress", function (e) {
    var d = e.detail;
    if (!live || d.station !== live.dataset.cbid) return;
    if (d.kind === "firmware") {
      document.querySelectorAll("[data-firmware-status]").forEach(function (el) { el.textContent = d.status; });
      var at = steps.indexOf(d.status);
      document.querySelectorAll("[data-firmware-steps] li").forEach(function (li, i) {
        li.classList.remove("done", "current", "failed");
        if (/Failed$/.test(d.status)) { if (i === 0) li.classList.add("failed"); }
        else if (i < at || d.status === "Installed") li.classList.add("done");
        else if (i === at) li.classList.add("current");
      });
    } else if (d.kind === "locallist") {
      // Download RFID badges: one event per message the station answered
      var box = document.querySelector("[data-local-list-progress]");
      if (box) {
        box.hidden = false;
        var bar = box.querySelector("progress");
        bar.max = Math.max(1, d.total); bar.value = d.sent;
        box.querySelector("span").textContent = d.sent + " of " + d.total + " badges sent (message " +
          d.part + " of " + d.parts + (d.status === "Accepted" ? "" : ": " + d.status) + ")";
      }
      document.querySelectorAll("[data-local-list-version]").forEach(function (el) { el.textContent = d.version; });
    } else if (d.kind === "diagnostics") {
      document.querySelectorAll("[data-diagnostics-status]").forEach(function (el) { el.textContent = d.status; });
      document.body.dispatchEvent(new CustomEvent("cp:diagnostics"));
    }
  });
})();
