/* Aftercare console: progressive enhancement only. Every form works without this file;
   with it the queue filters and refreshes in place, SLA countdowns tick, bulk assign works,
   and inside Shopify admin requests carry the App Bridge session token. No inline code. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var embedded = !!document.querySelector('meta[name="shopify-api-key"]');

  function headers(extra) {
    var h = Object.assign({ Accept: "application/json" }, extra || {});
    if (csrf) h["X-CSRF-Token"] = csrf;
    if (embedded && window.shopify && window.shopify.idToken) {
      return window.shopify.idToken().then(function (t) { h.Authorization = "Bearer " + t; return h; });
    }
    return Promise.resolve(h);
  }

  function api(url, options) {
    options = options || {};
    return headers(options.headers).then(function (h) {
      return fetch(url, Object.assign({}, options, { headers: h, credentials: "same-origin" }));
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.detail || body.error || ("HTTP " + r.status));
        return body;
      });
    });
  }

  function duration(seconds) {
    seconds = Math.abs(seconds);
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + (m < 10 ? "0" : "") + m + "m";
    return m + "m";
  }

  /* SLA countdowns: relative to the server's "now" at render, advanced by the local clock. */
  var serverNow = document.getElementById("refreshed");
  var base = serverNow ? Date.parse(serverNow.dataset.now) : Date.now();
  var loadedAt = Date.now();
  function tick() {
    var now = base + (Date.now() - loadedAt);
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.due) - now) / 1000);
      var target = el.querySelector(".sla, .big");
      var words = document.body.dataset;
      if (target) target.textContent = duration(left) + " " + (left < 0 ? words.overdue : words.left);
    });
  }
  setInterval(tick, 30000);

  /* Queue: filter and refresh without a full reload. */
  var filters = document.getElementById("filters");
  var table = document.getElementById("queue");
  function queueQuery() {
    var params = new URLSearchParams();
    new FormData(filters).forEach(function (v, k) { if (v) params.set(k, v); });
    return params.toString();
  }
  function refresh() {
    var query = queueQuery();
    return api("/console/api/queue" + (query ? "?" + query : "")).then(function (data) {
      table.tBodies[0].innerHTML = data.html; /* rendered and escaped by the server */
      ["total", "breached", "at_risk"].forEach(function (k) {
        var el = document.querySelector('#queue-summary [data-k="' + k + '"]');
        if (el) el.textContent = data[k];
      });
      base = Date.parse(data.now); loadedAt = Date.now();
      if (serverNow) serverNow.textContent = "updated just now";
      var pager = document.getElementById("pager");
      if (pager) pager.querySelector("span").textContent = data.page + " / " + data.pages;
      history.replaceState(null, "", "/console" + (query ? "?" + query : ""));
      updateBulk();
      table.dataset.loaded = String(Date.now());
    }).catch(function (e) { if (serverNow) serverNow.textContent = "refresh failed: " + e.message; });
  }
  if (filters && table) {
    filters.addEventListener("change", function () { refresh(); });
    filters.addEventListener("submit", function (ev) { ev.preventDefault(); refresh(); });
    setInterval(function () { if (!document.hidden) refresh(); }, 60000);
  }

  /* Bulk assign. */
  var bulk = document.getElementById("bulk");
  function picked() {
    return Array.prototype.map.call(document.querySelectorAll('#queue input[name="case_ids"]:checked'), function (b) { return b.value; });
  }
  function updateBulk() {
    if (!bulk) return;
    var ids = picked();
    bulk.hidden = ids.length === 0;
    document.getElementById("bulk-count").textContent = ids.length + " selected";
  }
  if (bulk && table) {
    table.addEventListener("change", function (ev) {
      if (ev.target.id === "pick-all") {
        document.querySelectorAll('#queue input[name="case_ids"]').forEach(function (b) { b.checked = ev.target.checked; });
      }
      updateBulk();
    });
    bulk.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { case_ids: picked(), assignee: bulk.elements.assignee.value };
      api("/console/bulk-assign", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } })
        .then(function () { bulk.reset(); var all = document.getElementById("pick-all"); if (all) all.checked = false; return refresh(); })
        .catch(function (e) { alert(e.message); });
    });
  }

  /* Template editors: live preview (encoding, segments) as you type. */
  document.querySelectorAll("form.editor[data-preview]").forEach(function (form) {
    var timer = null;
    var box = form.querySelector(".preview");
    function show(p) {
      box.querySelector('[data-k="text"]').textContent = p.text;
      var enc = box.querySelector('[data-k="encoding"]');
      enc.textContent = p.encoding;
      enc.className = "badge " + (p.encoding === "UCS-2" ? "risk" : "role");
      var seg = box.querySelector('[data-k="segments"]');
      seg.textContent = p.segments + " " + (p.segments === 1 ? seg.dataset.one || "segment" : seg.dataset.many || "segments");
      var units = box.querySelector('[data-k="units"]');
      units.textContent = p.units + " " + (units.dataset.word || "characters");
      var list = box.querySelector('[data-k="warnings"]');
      list.textContent = "";
      (p.warnings || []).forEach(function (w) { var li = document.createElement("li"); li.textContent = w; list.appendChild(li); });
      form.dataset.previewed = String(Date.now());
    }
    form.elements.text.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        api(form.dataset.preview, { method: "POST", body: JSON.stringify({ text: form.elements.text.value }), headers: { "Content-Type": "application/json" } })
          .then(show)
          .catch(function (e) { box.querySelector('[data-k="warnings"]').textContent = e.message; });
      }, 250);
    });
  });

  /* Case: preview a templated SMS (text, encoding, segments) before sending it. */
  var smsForm = document.getElementById("form-sms");
  if (smsForm) {
    smsForm.elements.kind.addEventListener("change", function () {
      var box = smsForm.querySelector(".sms-preview");
      if (!smsForm.elements.kind.value) { box.hidden = true; return; }
      api(smsForm.dataset.preview, { method: "POST", body: JSON.stringify({ kind: smsForm.elements.kind.value }), headers: { "Content-Type": "application/json" } })
        .then(function (p) {
          box.querySelector('[data-k="text"]').textContent = p.text;
          var enc = box.querySelector('[data-k="encoding"]');
          enc.textContent = p.encoding;
          enc.className = "badge " + (p.encoding === "UCS-2" ? "risk" : "role");
          box.querySelector('[data-k="segments"]').textContent = p.segments + (p.segments === 1 ? " segment" : " segments");
          box.querySelector('[data-k="locale"]').textContent = "in " + p.locale_used;
          box.hidden = false;
          smsForm.dataset.previewed = String(Date.now());
        })
        .catch(function (e) { box.hidden = false; box.querySelector('[data-k="text"]').textContent = e.message; });
    });
  }

  /* Rules: the fields of a section form being edited (unsaved), as an object for "try it". */
  function sectionFields(id) {
    var form = document.getElementById(id);
    if (!form || !form.elements.editor) return null;
    var fields = {};
    new FormData(form).forEach(function (v, k) {
      if (k !== "csrf" && k !== "version" && k !== "editor") fields[k] = v;
    });
    return fields;
  }

  /* Rules: "try it" with the return rules in the form (unsaved). */
  var tryForm = document.getElementById("try-returns");
  if (tryForm) {
    tryForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {};
      new FormData(tryForm).forEach(function (v, k) { body[k] = v; });
      var fields = sectionFields("section-returns");
      if (fields) body.rules_fields = fields;
      var out = document.getElementById("try-result");
      api(tryForm.action, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } })
        .then(function (r) {
          var badge = out.querySelector('[data-k="outcome"]');
          badge.textContent = r.outcome.replace(/_/g, " ");
          badge.className = "status st-" + (r.outcome === "approved" ? "approved" : r.outcome === "needs_review" ? "pending_review" : "rejected");
          out.querySelector('[data-k="explanation"]').textContent = r.explanation;
          var list = out.querySelector('[data-k="trace"]');
          list.textContent = "";
          r.trace.forEach(function (t) {
            var li = document.createElement("li");
            li.className = t.passed ? "pass" : "fail";
            var code = document.createElement("span"); code.className = "mono"; code.textContent = t.rule + " ";
            li.appendChild(code); li.appendChild(document.createTextNode(t.text || ""));
            list.appendChild(li);
          });
          out.hidden = false;
          tryForm.dataset.tried = String(Date.now());
        })
        .catch(function (e) {
          out.hidden = false;
          out.querySelector('[data-k="explanation"]').textContent = e.message;
          out.querySelector('[data-k="trace"]').textContent = "";
          tryForm.dataset.tried = String(Date.now());
        });
    });
  }

  /* Rules: "try it" for the SLA in the editor (unsaved). */
  var slaForm = document.getElementById("try-sla");
  if (slaForm) {
    slaForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {};
      new FormData(slaForm).forEach(function (v, k) { body[k] = v; });
      var slaFields = sectionFields("section-sla");
      if (slaFields) body.sla_fields = slaFields;
      var out = document.getElementById("try-sla-result");
      function when(iso) { return iso ? new Date(iso).toUTCString().replace(":00 GMT", " UTC") : "—"; }
      api(slaForm.action, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } })
        .then(function (r) {
          out.querySelector('[data-k="first"]').textContent = when(r.first_response_due);
          out.querySelector('[data-k="resolution"]').textContent = when(r.resolution_due);
          var list = out.querySelector('[data-k="steps"]');
          list.textContent = "";
          r.steps.forEach(function (s) {
            var li = document.createElement("li");
            li.textContent = s.target.replace(/_/g, " ") + " " + s.level + " → " + s.notify + " at " + when(s.at);
            list.appendChild(li);
          });
          out.hidden = false;
          slaForm.dataset.tried = String(Date.now());
        })
        .catch(function (e) { out.hidden = false; out.querySelector('[data-k="first"]').textContent = e.message; });
    });
  }

  /* Embedded in Shopify admin: forms go through fetch with the session token, and links
     to other console pages carry a fresh one (a navigation has no Authorization header). */
  if (embedded) {
    document.addEventListener("click", function (ev) {
      var link = ev.target.closest && ev.target.closest('a[href^="/console"]');
      if (!link || !window.shopify || !window.shopify.idToken) return;
      ev.preventDefault();
      window.shopify.idToken().then(function (token) {
        var url = new URL(link.getAttribute("href"), location.origin);
        url.searchParams.set("id_token", token);
        var shop = new URLSearchParams(location.search).get("shop");
        if (shop) url.searchParams.set("shop", shop);
        location.assign(url.toString());
      });
    });
    document.querySelectorAll("form[method=post]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var body = {};
        new FormData(form).forEach(function (v, k) { body[k] = v; });
        api(form.action, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } })
          .then(function () { location.reload(); })
          .catch(function (e) { alert(e.message); });
      });
    });
  }
})();
