/* /admin/config: ask before a form marked data-confirm removes or rolls back something (the
   pages' Content-Security-Policy allows no inline handlers). The forms work without it. */
"use strict";
document.addEventListener("submit", function (e) {
  const text = e.target.dataset ? e.target.dataset.confirm : null;
  if (text && !window.confirm(text)) e.preventDefault();
});
