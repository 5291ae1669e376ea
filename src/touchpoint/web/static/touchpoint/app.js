// Behaviour of every page, in a static file: the Content-Security-Policy allows no inline script
// (no <script> without src, no on…= attribute, no hx-on). Listeners sit on the document, so content
// htmx swaps in later behaves the same.
"use strict";

// <select data-submit-on-change>: choosing an option submits its form (the language switcher, filters).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-submit-on-change") && target.form) {
    target.form.submit();
  }
});

// <input data-select-on-click>: a click selects the whole value, ready to copy (shared links).
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target instanceof HTMLInputElement && target.hasAttribute("data-select-on-click")) {
    target.select();
  }
});
