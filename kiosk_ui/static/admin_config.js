/* /admin/config: ask before a form marked data-confirm removes or rolls back something (the
   pages' Content-Security-Policy allows no inline handlers). The forms work without it. */
"use strict";
document.addEventListener("submit", function (e) {
  const text = e.target.dataset ? e.target.dataset.confirm : null;
  if (text && !window.confirm(text)) e.preventDefault();
});
/* a change refused: bring the first field with a problem into view */
document.addEventListener("DOMContentLoaded", function () {
  const problem = document.querySelector("form .field-problem");
  if (!problem) return;
  problem.scrollIntoView({block: "center"});
  const field = problem.closest("label, fieldset");
  const input = field ? field.querySelector("input, select, textarea") : null;
  if (input) input.focus();
});
