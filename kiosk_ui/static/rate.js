/* The rating page: wait for hall.rating.requested for this window, five buttons, for 不满意 and
   worse one reason step (asked once; 跳过 sends the score without reasons), thanks, idle.
   With the h5 adapter the request carries the province's page and the pad opens it. */
"use strict";
(function () {
  const root = document.getElementById("rate");
  const win = root.dataset.window;
  const $ = function (id) { return document.getElementById(id); };
  const MARGIN_MS = 3000;  // the reason step ends this long before the engine's rating deadline
  let request = null, deadline = 0, timer = null, back = null, pending = null;
  HWD.clock($("clock"));
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });

  function show(name) {
    document.querySelectorAll(".rate-screen").forEach(function (s) { s.classList.toggle("active", s.id === "rate-" + name); });
    root.dataset.screen = name;
  }
  let enrolled = root.dataset.enrolled === "1";
  function idle() { request = null; pending = null; clearInterval(timer); show(enrolled ? "idle" : "off"); }
  function off() { enrolled = false; idle(); }  // not (or no longer) this window's pad: it records nothing
  function thanks() { clearInterval(timer); show("thanks"); clearTimeout(back); back = setTimeout(idle, 5000); }
  function tick() {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (pending) {
      if (deadline - Date.now() <= MARGIN_MS) { send(pending.score, chosen()); return; }
      $("reason-left").textContent = Math.max(0, left - MARGIN_MS / 1000) + " 秒后自动提交";
      return;
    }
    if (left <= 0) { idle(); return; }
    $("rate-left").textContent = left + " 秒后自动关闭";
  }
  function chosen() {
    return Array.prototype.map.call(document.querySelectorAll("#reason-buttons button[aria-pressed=true]"),
      function (b) { return b.dataset.reason; });
  }
  async function send(score, reasons) {
    const req = pending ? pending.request : request;
    if (!req) return;
    const body = {score: score};  // the pad rates its window's last service
    if (reasons && reasons.length) body.reasons = reasons;
    if (req.real_name && $("real-name").checked) body.real_name = true;  // 实名评价, ticked on this rating
    request = null; pending = null; clearInterval(timer);
    const r = await HWD.api(root.dataset.base + "/api/rate", body);
    if (r.code === 1130 || r.code === 1131) { off(); return; }  // not enrolled: say so, never thanks
    if (!r.ok) { $("message-text").textContent = r.error || "评价没有成功"; $("message").hidden = false;
      setTimeout(function () { $("message").hidden = true; }, 3000); idle(); return; }
    thanks();
  }
  function askReasons(score) {
    const box = $("reason-buttons");
    box.textContent = "";
    request.reasons.forEach(function (r) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "reason-btn"; b.dataset.reason = r.code;
      b.setAttribute("aria-pressed", "false"); b.textContent = r.name;
      box.appendChild(b);
    });
    pending = {score: score, request: request};
    show("reasons"); tick();
  }
  $("rate-buttons").addEventListener("click", function (e) {
    const b = e.target.closest("button[data-score]");
    if (!b || !request || pending) return;
    const score = Number(b.dataset.score);
    if (score <= 2 && request.reasons && request.reasons.length) { askReasons(score); return; }
    send(score, null);
  });
  $("reason-buttons").addEventListener("click", function (e) {
    const b = e.target.closest("button[data-reason]");
    if (b) b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
  });
  $("reason-submit").addEventListener("click", function () { if (pending) send(pending.score, chosen()); });
  $("reason-skip").addEventListener("click", function () { if (pending) send(pending.score, null); });
  HWD.live("/live?topic=hall.rating", {
    "hall.rating.requested": function (ev) {
      if (String(ev.window) !== win || !enrolled) return;
      if (ev.h5_url) { location.assign(ev.h5_url); return; }
      request = ev; pending = null;
      $("real-name").checked = false;  // consent is asked afresh for every rating, never kept
      $("real-name-box").hidden = !ev.real_name;
      $("rate-ticket").textContent = ev.number ? ev.number + " 号" : "";
      deadline = Date.now() + 1000 * Number(ev.timeout_s || 30);
      clearInterval(timer); clearTimeout(back);
      timer = setInterval(tick, 500); tick();
      show("ask");
    },
    "hall.rating.unrated": function (ev) {
      const req = pending ? pending.request : request;
      if (String(ev.window) === win && req && ev.number === req.number) idle();
    },
    "hall.rating": function (ev) {
      const req = pending ? pending.request : request;
      if (String(ev.window) === win && req && (!ev.number || ev.number === req.number)) {
        request = null; pending = null; thanks();
      }
    },
  }, {onStatus: function (ok) { $("offline").hidden = ok; }});
  idle();
})();
