/* The 24-hour area's kiosk after hours: pickup by code or ID card, booking a slot, the guide, the
   hours. The screen dims when nobody touches it while the windows are closed, and the touch that
   wakes it does nothing else. When the windows open (or close) the page reloads itself into the
   right mode. */
"use strict";
(function () {
  const root = document.getElementById("area");
  const base = root.dataset.base;
  const idleMs = Number(root.dataset.idle) * 1000;
  const dimMs = Number(root.dataset.dimS) * 1000;
  const codeLength = Number(root.dataset.codeLength) || 8;
  const isOpen = root.dataset.open === "true";
  const $ = function (id) { return document.getElementById(id); };
  const esc = HWD.esc;
  let code = "", pin = "", card = null, idleTimer = null, dimTimer = null, busy = false, opened = [];
  let booking = null;

  HWD.clock($("clock"), root.dataset.now);   // the hall's hours follow hwd's clock: so does this one
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });

  function show(name) {
    document.querySelectorAll(".screen").forEach(function (s) { s.classList.toggle("active", s.id === "screen-" + name); });
    root.dataset.screen = name;
  }
  function home() {
    code = ""; $("code").textContent = ""; opened = []; booking = null;
    $("message").hidden = true; $("confirm").hidden = true; $("pin").hidden = true;
    $("book-services").hidden = false; $("book-days").hidden = true; $("book-lead").textContent = "请选择办理事项";
    show("home");
  }
  function message(text) { $("message-text").textContent = text; $("message").hidden = false; }
  $("message-ok").addEventListener("click", function () { $("message").hidden = true; });
  document.querySelectorAll("[data-home]").forEach(function (b) { b.addEventListener("click", home); });
  document.querySelectorAll("[data-go]").forEach(function (b) {
    b.addEventListener("click", function () { show(b.dataset.go); });
  });

  /* idle: back home, then (after hours) dim; a touch on a dim screen only wakes it */
  function arm() {
    clearTimeout(idleTimer); clearTimeout(dimTimer);
    idleTimer = setTimeout(function () { if (root.dataset.screen !== "home") home(); }, idleMs);
    if (!isOpen && dimMs > 0) dimTimer = setTimeout(function () { $("dim").hidden = false; }, dimMs);
  }
  function wake() { $("dim").hidden = true; arm(); }
  ["pointerdown", "keydown"].forEach(function (t) {
    document.addEventListener(t, function (e) {
      if (!$("dim").hidden) { e.preventDefault(); e.stopPropagation(); wake(); return; }
      arm();
    }, true);
  });
  $("dim").addEventListener("click", function (e) { e.preventDefault(); e.stopPropagation(); });

  /* pickup */
  $("keypad").addEventListener("click", function (e) {
    const b = e.target.closest("button[data-key]"); if (!b) return;
    const k = b.dataset.key;
    if (k === "clear") code = "";
    else if (k === "back") code = code.slice(0, -1);
    else if (code.length < codeLength) code += k;
    $("code").textContent = code;
  });
  async function pickup(body) {
    if (busy) return;
    busy = true; $("busy").hidden = false;
    const r = await HWD.api(base + "/api/pickup", body);
    busy = false; $("busy").hidden = true;
    code = ""; $("code").textContent = "";
    if (!r.ok) { message(r.error || "取件没有成功，请稍后再试"); return; }
    opened = r.doors.map(function (d) { return d.device + ":" + d.door; });
    $("opened-door").textContent = r.doors.map(function (d) { return d.label; }).join("、");
    $("opened-more").textContent = r.doors.length > 1 ? "您有" + r.doors.length + "件办理结果，请逐一取出" : "";
    $("opened-state").textContent = r.not_opened ? "另有" + r.not_opened + "个柜门未能打开，请联系工作人员" : "";
    show("opened");
  }
  $("pickup-ok").addEventListener("click", function () {
    if (code.length !== codeLength) { message("请输入" + codeLength + "位取件码"); return; }
    pickup({code: code});
  });

  /* booking */
  $("book-services").addEventListener("click", async function (e) {
    const b = e.target.closest("button[data-service]"); if (!b) return;
    const service = b.dataset.service, name = b.textContent.trim();
    const r = await HWD.get(base + "/api/slots/" + encodeURIComponent(service));
    if (!r.ok) { message(r.error || "暂时无法预约"); return; }
    if (!r.days.length) { message("近期没有可预约的时段"); return; }
    $("book-lead").textContent = name + "：请选择预约时段";
    $("book-services").hidden = true;
    $("book-days").innerHTML = r.days.map(function (d) {
      return '<div class="book-day"><h3>' + esc(d.date.slice(5)) + " " + esc(d.weekday) + '</h3><div class="book-slots">' +
        d.slots.map(function (s) {
          const full = s.left === 0;
          return '<button type="button" class="slot" data-slot="' + esc(s.start) + '" data-label="' + esc(d.date.slice(5) +
            " " + d.weekday + " " + s.label) + '"' + (full ? " disabled" : "") + ">" + esc(s.label) +
            (full ? "<small>已约满</small>" : s.left == null ? "" : "<small>余" + Number(s.left) + "</small>") + "</button>";
        }).join("") + "</div></div>";
    }).join("");
    $("book-days").hidden = false;
    booking = {service: service, name: name};
  });
  $("book-days").addEventListener("click", function (e) {
    const b = e.target.closest("button[data-slot]"); if (!b || !booking) return;
    booking.slot = b.dataset.slot;
    $("confirm-text").textContent = "预约 " + booking.name + "，" + b.dataset.label + (card ? "（身份证：" + card.name + "）" : "");
    $("confirm").hidden = false;
  });
  $("confirm-no").addEventListener("click", function () { $("confirm").hidden = true; });
  $("confirm-yes").addEventListener("click", async function () {
    $("confirm").hidden = true;
    if (!booking || busy) return;
    busy = true; $("busy").hidden = false;
    const body = {service: booking.service, slot: booking.slot};
    if (card) body.card_token = card.card_token;
    const r = await HWD.api(base + "/api/book", body);
    busy = false; $("busy").hidden = true;
    if (!r.ok) { message(r.error || "预约没有成功"); return; }
    $("booked-what").textContent = r.booking.service_name;
    $("booked-when").textContent = r.booking.date.slice(5) + " " + r.booking.label;
    $("booked-code").textContent = r.booking.code;
    $("booked-print").textContent = r.booking.printed ? "预约凭条已打印，请取走" : (r.booking.print_error || "凭条未打印，请记下预约码");
    $("booked-print").className = "t-print" + (r.booking.printed ? "" : " warn");
    show("booked");
  });

  /* the windows open or close: reload into the right page (only while nobody is using it) */
  setInterval(async function () {
    if (root.dataset.screen !== "home") return;
    const r = await HWD.get(base + "/area/state");
    if (r.ok && r.area && r.area.open !== isOpen) window.location.reload();
  }, 30000);

  /* hidden exit, as the kiosk page: five taps on the top-left corner, then the PIN */
  let taps = [];
  $("corner").addEventListener("click", function () {
    const now = Date.now();
    taps = taps.filter(function (t) { return now - t < 3000; }).concat([now]);
    if (taps.length >= 5) { taps = []; pin = ""; $("pin-box").textContent = ""; $("pin").hidden = false; }
  });
  $("pinpad").addEventListener("click", async function (e) {
    const b = e.target.closest("button[data-key]"); if (!b) return;
    const k = b.dataset.key;
    if (k === "cancel") { $("pin").hidden = true; pin = ""; return; }
    if (k === "ok") {
      const r = await HWD.api(base + "/api/unlock", {pin: pin});
      pin = ""; $("pin-box").textContent = "";
      if (r.ok) window.location.href = r.next; else { $("pin").hidden = true; message(r.error || "密码不正确"); }
      return;
    }
    pin = pin.length < 12 ? pin + k : pin; $("pin-box").textContent = "●".repeat(pin.length);
  });

  HWD.live(base + "/area/live", {
    "idcard.inserted": function (ev) {
      wake();
      card = ev.card_token ? ev : null;
      $("greet").textContent = card ? (card.name || "") + " 您好" : ""; $("greet").hidden = !card;
      if (card && (root.dataset.screen === "pickup" || root.dataset.screen === "home")) pickup({card_token: card.card_token});
    },
    "idcard.renewed": function (ev) { if (ev.card_token) card = ev; },
    "idcard.removed": function () { card = null; $("greet").hidden = true; },
    "hall.pickup.picked": function (ev) {
      if (root.dataset.screen !== "opened" || ev.kiosk !== root.dataset.kiosk) return;
      opened = opened.filter(function (d) { return d !== ev.device + ":" + ev.door; });
      if (!opened.length) { $("opened-state").textContent = "柜门已关好，谢谢！"; setTimeout(home, 4000); }
    },
  }, {onStatus: function (ok) { $("offline").hidden = ok; }});
  home();
  arm();
})();
