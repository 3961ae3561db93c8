/* The Navigator: levels load when opened, open branches are remembered (cookie cp_nav,
   read by the server so the next page renders them open), the search box filters it. */
(function () {
  "use strict";
  var nav = document.querySelector("[data-navigator]");
  if (!nav) return;
  var tree = nav.querySelector('[data-testid="navigator"]');
  var results = nav.querySelector("[data-nav-results]");
  var input = nav.querySelector("[data-nav-search]");
  var COOKIE = "cp_nav", MAX_KEYS = 300;

  function remembered() {
    var found = document.cookie.match(/(?:^|;\s*)cp_nav=([^;]*)/);
    if (!found) return null;
    return found[1] === "-" ? [] : found[1].split(".");
  }
  function save(toggling) {
    var shown = {}, open = [];
    tree.querySelectorAll("details[data-key]").forEach(function (d) {
      if (d.dataset.key === "unassigned") return;
      shown[d.dataset.key] = true;
      if (d === toggling ? !d.open : d.open) open.push(d.dataset.key);
    });
    // branches inside closed, never loaded levels keep what was remembered for them
    (remembered() || []).forEach(function (key) { if (!shown[key]) open.push(key); });
    open = open.slice(0, MAX_KEYS);
    document.cookie = COOKIE + "=" + (open.length ? open.join(".") : "-") +
      "; path=/; max-age=31536000; SameSite=Lax";
  }
  // The state each <details> was rendered in: the toggle events the parser fires for
  // details rendered open are not the user's.
  function mark(root) {
    root.querySelectorAll("details[data-key]").forEach(function (d) { d.dataset.shown = d.open ? "1" : "0"; });
  }
  function pageAddress() { return window.location.pathname + window.location.search; }
  function address(base, params) {
    var url = new URL(base, window.location.href);
    Object.keys(params).forEach(function (k) { url.searchParams.set(k, params[k]); });
    return url.toString();
  }

  function load(details) {
    details.dataset.lazy = "loading";
    var list = details.querySelector(":scope > ul");
    list.innerHTML = '<li class="muted nav-empty">Loading…</li>';
    fetch(address(nav.dataset.childrenUrl, { key: details.dataset.key, page: pageAddress() }),
          { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (html) {
        list.innerHTML = html;
        mark(list);
        delete details.dataset.lazy;
      })
      .catch(function () {
        list.innerHTML = '<li class="muted nav-empty">Could not load; close and open again.</li>';
        details.dataset.lazy = "1";
      });
  }

  // A long station list shows a page; its buttons load the page before or after it.
  function more(button) {
    var item = button.closest("li"), params = { key: button.dataset.navMore, page: pageAddress() };
    if (button.dataset.start) params.start = button.dataset.start;
    else params.before = button.dataset.before;
    button.disabled = true;
    button.textContent = "Loading…";
    fetch(address(nav.dataset.pageUrl, params),
          { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (html) {
        var list = item.parentElement, holder = document.createElement("ul");
        holder.innerHTML = html;
        mark(holder);
        while (holder.firstElementChild) list.insertBefore(holder.firstElementChild, item);
        item.remove();
      })
      .catch(function () {
        button.disabled = false;
        button.textContent = "Could not load; try again.";
      });
  }
  // A branch's new state is saved as its summary is clicked: the toggle event comes in a
  // later task, and a page left at once (a reload, a link) would send the old cookie.
  nav.addEventListener("click", function (e) {
    if (!e.target.closest || e.target.closest("a, button")) return;
    var summary = e.target.closest("summary"), d = summary && summary.parentElement;
    if (!d || !d.matches("details[data-key]") || !tree.contains(d)) return;
    save(d);
    setTimeout(function () { save(); }, 0);  // what the page really shows, if it was stopped
  });
  nav.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button[data-nav-more]");
    if (!button || button.disabled) return;
    e.preventDefault();
    more(button);
  });

  nav.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!d.matches || !d.matches("details[data-key]")) return;
    if ((d.open ? "1" : "0") === d.dataset.shown) return;  // the parser, not the user
    d.dataset.shown = d.open ? "1" : "0";
    if (d.open && d.dataset.lazy === "1") load(d);
    if (tree.contains(d)) save();
  }, true);  // toggle does not bubble
  mark(nav);

  // Search: the matching nodes with their ancestors replace the tree until cleared.
  var timer = null, pending = null;
  function search() {
    var text = input.value.trim();
    if (pending) pending.abort();
    pending = null;
    if (!text) {
      results.hidden = true; results.innerHTML = ""; tree.hidden = false;
      return;
    }
    pending = new AbortController();
    fetch(address(nav.dataset.searchUrl, { q: text, page: pageAddress() }),
          { credentials: "same-origin", headers: { Accept: "text/html" }, signal: pending.signal })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (html) {
        results.innerHTML = html;
        mark(results);
        results.hidden = false; tree.hidden = true;
        results.dataset.query = text;
      })
      .catch(function (err) {
        if (err.name === "AbortError") return;
        results.innerHTML = '<p class="hint nav-empty">The search did not answer; try again.</p>';
        results.hidden = false;
      });
  }
  if (input) {
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 200); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && input.value) { input.value = ""; search(); e.stopPropagation(); }
      if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); search(); }
    });
  }
})();
