/* The hall display.

   The banner (#latest-call): every call gets it in turn, for as long as its announcement plays.
   A burst of calls is queued; each stays until its window's speaker reports its announcement
   (speaker.announced, or .failed) and its duration_ms has passed since it took the banner — the
   speaker plays one announcement after the other, so banner and voice move together. A call
   whose window has no speaker, or whose announcement was not played (quiet hours, a fault),
   stays data-call-ms. The speaker's reports come in the order of its calls (one worker per
   speaker), so they are paired with calls in order, per speaker.

   The window and queue panels: as many rows as fit, page after page every data-page-ms, with
   "1/3" beside the heading. */
"use strict";
(function () {
  const $ = function (id) { return document.getElementById(id); };
  const root = $("display");
  const esc = HWD.esc;
  const PAGE_MS = Number(root.dataset.pageMs) || 8000;
  const CALL_MS = Number(root.dataset.callMs) || 5000;
  const UNHEARD_MS = 30000;  // an announcement never reported (a lost event, a stuck speaker): move on
  let speakers = {};
  try { speakers = JSON.parse(root.dataset.speakers || "{}"); } catch (e) { speakers = {}; }
  HWD.clock($("clock"));

  // -- the banner ---------------------------------------------------------------------------
  const queue = [];      // calls waiting for the banner, oldest first
  const unheard = {};    // speaker id -> calls whose announcement it has not reported yet, in order
  let shown = null;      // the call on the banner: {number, window, window_name, speaker, since, heard, playMs}
  let recent = [];       // calls that had the banner before it, newest first (最近叫号)
  let timer = null;

  function callOf(t, ev) {
    const win = String(t.window || ev.window || "");
    return {number: t.number, window: win, window_name: t.window_name || ev.window_name || win,
            speaker: speakers[win] || null, since: 0, heard: false, playMs: 0};
  }
  function holdLeft(c) {
    const age = Date.now() - c.since;
    if (c.speaker && !c.heard) return Math.max(UNHEARD_MS - age, 0);
    return Math.max((c.playMs > 0 ? c.playMs : CALL_MS) - age, 0);
  }
  function showLatest(c, flash) {
    const el = $("latest-call");
    el.dataset.number = c ? c.number : "";
    if (!c) { el.innerHTML = '<span class="lc-idle" id="lc-idle">欢迎光临</span>'; return; }
    el.innerHTML = '<span class="lc-line"><span class="lc-label">请</span><span class="lc-number" id="lc-number">' +
      esc(c.number) + '</span><span class="lc-label">号</span></span><span class="lc-line"><span class="lc-label">到</span>' +
      '<span class="lc-window" id="lc-window">' + esc(c.window_name || c.window) + '</span><span class="lc-label">办理</span></span>';
    if (flash) { el.classList.remove("flash"); void el.offsetWidth; el.classList.add("flash"); }
  }
  function showCalls() {
    const others = recent.filter(function (c) { return !shown || c.number !== shown.number; });
    $("calls").innerHTML = others.slice(0, 4).map(function (c) {
      return '<li><b class="c-num">' + esc(c.number) + '</b><span class="c-win">' + esc(c.window_name || c.window) + "</span></li>";
    }).join("");
  }
  function pump() {
    clearTimeout(timer);
    timer = null;
    while (queue.length) {
      if (shown) {
        const left = holdLeft(shown);
        if (left > 0) { timer = setTimeout(pump, left); return; }
        recent = [shown].concat(recent.filter(function (c) { return c.number !== shown.number; })).slice(0, 10);
      }
      shown = queue.shift();
      shown.since = Date.now();
      showLatest(shown, true);
      showCalls();
    }
  }
  function called(ev) {
    const c = callOf(ev.ticket || ev, ev);
    if (c.speaker) (unheard[c.speaker] = unheard[c.speaker] || []).push(c);
    queue.push(c);
    pump();
  }
  function announced(ev) {
    const list = unheard[ev.device];
    if (!list || !list.length) return;   // an announcement that was no call (hwctl, a pause)
    const c = list.shift();
    c.heard = true;
    c.playMs = ev.played ? Number(ev.duration_ms) || 0 : 0;
    pump();
  }
  function forget(device) {  // its reports will not come (the speaker went away, events were lost)
    (device ? [device] : Object.keys(unheard)).forEach(function (d) {
      (unheard[d] || []).forEach(function (c) { c.heard = true; });
      unheard[d] = [];
    });
    pump();
  }

  // -- the panels, page by page -------------------------------------------------------------
  function pager(tbodyId, labelId) {
    const body = $(tbodyId), label = $(labelId), panel = body.closest(".panel");
    let page = 0;
    function layout(advance) {
      const rows = Array.prototype.slice.call(body.rows);
      rows.forEach(function (r) { r.hidden = false; });
      if (!rows.length) { label.textContent = ""; return; }
      const room = panel.getBoundingClientRect().bottom - parseFloat(getComputedStyle(panel).paddingBottom) -
        body.getBoundingClientRect().top;
      const height = Math.max.apply(null, rows.map(function (r) { return r.getBoundingClientRect().height; }));
      const per = Math.max(1, Math.floor((room + 0.5) / height));
      const pages = Math.ceil(rows.length / per);
      page = advance ? (page + 1) % pages : page % pages;
      rows.forEach(function (r, i) { r.hidden = Math.floor(i / per) !== page; });
      label.textContent = pages > 1 ? (page + 1) + "/" + pages : "";
      panel.dataset.pages = String(pages);
      panel.dataset.page = String(page + 1);
    }
    setInterval(function () { layout(true); }, PAGE_MS);
    window.addEventListener("resize", function () { layout(false); });
    layout(false);
    return layout;
  }
  const windowsPager = pager("windows", "windows-page");
  const queuesPager = pager("queues", "queues-page");

  // -- state --------------------------------------------------------------------------------
  async function resync(lost) {
    const r = await HWD.get("/display/state");
    if (!r.ok) return;  // hwd down: keep showing the last calls (系统连接中断 says why)
    if (r.speakers) speakers = r.speakers;
    if (lost) forget(null);
    if ((lost || !shown) && !queue.length && r.latest && (!shown || shown.number !== r.latest.number)) {
      // a call this page missed while its stream was away: show it now, it is the latest
      recent = (r.calls || []).slice(1);
      shown = {number: r.latest.number, window: r.latest.window, window_name: r.latest.window_name,
               speaker: null, since: Date.now() - CALL_MS, heard: true, playMs: 0};
      showLatest(shown, lost);
      showCalls();
    }
    $("windows").innerHTML = (r.windows || []).map(function (w) {
      return '<tr data-state="' + esc(w.state) + '" data-window="' + esc(w.id) + '"><th>' + esc(w.name) + "</th><td>" +
        esc(w.current || "") + "</td><td>" + esc(w.state_name) + "</td></tr>";
    }).join("");
    $("queues").innerHTML = (r.queues || []).map(function (q) {
      return '<tr data-service="' + esc(q.service) + '"><th>' + esc(q.name) + "</th><td>" + esc(q.waiting) + " 人</td></tr>";
    }).join("");
    windowsPager(false);
    queuesPager(false);
  }
  let pending = null;
  function later() { clearTimeout(pending); pending = setTimeout(function () { resync(false); }, 300); }

  // the page as the server drew it: its latest call has had its time
  const first = $("latest-call").dataset.number;
  if (first) {
    shown = {number: first, window: "", window_name: "", speaker: null, since: 0, heard: true, playMs: 0};
    recent = Array.prototype.map.call(document.querySelectorAll("#calls li"), function (li) {
      return {number: li.querySelector(".c-num").textContent, window_name: li.querySelector(".c-win").textContent};
    });
  }

  HWD.live("/live?topic=hall.&topic=speaker.announced&topic=speaker.failed&topic=device.state", {
    "hall.ticket.called": function (ev) { called(ev); later(); },
    "speaker.announced": announced,
    "speaker.failed": function (ev) { announced({device: ev.device, played: false}); },
    "device.state": function (ev) { if (ev.state !== "online" && unheard[ev.device]) forget(ev.device); },
    "hall.ticket.issued": later, "hall.ticket.done": later, "hall.window.state": later,
    "hall.ticket.started": later, "hall.ticket.requeued": later, "hall.ticket.transferred": later,
  }, {
    onResync: function () { resync(true); },
    onStatus: function (ok) { $("offline").hidden = ok; },
  });
})();
