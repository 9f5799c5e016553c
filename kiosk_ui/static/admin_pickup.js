/* The lockers on the admin pages: reloaded the moment hwd raises or clears an alarm, or a result
   is deposited or picked up (hall.locker.alarm, hall.pickup.*); and checked against hwd once the
   page has connected (an alarm raised while it loaded) and every 30 s. */
"use strict";
(function () {
  if (window.HWD_PICKUP_LIVE) return;   // the dashboard and the page both include it once
  window.HWD_PICKUP_LIVE = true;
  const box = document.querySelector("[data-pickup-state]");
  let pending = null;
  function later() { clearTimeout(pending); pending = setTimeout(function () { window.location.reload(); }, 800); }
  async function check() {
    if (!box) return;
    const r = await HWD.get(box.dataset.pickupState);
    if (!r.ok) return;
    const now = r.summary.alarms.map(function (a) { return a.id; }).join(",") + "/" + r.summary.waiting;
    if (now !== box.dataset.seen) later();
  }
  HWD.live("/live?topic=hall.locker.alarm&topic=hall.pickup.", {
    "hall.locker.alarm": later, "hall.pickup.deposited": later, "hall.pickup.picked": later,
  }, {onResync: check});
  setTimeout(check, 1500);
  setInterval(check, 30000);
})();
