/* Charge Portal frame behaviour: CSRF for htmx/fetch, confirmations, live colours
   (server-sent events), the mobile menu, table context menus, local times. */
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  window.chargePortal = window.chargePortal || {};
  window.chargePortal.csrf = csrf;

  // htmx: every request carries the CSRF header.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf;
  });

  // Confirmation before anything destructive: <button data-confirm="Delete X?">.
  var dialog = document.getElementById("confirm-dialog");
  function confirmThen(message, proceed) {
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(message)) proceed();
      return;
    }
    dialog.querySelector("#confirm-text").textContent = message;
    dialog.returnValue = "";
    dialog.addEventListener("close", function onClose() {
      dialog.removeEventListener("close", onClose);
      if (dialog.returnValue === "ok") proceed();
    });
    dialog.showModal();
    dialog.querySelector("[data-confirm-ok]").focus();
  }
  window.chargePortal.confirm = confirmThen;
  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-confirm]");
    if (!el || el.dataset.confirmed === "1") return;
    e.preventDefault();
    e.stopPropagation();
    confirmThen(el.dataset.confirm, function () {
      el.dataset.confirmed = "1";
      if (el.form && (el.type === "submit" || el.tagName === "BUTTON")) {
        if (el.form.requestSubmit) el.form.requestSubmit(el); else el.form.submit();
      } else {
        el.click();
      }
      delete el.dataset.confirmed;
    });
  }, true);

  // Mobile: the menu button opens the sidebar.
  var toggle = document.querySelector("[data-toggle-sidebar]");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = document.body.classList.toggle("sidebar-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      document.body.classList.remove("sidebar-open");
      document.querySelectorAll("details.dropdown[open]").forEach(function (d) { d.open = false; });
      closeContextMenu();
    }
  });
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.open = false;
    });
  });

  // Role-specific form fields: <select data-role-switch> shows [data-roles~=role].
  document.querySelectorAll("select[data-role-switch]").forEach(function (sel) {
    var form = sel.form;
    function sync() {
      form.querySelectorAll("[data-roles]").forEach(function (el) {
        var show = el.dataset.roles.split(" ").indexOf(sel.value) >= 0;
        el.hidden = !show;
        el.querySelectorAll("input, select, textarea").forEach(function (i) { i.disabled = !show; });
      });
    }
    sel.addEventListener("change", sync);
    sync();
  });

  // Selects that must differ (<form data-distinct-selects>): an option chosen in one
  // select cannot be chosen in another (the dashboard panels).
  document.querySelectorAll("form[data-distinct-selects]").forEach(function (form) {
    var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
    function sync() {
      selects.forEach(function (sel) {
        Array.prototype.forEach.call(sel.options, function (opt) {
          opt.disabled = selects.some(function (other) { return other !== sel && other.value === opt.value; });
        });
      });
    }
    selects.forEach(function (sel) { sel.addEventListener("change", sync); });
    sync();
  });

  // The bell: a badge counts news published since the user last opened it.
  var bell = document.querySelector("[data-bell]");
  if (bell) {
    var seen = "";
    try { seen = window.localStorage.getItem("cp-news-seen") || ""; } catch (e) { seen = ""; }
    var items = bell.querySelectorAll("[data-published]");
    var unread = Array.prototype.filter.call(items, function (i) { return i.dataset.published > seen; });
    var badge = bell.querySelector("[data-unread]");
    if (unread.length && badge) {
      badge.textContent = String(unread.length);
      badge.hidden = false;
      bell.querySelector("summary").setAttribute("aria-label", "News (" + unread.length + " new)");
    }
    bell.addEventListener("toggle", function () {
      if (!bell.open || !items.length) return;
      try { window.localStorage.setItem("cp-news-seen", items[0].dataset.published); } catch (e) { /* private mode */ }
      if (badge) badge.hidden = true;
    });
  }

  // Times are rendered by the server in the display zone (portal/timefmt.py); the browser's
  // own zone is not used, so every page, export and chart agrees.

  // Live station colours: the frame listens once; pages listen to "cp:station".
  var COLOURS = ["st-black", "st-blue", "st-red", "st-grey"];
  function paint(el, colour) {
    COLOURS.forEach(function (c) { el.classList.remove(c); });
    el.classList.add("st-" + colour);
    el.dataset.colour = colour;
    var txt = el.querySelector(".state-text");
    if (txt) txt.textContent = " (" + colour + ")";
  }
  function applyState(state) {
    var sel = '[data-cbid="' + CSS.escape(state.station) + '"]';
    document.querySelectorAll(sel).forEach(function (el) {
      var connector = el.dataset.connector;
      if (connector) {
        paint(el, state.online ? (state.outlets[connector] || "black") : "grey");
      } else {
        paint(el, state.colour);
      }
    });
    document.dispatchEvent(new CustomEvent("cp:station", { detail: state }));
    stationsChanged();
  }
  // "cp:stations-changed": at most once every 2 s while stations change, and always once
  // after the last change (panels that reload on it never miss the final state).
  var changedTimer = null, changedAgain = false;
  function stationsChanged() {
    if (changedTimer) { changedAgain = true; return; }
    document.dispatchEvent(new CustomEvent("cp:stations-changed"));
    changedTimer = setTimeout(function () {
      changedTimer = null;
      if (changedAgain) { changedAgain = false; stationsChanged(); }
    }, 2000);
  }
  window.chargePortal.applyState = applyState;
  var eventsUrl = document.body.dataset.events;
  if (eventsUrl && window.EventSource) {
    var source = new EventSource(eventsUrl);
    source.addEventListener("station", function (e) { applyState(JSON.parse(e.data)); });
    source.addEventListener("alarm", function (e) {
      document.dispatchEvent(new CustomEvent("cp:alarm", { detail: JSON.parse(e.data) }));
    });
    source.addEventListener("progress", function (e) {
      document.dispatchEvent(new CustomEvent("cp:progress", { detail: JSON.parse(e.data) }));
    });
    source.addEventListener("open", function () { document.body.dataset.live = "1"; });
    window.chargePortal.events = source;
  }

  // Table context menu: <table data-contextmenu> rows carry data-actions JSON
  // [{label, href | post, confirm, danger, window}]; also opened by the ContextMenu key / Shift+F10.
  var menu = null;
  function closeContextMenu() {
    if (menu) { menu.remove(); menu = null; }
  }
  function submitPost(url) {
    var f = document.createElement("form");
    f.method = "post"; f.action = url;
    var i = document.createElement("input");
    i.type = "hidden"; i.name = "csrf_token"; i.value = csrf;
    f.appendChild(i); document.body.appendChild(f); f.submit();
  }
  function runAction(a) {
    function go() {
      if (a.post) submitPost(a.post);
      else if (a.window) window.open(a.href, "_blank", "noopener");  // e.g. Statistics → Show
      else window.location.href = a.href;
    }
    if (a.confirm) confirmThen(a.confirm, go); else go();
  }
  function openContextMenu(row, x, y) {
    closeContextMenu();
    var table = row.closest("table[data-contextmenu]");
    var actions = JSON.parse(row.dataset.actions || "[]");
    var extra = JSON.parse(table.dataset.contextmenu || "[]");
    actions = extra.concat(actions);
    if (!actions.length) return;
    table.querySelectorAll('tr[aria-selected="true"]').forEach(function (r) { r.setAttribute("aria-selected", "false"); });
    row.setAttribute("aria-selected", "true");
    menu = document.createElement("ul");
    menu.className = "context-menu"; menu.setAttribute("role", "menu");
    actions.forEach(function (a) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button"; b.textContent = a.label; b.setAttribute("role", "menuitem");
      if (a.danger) b.className = "danger";
      b.addEventListener("click", function () { closeContextMenu(); runAction(a); });
      li.appendChild(b); menu.appendChild(li);
    });
    document.body.appendChild(menu);
    var w = menu.offsetWidth, h = menu.offsetHeight;
    menu.style.left = Math.min(x, window.innerWidth - w - 8) + "px";
    menu.style.top = Math.min(y, window.innerHeight - h - 8) + "px";
    menu.querySelector("button").focus();
    menu.addEventListener("keydown", function (e) {
      var items = Array.prototype.slice.call(menu.querySelectorAll("button"));
      var i = items.indexOf(document.activeElement);
      if (e.key === "ArrowDown") { items[(i + 1) % items.length].focus(); e.preventDefault(); }
      if (e.key === "ArrowUp") { items[(i - 1 + items.length) % items.length].focus(); e.preventDefault(); }
    });
  }
  document.addEventListener("contextmenu", function (e) {
    var row = e.target.closest("table[data-contextmenu] tbody tr");
    if (!row) return;
    e.preventDefault();
    openContextMenu(row, e.clientX, e.clientY);
  });
  document.addEventListener("keydown", function (e) {
    var row = e.target.closest && e.target.closest("table[data-contextmenu] tbody tr");
    if (!row) return;
    if (e.key === "ContextMenu" || (e.shiftKey && e.key === "F10")) {
      e.preventDefault();
      var r = row.getBoundingClientRect();
      openContextMenu(row, r.left + 20, r.bottom);
    }
  });
  document.addEventListener("click", function (e) {
    if (menu && !menu.contains(e.target)) closeContextMenu();
  });
})();
