/* The lockers on the admin pages: reloaded the moment hwd raises or clears an alarm, or a result
   is deposited or picked up (hall.locker.alarm, hall.pickup.*). */
"use strict";
(function () {
  if (window.HWD_PICKUP_LIVE) return;   // the dashboard and the page both include it once
  window.HWD_PICKUP_LIVE = true;
  let pending = null;
  function later() { clearTimeout(pending); pending = setTimeout(function () { window.location.reload(); }, 800); }
  HWD.live("/live?topic=hall.locker.alarm&topic=hall.pickup.", {
    "hall.locker.alarm": later, "hall.pickup.deposited": later, "hall.pickup.picked": later,
  }, {});
})();
