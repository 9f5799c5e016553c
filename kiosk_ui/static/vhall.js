/* The virtual hall, live: every call is added the moment hwd publishes it (hall.ticket.called on
   the event stream), window screens follow display.content, and the emulators' pictures and the
   announcement log are fetched again shortly after something happened (not on a timer). */
"use strict";
(function () {
  const root = document.getElementById("vhall");
  const $ = function (id) { return document.getElementById(id); };
  const esc = HWD.esc;
  function figures(files, cls) {
    return files.map(function (f) {
      return '<figure><img class="' + cls + '" src="' + root.dataset.sim + esc(f.path) + "?v=" + f.mtime +
        '" alt="' + esc(f.name) + '"><figcaption>' + esc(f.path) + "</figcaption></figure>";
    }).join("");
  }
  function screens(texts) {
    $("vh-screens").innerHTML = texts.map(function (t) {
      return '<figure class="mini-led" data-device="' + esc(t.device) + '"><div class="led-lines">' +
        t.lines.map(function (l) { return "<p>" + esc(l) + "</p>"; }).join("") +
        "</div><figcaption>" + esc(t.name || t.device) + ' <small class="dev-id">' + esc(t.device) +
        "</small></figcaption></figure>";
    }).join("");
  }
  function callItem(c) {
    return "<li><b>" + esc(c.number) + "</b> " + esc(c.window_name) + " <small>" + esc(c.at) + "</small></li>";
  }
  async function refresh() {
    const r = await HWD.get(root.dataset.state);
    if (!r.ok) return;
    $("vh-pngs").innerHTML = figures(r.screens, "");
    screens(r.texts);
    if (r.receipts.length) $("vh-receipts").innerHTML = figures(r.receipts, "receipt");
    if (r.announcements.length) $("vh-announce").innerHTML =
      r.announcements.map(function (a) { return "<li>" + esc(a) + "</li>"; }).join("");
  }
  async function resync() {
    await refresh();
    const r = await HWD.get(root.dataset.state);
    if (r.ok && r.calls) $("vh-calls").innerHTML = r.calls.map(callItem).join("") || '<li class="hint">暂无叫号</li>';
  }
  let pending = null;
  function later() { clearTimeout(pending); pending = setTimeout(refresh, 500); }
  function two(n) { return String(n).padStart(2, "0"); }

  HWD.live("/live?topic=hall.ticket.called&topic=display.content&topic=hall.window.state", {
    "hall.ticket.called": function (ev) {
      const d = new Date();
      const empty = $("vh-calls-empty"); if (empty) empty.remove();
      $("vh-calls").insertAdjacentHTML("afterbegin", callItem({
        number: ev.number + (ev.recall ? "（重呼）" : ""), window_name: ev.window_name || ev.window,
        at: two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds())}));
      later();
    },
    "display.content": function (ev) {
      const fig = root.querySelector('.mini-led[data-device="' + CSS.escape(ev.device || "") + '"] .led-lines');
      if (fig) fig.innerHTML = (ev.lines || []).map(function (l) { return "<p>" + esc(l) + "</p>"; }).join("");
      later();
    },
    "hall.window.state": later,
  }, {onResync: resync});
})();
