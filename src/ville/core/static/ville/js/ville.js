// Progressive enhancement only: every page works without this file.
"use strict";

// Marks the document so that styles can tell when scripts run.
document.documentElement.classList.add("js");

// After a form is sent back with errors, move focus to the error summary so that
// screen-reader and keyboard users start from the list of problems (each one links
// to its field). The script is deferred, so the document is already parsed here.
(function focusErrorSummary() {
  const summary = document.querySelector(".error-summary[tabindex]");
  if (summary && !document.querySelector("[autofocus]")) {
    summary.focus();
  }
})();
