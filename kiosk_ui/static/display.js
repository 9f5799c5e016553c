/* The hall display: a call appears in #latest-call the moment hwd publishes it. */
"use strict";
(function () {
  const $ = function (id) { return document.getElementById(id); };
  const esc = HWD.esc;
  let calls = [];
  HWD.clock($("clock"));

  function showLatest(c, flash) {
    const el = $("latest-call");
    if (!c) { el.innerHTML = '<span class="lc-idle" id="lc-idle">欢迎光临</span>'; return; }
    el.innerHTML = '<span class="lc-line"><span class="lc-label">请</span><span class="lc-number" id="lc-number">' +
      esc(c.number) + '</span><span class="lc-label">号</span></span><span class="lc-line"><span class="lc-label">到</span>' +
      '<span class="lc-window" id="lc-window">' + esc(c.window_name || c.window) + '</span><span class="lc-label">办理</span></span>';
    if (flash) { el.classList.remove("flash"); void el.offsetWidth; el.classList.add("flash"); }
  }
  function showCalls() {
    $("calls").innerHTML = calls.slice(1, 5).map(function (c) {
      return '<li><b class="c-num">' + esc(c.number) + '</b><span class="c-win">' + esc(c.window_name || c.window) + "</span></li>";
    }).join("");
  }
  async function resync() {
    const r = await HWD.get("/display/state");
    if (!r.ok) return;  // hwd down: keep showing the last calls (系统连接中断 says why)
    calls = r.calls || [];
    showLatest(r.latest, false);
    showCalls();
    $("windows").innerHTML = (r.windows || []).map(function (w) {
      return '<tr data-state="' + esc(w.state) + '"><th>' + esc(w.name) + "</th><td>" + esc(w.current || "") +
        "</td><td>" + esc(w.state_name) + "</td></tr>";
    }).join("");
    $("queues").innerHTML = (r.queues || []).map(function (q) {
      return "<tr><th>" + esc(q.name) + "</th><td>" + esc(q.waiting) + " 人</td></tr>";
    }).join("");
  }
  let pending = null;
  function later() { clearTimeout(pending); pending = setTimeout(resync, 300); }

  HWD.live("/live?topic=hall.", {
    "hall.ticket.called": function (ev) {
      const t = ev.ticket || ev;
      const c = {number: t.number, window: t.window || ev.window, window_name: t.window_name || ev.window_name};
      calls = [c].concat(calls.filter(function (x) { return x.number !== c.number; })).slice(0, 10);
      showLatest(c, true);
      showCalls();
      later();
    },
    "hall.ticket.issued": later, "hall.ticket.done": later, "hall.window.state": later,
    "hall.ticket.started": later, "hall.ticket.requeued": later, "hall.ticket.transferred": later,
  }, {
    onResync: resync,
    onStatus: function (ok) { $("offline").hidden = ok; },
  });
})();
