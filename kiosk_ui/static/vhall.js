/* The virtual hall: refresh the emulators' pictures and the announcement log every 2 seconds. */
"use strict";
(function () {
  const root = document.getElementById("vhall");
  const esc = HWD.esc;
  function figures(files, cls) {
    return files.map(function (f) {
      return '<figure><img class="' + cls + '" src="' + root.dataset.sim + esc(f.path) + "?v=" + f.mtime +
        '" alt="' + esc(f.name) + '"><figcaption>' + esc(f.path) + "</figcaption></figure>";
    }).join("");
  }
  async function refresh() {
    const r = await HWD.get(root.dataset.state);
    if (!r.ok) return;
    document.getElementById("vh-pngs").innerHTML = figures(r.screens, "");
    document.getElementById("vh-screens").innerHTML = r.texts.map(function (t) {
      return '<figure class="mini-led"><div class="led-lines">' + t.lines.map(function (l) { return "<p>" + esc(l) + "</p>"; }).join("") +
        "</div><figcaption>" + esc(t.device) + "</figcaption></figure>";
    }).join("");
    if (r.receipts.length) document.getElementById("vh-receipts").innerHTML = figures(r.receipts, "receipt");
    if (r.announcements.length) document.getElementById("vh-announce").innerHTML =
      r.announcements.map(function (a) { return "<li>" + esc(a) + "</li>"; }).join("");
  }
  setInterval(refresh, 2000);
})();
