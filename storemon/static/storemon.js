// storemon's one script: reports still running refresh themselves, without reloading the page.
// An element marked data-running-report asks the API for that report's state every second; when
// it is done, its row is replaced by the one the server now renders (or, marked
// data-reload="page", the whole page is loaded again). Without this script, the pages still
// work: they refresh themselves by <noscript> meta refresh instead.
"use strict";

function watch(element) {
  const id = element.dataset.runningReport;
  const tick = async () => {
    let answer;
    try {
      answer = await fetch(`/get_report/${encodeURIComponent(id)}`, {
        headers: { Accept: "application/json" },
      });
    } catch (error) {
      setTimeout(tick, 3000); // the service is restarting: try again later
      return;
    }
    if (answer.status === 202) {
      setTimeout(tick, 1000);
      return;
    }
    if (element.dataset.reload === "page") {
      location.reload();
      return;
    }
    const page = await fetch(location.pathname, { headers: { Accept: "text/html" } });
    const fresh = new DOMParser()
      .parseFromString(await page.text(), "text/html")
      .getElementById(element.id);
    if (fresh) {
      element.replaceWith(fresh);
    }
  };
  setTimeout(tick, 500);
}

document.querySelectorAll("[data-running-report]").forEach(watch);
