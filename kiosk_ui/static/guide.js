/* The service guide page: print the notice on the kiosk printer (or the browser's), idle → home. */
"use strict";
(function () {
  const root = document.getElementById("guide");
  const $ = function (id) { return document.getElementById(id); };
  let timer = null;
  function arm() { clearTimeout(timer); timer = setTimeout(function () { window.location.href = root.dataset.home; }, Number(root.dataset.idle) * 1000); }
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
