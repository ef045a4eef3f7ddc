// storemon's one script: reports still running refresh themselves, and so does the down-now board.
// An element marked data-running-report asks the API for that report's state every second; when
// it is done, its row is replaced by the one the server now renders (or, marked
// data-reload="page", the whole page is loaded again). Without this script, the pages still
// work: they refresh themselves by <noscript> meta refresh instead.
"use strict";

// The element replaced by the one with its id that the server now renders on this page (kept
// if the page no longer has one); returns the element now in the page.
async function replaceWithFresh(element) {
  const page = await fetch(location.pathname, { headers: { Accept: "text/html" } });
  const fresh = new DOMParser()
    .parseFromString(await page.text(), "text/html")
    .getElementById(element.id);
  if (!fresh) {
    return element;
  }
  element.replaceWith(fresh);
  return fresh;
}

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
    await replaceWithFresh(element);
  };
  setTimeout(tick, 500);
}

document.querySelectorAll("[data-running-report]").forEach(watch);

// An element marked data-refresh-every="N" (the overview's down-now board) is replaced every N
// seconds by the one the server now renders on this page.
function refresh(element) {
  const every = Number(element.dataset.refreshEvery) * 1000;
  const tick = async () => {
    try {
      element = await replaceWithFresh(element);
    } catch (error) {
      // the service is restarting: try again at the next tick
    }
    setTimeout(tick, every);
  };
  setTimeout(tick, every);
}

document.querySelectorAll("[data-refresh-every]").forEach(refresh);
