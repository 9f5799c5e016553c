/* The virtual hall's lockers: every door open or shut and the result it holds
   (/admin/pickup/doors), read again the moment a door opens for a deposit or a pickup, a result is
   deposited or picked up, or an alarm changes; an open emulated door has 关门 (somebody shuts it). */
"use strict";
(function () {
  const box = document.getElementById("vh-lockers");
  if (!box) return;
  const esc = HWD.esc;
  function door(locker, d, demo) {
    const cls = "door " + (d.state === "open" ? "open" : "shut") + (d.jammed ? " jammed" : "") + (d.holds ? " held" : "");
    const shut = demo && locker.emulated && d.state === "open"
      ? '<button type="button" class="small dark" data-device="' + esc(locker.device) + '" data-door="' + d.door + '">关门</button>' : "";
    return '<li class="' + cls + '" data-door="' + d.door + '"><b>' + d.door + "</b>" +
      "<span>" + (d.state === "open" ? "开" : d.state === "closed" ? "关" : "?") + (d.jammed ? " 卡住" : "") + "</span>" +
      (d.holds ? "<small>" + esc(d.holds) + " " + esc(d.deposit_state) + "</small>" : "") + shut + "</li>";
  }
  async function refresh() {
    const r = await HWD.get(box.dataset.doors);
    if (!r.ok) return;
    document.getElementById("vh-locker-doors").innerHTML = r.lockers.map(function (l) {
      return "<h3>" + esc(l.device) + (l.online ? "" : "（离线）") + '</h3><ol class="locker-doors" data-device="' +
        esc(l.device) + '">' + l.doors.map(function (d) { return door(l, d, r.demo); }).join("") + "</ol>";
    }).join("");
  }
  box.addEventListener("click", async function (e) {
    const b = e.target.closest("button[data-door]");
    if (!b) return;
    b.disabled = true;
    await HWD.api(box.dataset.shut.replace("DEVICE", encodeURIComponent(b.dataset.device)).replace(/0\/shut$/, b.dataset.door + "/shut"), {});
    setTimeout(refresh, 300);
  });
  let pending = null;
  function later() { clearTimeout(pending); pending = setTimeout(refresh, 300); }
  HWD.live("/live?topic=hall.pickup.&topic=hall.locker.alarm", {
    "hall.pickup.loading": later, "hall.pickup.deposited": later, "hall.pickup.opened": later,
    "hall.pickup.picked": later, "hall.locker.alarm": later,
  }, {onResync: refresh});
  refresh();
})();
