/* The admin dashboard's tidal-window banner (潮汐窗口), live: fetched again the moment hwd
   publishes hall.alert (raised, changed, cleared), after a reconnect, and every 30 s while one is
   raised (the longest wait grows without any event). The words come from hwd. */
"use strict";
(function () {
  const box = document.getElementById("tidal-alerts");
  if (!box) return;
  const list = document.getElementById("tidal-list");
  const esc = HWD.esc;
  async function refresh() {
    const r = await HWD.get(box.dataset.url);
    if (!r.ok) return;
    list.innerHTML = r.alerts.map(function (a) {
      return '<li class="tidal" data-service="' + esc(a.service) + '"><span class="tidal-text">' + esc(a.text) +
        "</span> <small>自 " + esc(a.since) + " 起</small></li>";
    }).join("");
    box.hidden = r.alerts.length === 0;
  }
  HWD.live("/live?topic=hall.alert", {"hall.alert": refresh}, {onResync: refresh});
  setInterval(function () { if (!box.hidden) refresh(); }, 30000);
})();
