/* The clerk's console: actions by button or key, state from /state, live refresh by SSE. */
"use strict";
(function () {
  const root = document.getElementById("counter");
  const base = root.dataset.base;
  const $ = function (id) { return document.getElementById(id); };
  const KEYS = {n: "call_next", enter: "call_next", r: "recall", x: "no_show", s: "start", f: "finish",
                t: "transfer", p: "pause", u: "resume"};
  const STATES = {open: "空闲", called: "已叫号", serving: "办理中", paused: "暂停服务", closed: "未开放"};
  let busy = false;
  HWD.clock($("clock"));

  function status(text, bad) { $("status").textContent = text || ""; $("status").className = "status" + (bad ? " bad" : ""); }

  async function refresh() {
    const r = await HWD.get(base + "/state");
    if (!r.ok) { status(r.error || "系统连接中断", true); return; }
    if (!r.logged_in) { window.location.reload(); return; }
    const w = r.window || {};
    const cur = w.current_ticket;
    $("cur-number").textContent = w.current || "—";
    $("cur-info").textContent = cur ? (cur.service_name || "") + (cur.state ? " · " + ({called: "已叫号", serving: "办理中"}[cur.state] || cur.state) : "") : "";
    const state = w.state === "serving" && cur && cur.state === "called" ? "called" : w.state;  // 已叫号 until 开始办理
    $("win-state").textContent = (STATES[state] || state || "") + (state === "paused" && w.reason ? "（" + w.reason + "）" : "");
    $("win-state").dataset.state = state || "";
    matters(r.matters || [], cur);
    r.queues.forEach(function (q) { const td = document.querySelector('[data-q="' + q.service + '"]'); if (td) td.textContent = q.waiting + " 人"; });
    const tb = $("counts").querySelector("tbody");
    tb.innerHTML = "";
    (r.counts || []).forEach(function (c) {
      const tr = document.createElement("tr");
      tr.dataset.key = c.key;
      tr.innerHTML = "<th>" + HWD.esc(c.name) + "</th><td>" + HWD.esc(c.value) + "</td>";
      tb.appendChild(tr);
    });
  }

  let matterFor = null;  // the ticket the matter list was made for: a refresh keeps the clerk's pick
  function matters(list, cur) {
    const box = $("matter-box"), sel = $("matter");
    const key = cur ? cur.id + ":" + list.map(function (m) { return m.id; }).join(",") : null;
    box.hidden = !cur || list.length === 0;
    if (key === matterFor) return;
    matterFor = key;
    sel.innerHTML = "";
    list.forEach(function (m) {
      const o = document.createElement("option");
      o.value = m.id; o.textContent = m.name;
      if (cur && cur.matter_id === m.id) o.selected = true;
      sel.appendChild(o);
    });
  }

  async function act(action, body) {
    if (busy) return;
    if ((action === "start" || action === "finish") && !$("matter-box").hidden) body = {matter: $("matter").value};
    if (action === "transfer" && !body) { $("transfer").hidden = false; return; }
    if (action === "pause" && !body) { $("pause").hidden = false; return; }
    busy = true;
    const r = await HWD.api(base + "/api/" + action, body || {});
    busy = false;
    if (r.ok) {
      status(r.info || "已完成");
    } else {
      status(r.error || "操作没有成功", true);
      if (r.code === 1108) setTimeout(function () { window.location.reload(); }, 800);
    }
    refresh();
  }
  $("buttons").addEventListener("click", function (e) {
    const b = e.target.closest("button[data-action]"); if (b) act(b.dataset.action);
  });
  $("transfer").addEventListener("click", function (e) {
    const b = e.target.closest("button"); if (!b) return;
    $("transfer").hidden = true;
    if (b.dataset.service) act("transfer", {service: b.dataset.service});
  });
  $("pause").addEventListener("click", function (e) {
    const b = e.target.closest("button"); if (!b) return;
    $("pause").hidden = true;
    if (b.dataset.reason) act("pause", {reason: b.dataset.reason});
  });
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey || e.target.tagName === "INPUT") return;
    if (e.key === "Escape") { $("transfer").hidden = true; $("pause").hidden = true; return; }
    const action = KEYS[e.key.toLowerCase()];
    if (action && $("transfer").hidden && $("pause").hidden) { e.preventDefault(); act(action); }
  });

  HWD.live("/live?topic=hall.", {
    "hall.ticket.issued": refresh, "hall.ticket.called": refresh, "hall.ticket.done": refresh,
    "hall.ticket.started": refresh, "hall.ticket.requeued": refresh, "hall.ticket.transferred": refresh,
    "hall.window.state": refresh,
  }, {onResync: refresh, onStatus: function (ok) { status(ok ? "" : "系统连接中断", !ok); }});
  refresh();
})();
