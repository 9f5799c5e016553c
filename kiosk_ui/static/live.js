/* Shared by every page: JSON calls with the CSRF token, and live events (SSE) with a heartbeat
   watchdog. No library, nothing from the internet. */
"use strict";
window.HWD = (function () {
  const meta = document.querySelector('meta[name="csrf"]');
  const csrf = meta ? meta.content : "";

  async function api(url, body) {
    let resp;
    try {
      resp = await fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json"},
        body: JSON.stringify(body || {}),
      });
    } catch (e) {
      return {ok: false, error: "系统连接中断，请稍候再试"};
    }
    try {
      const data = await resp.json();
      if (data.ok === undefined) data.ok = resp.ok;
      return data;
    } catch (e) {
      return {ok: false, error: "系统连接中断，请稍候再试"};
    }
  }

  async function get(url) {
    try {
      const resp = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      const data = await resp.json();
      if (data.ok === undefined) data.ok = resp.ok;
      return data;
    } catch (e) {
      return {ok: false, error: "系统连接中断，请稍候再试"};
    }
  }

  /* live(url, {topic: fn}, {onResync, onStatus(ok), timeoutMs}) */
  function live(url, handlers, opts) {
    opts = opts || {};
    const timeout = opts.timeoutMs || 5000;
    let es = null, lastBeat = Date.now(), up = true, reopened = false;
    function beat() { lastBeat = Date.now(); }
    function resync() { if (opts.onResync) opts.onResync(); }
    function connect() {
      es = new EventSource(url);
      es.onopen = function () { if (reopened) { reopened = false; resync(); } };
      es.onerror = function () { reopened = true; };
      es.addEventListener("daemon.heartbeat", beat);
      es.addEventListener("resync", function () { beat(); resync(); });
      Object.keys(handlers).forEach(function (topic) {
        es.addEventListener(topic, function (e) {
          beat();
          let data = {};
          try { data = JSON.parse(e.data); } catch (err) { return; }
          handlers[topic](data);
        });
      });
    }
    connect();
    setInterval(function () {
      if (es && es.readyState === 2) { reopened = true; connect(); }  // closed (e.g. a 503): retry
      const ok = Date.now() - lastBeat <= timeout;
      if (ok !== up) {
        up = ok;
        if (opts.onStatus) opts.onStatus(ok);
        if (ok) resync();
      }
    }, 500);
    return {close: function () { if (es) es.close(); }};
  }

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  /* clock(el, hallNow?): the date and time, ticking; with hallNow (hwd's local ISO time when the
     page was made) the hall's clock, as hwd keeps it, whatever this browser's clock says */
  function clock(el, hallNow) {
    const at = hallNow ? Date.parse(String(hallNow).slice(0, 19)) : NaN;
    const skew = isNaN(at) ? 0 : at - Date.now();
    function tick() {
      const d = new Date(Date.now() + skew);
      const p = function (n) { return String(n).padStart(2, "0"); };
      const week = "日一二三四五六"[d.getDay()];
      el.textContent = d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate() + "日 星期" + week +
        " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
    }
    tick();
    setInterval(tick, 1000);
  }

  return {api: api, get: get, live: live, esc: esc, clock: clock, csrf: csrf};
})();
