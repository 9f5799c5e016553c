/* The 24-hour area's kiosk in the daytime: when the windows close, reload (the after-hours page). */
"use strict";
(function () {
  const el = document.getElementById("area-day");
  const kiosk = document.getElementById("kiosk");
  if (!el) return;
  setInterval(async function () {
    if (kiosk && kiosk.dataset.screen && kiosk.dataset.screen !== "home") return;
    const r = await HWD.get(el.dataset.state);
    if (r.ok && r.area && !r.area.open) window.location.reload();
  }, 30000);
})();
