/* runbench HTML report: filters, search, copy buttons, heat map pages. Inlined into the page and allowed by
   the page's Content-Security-Policy by its hash. It never writes HTML: only text (textContent) and
   attributes (className, title), so host strings stay text. Without it the page is complete, unfiltered. */
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.className += " js";

  function all(sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); }

  /* ---- findings: filters and search ---- */
  var form = doc.getElementById("filters");
  var groups = all("details.group");
  var shown = doc.getElementById("shown");
  var nothing = doc.getElementById("nothing");
  var texts = new Map();

  function groupText(g) {
    var t = texts.get(g);
    if (t === undefined) { t = g.textContent.toLowerCase(); texts.set(g, t); }
    return t;
  }

  function apply() {
    if (!form) { return; }
    var statuses = {};
    all("input[name=status]", form).forEach(function (box) { statuses[box.value] = box.checked; });
    var rank = parseInt(form.elements.severity.value, 10) || 0;
    var section = form.elements.section.value;
    var subject = form.elements.subject.value.trim().toLowerCase();
    var q = form.elements.q.value.trim().toLowerCase();
    var visible = 0;
    groups.forEach(function (g) {
      var ok = statuses[g.dataset.status] !== false
        && (parseInt(g.dataset.rank, 10) || 0) >= rank
        && (!section || g.dataset.section === section);
      var rows = all("tr[data-s]", g);
      var anyRow = false;
      rows.forEach(function (r) {
        var match = !subject || r.dataset.s.indexOf(subject) !== -1;
        r.hidden = ok && !match;
        if (match) { anyRow = true; }
      });
      if (ok && subject && !anyRow) { ok = false; }
      if (ok && q && groupText(g).indexOf(q) === -1) { ok = false; }
      g.hidden = !ok;
      if (ok) { visible += 1; }
    });
    all(".status-block").forEach(function (block) {
      var any = all("details.group", block).some(function (g) { return !g.hidden; });
      block.hidden = !any;
      if (block.tagName === "DETAILS" && any && (subject || q)) { block.open = true; }
    });
    var filtering = subject || q || rank || section || Object.keys(statuses).some(function (k) { return !statuses[k]; });
    shown.textContent = filtering ? visible + " of " + groups.length + " checks shown" : groups.length + " checks";
    nothing.hidden = visible > 0;
  }

  if (form) {
    form.hidden = false;
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    shown.textContent = groups.length + " checks";  /* nothing filtered yet: no row to touch */
  }

  all("a.subj[data-subject]").forEach(function (a) {
    a.addEventListener("click", function () {
      if (!form) { return; }
      form.elements.subject.value = a.dataset.subject;
      apply();
    });
  });

  /* ---- copy buttons ---- */
  all(".fix").forEach(function (fix) {
    var button = fix.querySelector("button.copy");
    var code = fix.querySelector("pre");
    if (!button || !code) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = code.textContent;
      var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(code); });
      } else {
        select(code);
        try { if (doc.execCommand("copy")) { done(); } } catch (err) { /* selected: the user copies */ }
      }
    });
  });

  function select(node) {
    var range = doc.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  /* ---- heat map pages ---- */
  var WORD = { p: "PASS", f: "FAIL", m: "REVIEW", s: "SKIP", e: "ERROR", "-": "not judged" };
  all("section.heat").forEach(function (section) {
    var script = section.querySelector("script.heat-data");
    var pager = section.querySelector(".pager");
    var body = section.querySelector("table.heatmap tbody");
    if (!script || !pager || !body) { return; }
    var data = JSON.parse(script.textContent);
    var pages = Math.max(1, Math.ceil(data.rows.length / data.page));
    if (pages < 2) { return; }
    var page = 0;
    var pos = pager.querySelector(".pos");
    function draw() {
      var rows = data.rows.slice(page * data.page, (page + 1) * data.page);
      while (body.firstChild) { body.removeChild(body.firstChild); }
      rows.forEach(function (row) {
        var name = row[0], codes = row[1], refs = row[2];
        var tr = doc.createElement("tr");
        var th = doc.createElement("th");
        th.setAttribute("scope", "row");
        th.textContent = name;
        th.title = "score " + row[3];
        tr.appendChild(th);
        for (var i = 0; i < codes.length; i++) {
          var td = doc.createElement("td");
          var code = codes.charAt(i);
          td.className = "c-" + code;
          var title = name + " \u00b7 " + data.cols[i].title + ": " + WORD[code];
          if (refs[i] >= 0) { title += " \u2014 " + data.details[refs[i]]; }
          td.title = title;
          tr.appendChild(td);
        }
        body.appendChild(tr);
      });
      pos.textContent = "page " + (page + 1) + " of " + pages + " (" + data.rows.length + " rows)";
    }
    pager.hidden = false;
    all("button[data-step]", pager).forEach(function (b) {
      b.addEventListener("click", function () {
        page = Math.min(pages - 1, Math.max(0, page + parseInt(b.dataset.step, 10)));
        draw();
      });
    });
    pos.textContent = "page 1 of " + pages + " (" + data.rows.length + " rows)";
  });

  /* ---- print: everything open ---- */
  window.addEventListener("beforeprint", function () {
    all("details").forEach(function (d) { d.open = true; });
  });
}());
