/* The kiosk: screens, ID card greeting, ticket, check-in, inactivity, PIN exit.
   The card: the greeting stays while the card lies on the reader, across the kiosk's screens and
   pages (a reloaded page asks /card); hwd renews its token while it lies there (idcard.renewed);
   when a token runs out anyway the page says so plainly. */
"use strict";
(function () {
  const root = document.getElementById("kiosk");
  const base = root.dataset.base;
  const idleMs = Number(root.dataset.idle) * 1000;
  const ticketMs = Number(root.dataset.ticketS) * 1000;
  let card = null, code = "", pin = "", idleTimer = null, busy = false, cardTimer = null, used = false;
  let linkMessage = false;  // the message on screen is "系统连接中断": it goes when the link returns
  const $ = function (id) { return document.getElementById(id); };

  HWD.clock($("clock"));
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });

  function show(name) {
    document.querySelectorAll(".screen").forEach(function (s) { s.classList.toggle("active", s.id === "screen-" + name); });
    root.dataset.screen = name;
    armIdle(name === "ticket" ? ticketMs : idleMs);
  }
  function categories(dept) {
    const depts = $("depts");
    if (!depts) return;
    depts.hidden = !!dept;
    $("services").hidden = !dept;
    $("dept-back").hidden = !dept;
    document.querySelectorAll("#services button.svc").forEach(function (b) { b.hidden = b.dataset.dept !== dept; });
  }
  if ($("depts")) {
    $("depts").addEventListener("click", function (e) {
      const b = e.target.closest("button[data-dept]"); if (b) categories(b.dataset.dept);
    });
    $("dept-back").addEventListener("click", function () { categories(null); });
  }
  function home() {
    categories(null);
    code = ""; $("code").textContent = "";
    $("message").hidden = true; $("pin").hidden = true;
    show("home");
    refresh();
  }
  /* the card on the reader: greet, remember its token, and watch the token's life */
  function setCard(ev) {
    if (!ev || !ev.card_token || used) return;  // one ticket per placement of the card
    card = ev;
    $("greet").textContent = (ev.name || "") + " 您好";
    $("greet").hidden = false;
    $("card-notice").hidden = true;
    $("lead").textContent = "请选择办理事项";
    clearTimeout(cardTimer);
    if (ev.ttl_s) cardTimer = setTimeout(expired, Number(ev.ttl_s) * 1000);
  }
  function clearCard(notice) {
    card = null; clearTimeout(cardTimer);
    $("greet").hidden = true; $("lead").textContent = "请选择办理事项，或刷身份证取号";
    $("card-notice").textContent = notice || "";
    $("card-notice").hidden = !notice;
  }
  function expired() {
    clearCard("身份证信息已过期：请把身份证从读卡区取下，再重新放上");
  }
  async function loadCard() {
    const r = await HWD.get(base + "/card");
    if (r.ok && r.card) setCard(r.card);
  }
  function armIdle(ms) {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () {
      if (root.dataset.screen !== "home" || card) { if (card) used = true; clearCard(); home(); }
    }, ms);
  }
  ["pointerdown", "keydown"].forEach(function (t) {
    document.addEventListener(t, function () { armIdle(root.dataset.screen === "ticket" ? ticketMs : idleMs); }, true);
  });
  function message(text, link) { $("message-text").textContent = text; $("message").hidden = false; linkMessage = !!link; }
  $("message-ok").addEventListener("click", function () { $("message").hidden = true; linkMessage = false; });
  document.querySelectorAll("[data-home]").forEach(function (b) { b.addEventListener("click", home); });
  $("go-checkin").addEventListener("click", function () { show("checkin"); });
  $("go-guide").addEventListener("click", function () { show("guide"); });

  function showTicket(t) {
    $("t-service").textContent = t.service_name;
    $("t-number").textContent = t.number;
    $("t-wait").textContent = (t.waiting_ahead == null || t.state && t.state !== "waiting") ? "" :
      "前面还有 " + t.waiting_ahead + " 人等候" + (t.wait_text ? "，" + t.wait_text : "");
    $("t-priority").textContent = t.priority_text || ""; $("t-priority").hidden = !t.priority_text;
    $("t-checked").hidden = !t.checked_in;
    $("t-print").textContent = t.checked_in ? "本次没有再打印号票（首次签到时已打印）" :
      (t.printed ? "请取走打印的号票" : t.print_message);
    $("t-print").className = "t-print" + (t.printed || t.checked_in ? "" : " warn");
    $("t-qr").innerHTML = t.qr_svg;  // server-made SVG
    $("t-qr-hint").textContent = t.qr_hint || ""; $("t-qr-hint").hidden = !t.qr_hint;
    if (card) { used = true; clearCard(); }
    show("ticket");
  }
  async function run(url, body) {
    if (busy) return;
    busy = true; $("busy").hidden = false;
    const r = await HWD.api(url, body);
    busy = false; $("busy").hidden = true;
    if (r.ok && r.ticket) showTicket(r.ticket);
    else if (r.code === 1113) { expired(); message(r.error || "身份证信息已过期，请重新放置身份证"); }
    else message(r.error || "操作没有成功，请重试或到服务台咨询", r.code === "unreachable");
  }
  $("services").addEventListener("click", function (e) {
    const b = e.target.closest("button.svc");
    if (!b) return;
    run(base + "/api/ticket", {service: b.dataset.service, card_token: card ? card.card_token : null});
  });

  function typed(key, box, value, max) {
    if (key === "back") return value.slice(0, -1);
    if (key === "clear") return "";
    return value.length < max ? value + key : value;
  }
  $("keypad").addEventListener("click", function (e) {
    const b = e.target.closest("button"); if (!b) return;
    code = typed(b.dataset.key, $("code"), code, 32); $("code").textContent = code;
  });
  $("checkin-ok").addEventListener("click", function () {
    if (!code) { message("请输入预约码"); return; }
    run(base + "/api/checkin", {code: code});
  });

  /* hidden exit: five taps on the top-left corner within three seconds, then the PIN */
  let taps = [];
  $("corner").addEventListener("click", function () {
    const now = Date.now();
    taps = taps.filter(function (t) { return now - t < 3000; }).concat([now]);
    if (taps.length >= 5) { taps = []; pin = ""; $("pin-box").textContent = ""; $("pin").hidden = false; }
  });
  $("pinpad").addEventListener("click", async function (e) {
    const b = e.target.closest("button"); if (!b) return;
    const k = b.dataset.key;
    if (k === "cancel") { $("pin").hidden = true; return; }
    if (k === "ok") {
      const r = await HWD.api(base + "/api/unlock", {pin: pin});
      pin = ""; $("pin-box").textContent = "";
      if (r.ok) window.location.href = r.next; else { $("pin").hidden = true; message(r.error || "密码不正确"); }
      return;
    }
    pin = pin.length < 12 ? pin + k : pin; $("pin-box").textContent = "●".repeat(pin.length);
  });

  async function refresh() {
    const r = await HWD.get(base + "/state");
    if (!r.ok) return;
    $("closed").hidden = r.hours.open; $("closed").textContent = r.hours.message;
    if (r.printer) printer(r.printer);
    r.services.forEach(function (s) {
      const b = document.querySelector('button.svc[data-service="' + s.id + '"] .svc-wait');
      if (b) b.innerHTML = s.waiting == null ? "" : "等候 <b>" + Number(s.waiting) + "</b> 人";
    });
  }
  setInterval(function () { if (root.dataset.screen === "home") refresh(); }, 30000);

  function printer(p) {
    $("printer-notice").textContent = p.message || "";
    $("printer-notice").hidden = !!p.ok;
  }

  HWD.live(base + "/live", {
    "idcard.inserted": function (ev) { used = false; setCard(ev); show("home"); },
    "idcard.renewed": setCard,
    "idcard.removed": function () { used = false; clearCard(); },
    "device.state": function (ev) { if (ev.kind === "printer") refresh(); },
    "hall.checkin": async function (ev) {
      if (ev.kiosk !== root.dataset.kiosk || busy) return;  // a scanned code: the engine checked it in
      busy = true; $("busy").hidden = false;
      const r = await HWD.get(base + "/ticket/" + Number(ev.ticket) + (ev.again ? "?again=1" : ""));
      busy = false; $("busy").hidden = true;
      if (r.ok && r.ticket) showTicket(r.ticket); else message(r.error || "签到没有成功，请到服务台咨询");
    },
    "hall.checkin.failed": function (ev) {
      if (ev.kiosk === root.dataset.kiosk) message(ev.message || "签到没有成功，请到服务台咨询");
    },
    "hall.ticket.issued": function () { if (root.dataset.screen === "home") refresh(); },
  }, {onResync: function () { refresh(); loadCard(); }, onStatus: function (ok) {
    $("offline").hidden = ok;
    if (ok && linkMessage) { $("message").hidden = true; linkMessage = false; }
  }});
  show("home");
  loadCard();
})();
