/* On the "hwd is down" page: try again every 5 seconds. */
"use strict";
setTimeout(function () { window.location.reload(); }, 5000);
