/* The service guide page: print the notice on the kiosk printer (or the browser's), idle → home;
   its prompt spoken on arrival, 长辈 mode as the kiosk left it. */
"use strict";
(function () {
  const root = document.getElementById("guide");
  const $ = function (id) { return document.getElementById(id); };
  let timer = null;
  KIOSK_AIDS.init({base: root.dataset.base, voice: root.dataset.voice === "1"});
  KIOSK_AIDS.say({prompt: "notice", service: root.dataset.service});
  function arm() { clearTimeout(timer); timer = setTimeout(function () { KIOSK_AIDS.elder(false); window.location.href = root.dataset.home; }, Number(root.dataset.idle) * 1000); }
  ["pointerdown", "keydown"].forEach(function (t) { document.addEventListener(t, arm, true); });
  arm();
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  $("message-ok").addEventListener("click", function () { $("message").hidden = true; });
  $("print-notice").addEventListener("click", async function () {
    if (!root.dataset.print) { window.print(); return; }
    const r = await HWD.api(root.dataset.print, {});
    $("message-text").textContent = r.ok ? "告知单已打印，请取走" : (r.error || "打印没有成功");
    $("message").hidden = false;
  });
})();
