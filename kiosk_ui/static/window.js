/* A web window screen: shows what hwd sends to this window's display device. */
"use strict";
(function () {
  const root = document.getElementById("screen");
  const device = root.dataset.device;
  const box = document.getElementById("lines");
  function show(lines, effect) {
    box.className = "led-lines effect-" + (effect || "static");
    box.innerHTML = (lines || []).map(function (l) { return "<p>" + HWD.esc(l) + "</p>"; }).join("");
  }
  async function resync() { const r = await HWD.get(root.dataset.state); if (r.ok) show(r.lines, r.effect); }
  const url = device ? "/live?topic=display.content&topic=hall.window.state&device=" + encodeURIComponent(device)
                     : "/live?topic=hall.";
  HWD.live(url, {
    "display.content": function (ev) { show(ev.lines, ev.effect); },
    "hall.window.state": function () { if (!device) resync(); },
    "hall.ticket.called": function () { if (!device) resync(); },
  }, {onResync: resync, onStatus: function (ok) { document.getElementById("offline").hidden = ok; }});
})();
