/* The rating page: wait for hall.rating.requested for this window, five buttons, thanks, idle. */
"use strict";
(function () {
  const root = document.getElementById("rate");
  const win = root.dataset.window;
  const $ = function (id) { return document.getElementById(id); };
  let request = null, deadline = 0, timer = null, back = null;
  HWD.clock($("clock"));
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });

  function show(name) {
    document.querySelectorAll(".rate-screen").forEach(function (s) { s.classList.toggle("active", s.id === "rate-" + name); });
    root.dataset.screen = name;
  }
  function idle() { request = null; clearInterval(timer); show("idle"); }
  function tick() {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) { idle(); return; }
    $("rate-left").textContent = left + " 秒后自动关闭";
  }
  $("rate-buttons").addEventListener("click", async function (e) {
    const b = e.target.closest("button[data-score]");
    if (!b || !request) return;
    const body = {score: Number(b.dataset.score)};  // the pad rates its window's last service
    request = null; clearInterval(timer);
    const r = await HWD.api(root.dataset.base + "/api/rate", body);
    if (!r.ok) { $("message-text").textContent = r.error || "评价没有成功"; $("message").hidden = false;
      setTimeout(function () { $("message").hidden = true; }, 3000); }
    show("thanks");
    clearTimeout(back); back = setTimeout(idle, 5000);
  });
  HWD.live("/live?topic=hall.rating", {
    "hall.rating.requested": function (ev) {
      if (String(ev.window) !== win) return;
      request = ev;
      $("rate-ticket").textContent = ev.number ? ev.number + " 号" : "";
      deadline = Date.now() + 1000 * Number(ev.timeout_s || 30);
      clearInterval(timer); clearTimeout(back);
      timer = setInterval(tick, 500); tick();
      show("ask");
    },
    "hall.rating.unrated": function (ev) {
      if (String(ev.window) === win && request && ev.number === request.number) idle();
    },
    "hall.rating": function (ev) {
      if (String(ev.window) === win && request && (!ev.number || ev.number === request.number)) {
        request = null; clearInterval(timer); show("thanks"); clearTimeout(back); back = setTimeout(idle, 5000);
      }
    },
  }, {onStatus: function (ok) { $("offline").hidden = ok; }});
  idle();
})();
