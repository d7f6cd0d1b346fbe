// Progressive enhancement only: every page works without this file.
// Marks the document so that styles can tell when scripts run.
document.documentElement.classList.add("js");
