/* The clerk's console: actions by button or key, state from /state, live refresh by SSE. A button
   is enabled only when the engine would take its action now; the window's own devices are watched
   (a call on a dead window screen is said so); the last service's rating shows when it arrives. */
"use strict";
(function () {
  const root = document.getElementById("counter");
  const base = root.dataset.base;
  const windowId = root.dataset.window;
  const devices = (root.dataset.devices || "").split(" ").filter(Boolean);
  const $ = function (id) { return document.getElementById(id); };
  const KEYS = {n: "call_next", enter: "call_next", r: "recall", x: "no_show", s: "start", f: "finish",
                t: "transfer", p: "pause", u: "resume"};
  const STATES = {open: "空闲", called: "已叫号", serving: "办理中", paused: "暂停服务", closed: "未开放"};
  let busy = false;
  let why = {};   // action -> why it cannot be done now ("" when it can)
  HWD.clock($("clock"));

  function status(text, bad) { $("status").textContent = text || ""; $("status").className = "status" + (bad ? " bad" : ""); }

  /* Why each action cannot be done now, by the engine's rules (hwd/hall core): "" = it can. */
  function reasons(w, cur, waiting, minRecalls) {
    const st = w.state;
    const called = !!cur && cur.state === "called";
    const inHand = !!cur && (cur.state === "called" || cur.state === "serving");
    const none = "当前没有正在办理的号";
    return {
      call_next: st === "paused" ? "窗口已暂停服务" : st === "closed" ? "窗口未开放" :
        cur ? "请先办结或过号当前的" + cur.number + "号" : waiting > 0 ? "" : "当前没有等候的号",
      recall: called ? "" : cur ? "已开始办理，不能重呼" : none,
      no_show: !called ? (cur ? "已开始办理，不能过号" : none) :
        (cur.recalls || 0) < minRecalls ? "请先重呼" + minRecalls + "次再过号" : "",
      start: called ? "" : cur ? "已在办理中" : none,
      finish: inHand ? "" : none,
      transfer: inHand ? "" : none,
      pause: st === "paused" ? "窗口已暂停服务" : st === "closed" ? "窗口未开放" : "",
      resume: st === "paused" ? "" : "窗口未暂停",
    };
  }
  function showButtons() {
    document.querySelectorAll("#buttons button[data-action]").forEach(function (b) {
      const reason = why[b.dataset.action] || "";
      b.disabled = !!reason || busy;
      b.title = reason;
    });
  }

  async function refresh() {
    const r = await HWD.get(base + "/state");
    if (!r.ok) { status(r.error || "系统连接中断", true); return; }
    if (!r.logged_in) { window.location.reload(); return; }
    const w = r.window || {};
    const cur = w.current_ticket;
    $("cur-number").textContent = w.current || "—";
    $("cur-priority").textContent = cur && cur.priority_name ? cur.priority_name + "优先" : "";
    $("cur-priority").hidden = !(cur && cur.priority_name);
    $("cur-info").textContent = cur ? (cur.service_name || "") + (cur.state ? " · " + ({called: "已叫号", serving: "办理中"}[cur.state] || cur.state) : "") : "";
    const state = w.state === "serving" && cur && cur.state === "called" ? "called" : w.state;  // 已叫号 until 开始办理
    $("win-state").textContent = (STATES[state] || state || "") + (state === "paused" && w.reason ? "（" + w.reason + "）" : "");
    $("win-state").dataset.state = state || "";
    matters(r.matters || [], cur);
    let waiting = 0;
    r.queues.forEach(function (q) {
      waiting += q.waiting;
      const td = document.querySelector('[data-q="' + q.service + '"]'); if (td) td.textContent = q.waiting + " 人";
    });
    const tb = $("counts").querySelector("tbody");
    tb.innerHTML = "";
    (r.counts || []).forEach(function (c) {
      const tr = document.createElement("tr");
      tr.dataset.key = c.key;
      tr.innerHTML = "<th>" + HWD.esc(c.name) + "</th><td>" + HWD.esc(c.value) + "</td>";
      tb.appendChild(tr);
    });
    const down = (r.devices || []).filter(function (d) { return d.problem; });
    $("dev-warn").textContent = down.map(function (d) {
      return d.name + d.problem + (d.role === "display" ? "：群众看不到叫号，请口头招呼" : "");
    }).join("；");
    $("dev-warn").hidden = !down.length;
    why = reasons(w, cur, waiting, r.min_recalls || 0);
    showButtons();
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
    if (busy || why[action]) return;
    if ((action === "start" || action === "finish") && !$("matter-box").hidden) body = {matter: $("matter").value};
    if (action === "transfer" && !body) { $("transfer").hidden = false; return; }
    if (action === "pause" && !body) { $("pause").hidden = false; return; }
    busy = true;
    showButtons();
    const r = await HWD.api(base + "/api/" + action, body || {});
    busy = false;
    if (r.ok) {
      status(r.info || "已完成", !!r.warning);
    } else {
      status(r.error || "操作没有成功", true);
      if (r.code === 1108) setTimeout(function () { window.location.reload(); }, 800);
    }
    refresh();
  }
  function rated(ev) {
    if (String(ev.window) !== windowId) return;
    const el = $("last-rating");
    if (ev.score === undefined) {
      el.textContent = (ev.number || "") + " 未评价";
      el.dataset.bad = "";
    } else {
      el.textContent = (ev.number || "") + " 评价：" + (ev.level || ev.score) + (ev.channel_name ? "（" + ev.channel_name + "）" : "");
      el.dataset.bad = ev.bad ? "1" : "";
    }
    el.hidden = false;
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

  const topics = "/live?topic=hall.&topic=device.state" + devices.map(function (d) { return "&device=" + encodeURIComponent(d); }).join("");
  HWD.live(topics, {
    "hall.ticket.issued": refresh, "hall.ticket.called": refresh, "hall.ticket.done": refresh,
    "hall.ticket.started": refresh, "hall.ticket.requeued": refresh, "hall.ticket.transferred": refresh,
    "hall.window.state": refresh, "hall.ticket.updated": refresh,
    "hall.rating": rated, "hall.rating.unrated": rated,
    "device.state": function (ev) { if (devices.indexOf(ev.device) >= 0) refresh(); },
  }, {onResync: refresh, onStatus: function (ok) { status(ok ? "" : "系统连接中断", !ok); }});
  refresh();
})();
