/* The kiosk's aids for every citizen (无障碍环境建设法 art. 33; MIIT 适老化): 长辈 mode (larger type,
   kept across the kiosk's pages until the kiosk goes back home by itself) and the spoken prompt
   of each screen on the kiosk's own speaker, repeated by the 语音 button. The words are the
   server's (kiosk_ui/kiosk_voice.py): a page only names the prompt. */
"use strict";
window.KIOSK_AIDS = (function () {
  const KEY = "hwd-kiosk-elder";
  let base = "", voice = false, current = null;

  function elder(on) {
    document.documentElement.classList.toggle("elder", on);
    try { if (on) sessionStorage.setItem(KEY, "1"); else sessionStorage.removeItem(KEY); } catch (e) {}
    const b = document.getElementById("elder");
    if (b) { b.setAttribute("aria-pressed", on ? "true" : "false"); b.textContent = on ? "标准字号" : "长辈模式"; }
  }
  function isElder() { return document.documentElement.classList.contains("elder"); }

  /* the current screen's prompt: said now (when the citizen arrived at the screen), again on 语音 */
  function say(prompt) {
    current = prompt;
    if (voice && prompt) HWD.api(base + "/api/say", prompt);
  }
  function quiet(prompt) { current = prompt; }  // the screen changed by itself: remember, say nothing

  function init(opts) {
    base = opts.base; voice = !!opts.voice;
    let stored = false;
    try { stored = sessionStorage.getItem(KEY) === "1"; } catch (e) {}
    elder(stored);
    const e = document.getElementById("elder");
    if (e) e.addEventListener("click", function () { elder(!isElder()); });
    const v = document.getElementById("voice");
    if (v) v.addEventListener("click", function () { if (current) say(current); });
  }
  return {init: init, say: say, quiet: quiet, elder: elder};
})();
