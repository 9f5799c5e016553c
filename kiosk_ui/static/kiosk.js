/* The kiosk: screens, ID card greeting, ticket, check-in, inactivity, PIN exit.
   The card: the greeting stays while the card lies on the reader, across the kiosk's screens and
   pages (a reloaded page asks /card); hwd renews its token while it lies there (idcard.renewed);
   when a token runs out anyway the page says so plainly. A ticket taken with the card asks for
   the card back (请取回您的身份证和号票) until the reader says it was lifted (idcard.removed).
   Each screen a citizen comes to is spoken (kiosk_aids.js); a screen that changed by itself is not. */
"use strict";
(function () {
  const root = document.getElementById("kiosk");
  const base = root.dataset.base;
  const idleMs = Number(root.dataset.idle) * 1000;
  const ticketMs = Number(root.dataset.ticketS) * 1000;
  let card = null, code = "", pin = "", idleTimer = null, busy = false, cardTimer = null, used = false;
  let present = false;  // a card lies on the reader (whether or not its token is still usable)
  let linkMessage = false;  // the message on screen is "系统连接中断": it goes when the link returns
  const $ = function (id) { return document.getElementById(id); };

  HWD.clock($("clock"));
  KIOSK_AIDS.init({base: base, voice: root.dataset.voice === "1"});
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });

  const PROMPTS = {home: {prompt: "home"}, checkin: {prompt: "checkin"}, guide: {prompt: "guide"}};
  function show(name, spoken) {
    document.querySelectorAll(".screen").forEach(function (s) { s.classList.toggle("active", s.id === "screen-" + name); });
    root.dataset.screen = name;
    armIdle();
    const prompt = spoken === undefined ? PROMPTS[name] : spoken;  // null/false: the screen changed by itself
    if (prompt) KIOSK_AIDS.say(prompt);
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
      const b = e.target.closest("button[data-dept]");
      if (b) { categories(b.dataset.dept); KIOSK_AIDS.say({prompt: "dept"}); }
    });
    $("dept-back").addEventListener("click", function () { categories(null); KIOSK_AIDS.say(PROMPTS.home); });
  }
  function home(spoken) {
    categories(null);
    code = ""; $("code").textContent = "";
    $("message").hidden = true; $("pin").hidden = true;
    show("home", spoken);
    cardNotice();
    refresh();
  }
  /* the card on the reader: greet, remember its token, and watch the token's life */
  function setCard(ev) {
    if (!ev || !ev.card_token) return;
    present = true;
    if (used) { cardNotice(); return; }  // one ticket per placement of the card
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
    $("greet").hidden = true; lead();
    $("card-notice").textContent = notice || "";
    $("card-notice").hidden = !notice;
  }
  /* the home screen's lead points at the card reader only when it can read */
  let readerOk = !!$("help-idcard") && !$("help-idcard").hidden;
  function lead() { if (!card) $("lead").textContent = "请选择办理事项" + (readerOk ? "，或刷身份证取号" : ""); }
  /* a card that already gave its ticket still lies there: say so wherever the citizen looks */
  function cardNotice() {
    if (present && used) clearCard("请取回读卡区上的身份证");
  }
  function expired(silent) {
    clearCard("身份证信息已过期：请把身份证从读卡区取下，再重新放上");
    if (silent !== true) KIOSK_AIDS.say({prompt: "card_expired"});
  }
  let cardEvents = 0;  // reader events seen: an answer of /card older than one of them is stale
  async function loadCard() {
    const seen = cardEvents;
    const r = await HWD.get(base + "/card");
    if (r.ok && r.card && seen === cardEvents) setCard(r.card);
  }
  /* inactivity: back home after idleMs without a touch (the ticket screen after ticketMs), never
     while the citizen acts, and never while a ticket screen still asks for the card back: then,
     after ticketMs, the reminder is said again and the ticket's QR leaves the screen (its link is
     the citizen's: whoever comes next must not scan it) */
  function armIdle() {
    clearTimeout(idleTimer);
    const screen = root.dataset.screen;
    if (screen === "ticket" && !$("t-card").hidden) {
      idleTimer = setTimeout(function () {
        $("t-qr").hidden = true; $("t-qr-hint").hidden = true;
        KIOSK_AIDS.say({prompt: "card_back"});
      }, ticketMs);
      return;
    }
    idleTimer = setTimeout(function () {
      if (root.dataset.screen !== "home" || card || document.documentElement.classList.contains("elder")) {
        if (card) used = true;
        clearCard(); KIOSK_AIDS.elder(false); home(null); KIOSK_AIDS.quiet(PROMPTS.home);
      }
    }, screen === "ticket" ? ticketMs : idleMs);
  }
  ["pointerdown", "keydown"].forEach(function (t) { document.addEventListener(t, armIdle, true); });
  function message(text, link, spoken) {
    $("message-text").textContent = text; $("message").hidden = false; linkMessage = !!link;
    if (spoken) KIOSK_AIDS.say(spoken); else KIOSK_AIDS.quiet({prompt: "again"});  // the server said it
  }
  $("message-ok").addEventListener("click", function () { $("message").hidden = true; linkMessage = false; });
  document.querySelectorAll("[data-home]").forEach(function (b) { b.addEventListener("click", function () { home(undefined); }); });
  $("go-checkin").addEventListener("click", function () { show("checkin"); });
  $("go-guide").addEventListener("click", function () { show("guide"); });

  function showTicket(t, withCard) {
    $("t-service").textContent = t.service_name;
    $("t-number").textContent = t.number;
    $("t-wait").textContent = (t.waiting_ahead == null || t.state && t.state !== "waiting") ? "" :
      "前面还有 " + t.waiting_ahead + " 人等候" + (t.wait_text ? "，" + t.wait_text : "");
    $("t-priority").textContent = t.priority_text || ""; $("t-priority").hidden = !t.priority_text;
    $("t-checked").hidden = !t.checked_in;
    $("t-print").textContent = t.checked_in ? "本次没有再打印号票（首次签到时已打印）" :
      (t.printed ? "请取走打印的号票" : t.print_message);
    $("t-print").className = "t-print" + (t.printed || t.checked_in ? "" : " warn");
    $("t-qr").innerHTML = t.qr_svg; $("t-qr").hidden = false;  // server-made SVG
    $("t-qr-hint").textContent = t.qr_hint || ""; $("t-qr-hint").hidden = !t.qr_hint;
    const askCard = !!withCard && present;
    $("t-card").textContent = t.printed && !t.checked_in ? "请取回您的身份证和号票" : "请取回您的身份证";
    $("t-card").hidden = !askCard;
    if (card) { used = true; clearCard(); }
    show("ticket", {prompt: "ticket", ticket: t.id, card: askCard, again: !!t.checked_in});
  }
  function cardLifted() {
    present = false; used = false; clearCard();
    if (root.dataset.screen === "ticket" && !$("t-card").hidden) {
      $("t-card").hidden = true;
      armIdle();  // the ticket screen may now time out as usual
    }
  }
  async function run(url, body) {
    if (busy) return;
    busy = true; $("busy").hidden = false;
    const viaCard = !!body.card_token;
    const r = await HWD.api(url, body);
    busy = false; $("busy").hidden = true;
    if (r.ok && r.ticket) showTicket(r.ticket, viaCard);
    else if (r.code === 1113) { expired(true); message(r.error || "身份证信息已过期，请重新放置身份证", false); }
    else if (r.code === "unreachable") message(r.error || "系统连接中断", true, {prompt: "offline"});
    else message(r.error || "操作没有成功，请重试或到服务台咨询", false);
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
    if (!code) { message("请输入预约码", false, PROMPTS.checkin); return; }
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
      if (r.ok) window.location.href = r.next; else { $("pin").hidden = true; message(r.error || "密码不正确", false); }
      return;
    }
    pin = pin.length < 12 ? pin + k : pin; $("pin-box").textContent = "●".repeat(pin.length);
  });

  async function refresh() {
    const r = await HWD.get(base + "/state");
    if (!r.ok) return;
    $("closed").hidden = r.hours.open; $("closed").textContent = r.hours.message;
    devices(r.devices || {printer: r.printer});
    r.services.forEach(function (s) {
      const b = document.querySelector('button.svc[data-service="' + s.id + '"] .svc-wait');
      if (b) b.innerHTML = s.waiting == null ? "" : "等候 <b>" + Number(s.waiting) + "</b> 人";
    });
  }
  setInterval(function () { if (root.dataset.screen === "home") refresh(); }, 30000);

  /* the kiosk's own printer, card reader and scanner: what to do instead when one cannot serve */
  function devices(all) {
    ["printer", "idcard", "scanner"].forEach(function (kind) {
      const d = all[kind]; if (!d) return;
      $(kind + "-notice").textContent = d.message || "";
      $(kind + "-notice").hidden = !!d.ok;
      const help = $("help-" + kind);
      if (help) help.hidden = !d.ok;
    });
    if (all.idcard) { readerOk = !!all.idcard.ok && !!$("help-idcard"); lead(); }
  }

  HWD.live(base + "/live", {
    "idcard.inserted": function (ev) { cardEvents++; used = false; setCard(ev); home({prompt: "card"}); },
    "idcard.renewed": setCard,
    "idcard.removed": function () { cardEvents++; cardLifted(); },
    "device.state": function () { refresh(); },
    "hall.checkin": async function (ev) {
      if (ev.kiosk !== root.dataset.kiosk || busy) return;  // a scanned code: the engine checked it in
      busy = true; $("busy").hidden = false;
      const r = await HWD.get(base + "/ticket/" + Number(ev.ticket) + (ev.again ? "?again=1" : ""));
      busy = false; $("busy").hidden = true;
      if (r.ok && r.ticket) showTicket(r.ticket, false);
      else message(r.error || "签到没有成功，请到服务台咨询", false, {prompt: "scan_failed"});
    },
    "hall.checkin.failed": function (ev) {
      if (ev.kiosk === root.dataset.kiosk) message(ev.message || "签到没有成功，请到服务台咨询", false, {prompt: "scan_failed"});
    },
    "hall.ticket.issued": function () { if (root.dataset.screen === "home") refresh(); },
  }, {onResync: function () { refresh(); loadCard(); }, onStatus: function (ok) {
    $("offline").hidden = ok;
    if (ok && linkMessage) { $("message").hidden = true; linkMessage = false; }
  }});
  show("home", false);
  KIOSK_AIDS.quiet(PROMPTS.home);
  loadCard();
})();
