// Keeps the timeline of an application page up to date while the tab is visible.
// Progressive enhancement: without it, the "Refresh" link reloads the page.
"use strict";

(function pollTimeline() {
  const region = document.querySelector("[data-poll-url]");
  if (!region || !window.fetch) {
    return;
  }
  const url = region.getAttribute("data-poll-url");
  const seconds = Math.max(5, parseInt(region.getAttribute("data-poll-seconds"), 10) || 15);
  let timer = null;

  // The fragment carries a stamp (lock version and number of events): the region is
  // replaced only when it changes, so that the live region speaks only then.
  function stampOf(root) {
    const marked = root.querySelector("[data-stamp]");
    return marked ? marked.getAttribute("data-stamp") : "";
  }

  async function refresh() {
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
        cache: "no-store",
      });
      if (!response.ok) {
        return;
      }
      const fresh = document.createElement("template");
      fresh.innerHTML = await response.text();
      const stamp = stampOf(fresh.content);
      if (stamp && stamp !== stampOf(region)) {
        region.replaceChildren(fresh.content);
      }
    } catch (error) {
      // Offline for a moment: the next tick tries again.
    }
  }

  function start() {
    if (timer === null) {
      timer = window.setInterval(refresh, seconds * 1000);
    }
  }

  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      refresh();
      start();
    } else {
      stop();
    }
  });
  if (document.visibilityState === "visible") {
    start();
  }
})();
