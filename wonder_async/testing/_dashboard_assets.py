"""The dashboard's static files: its style sheet, its script and its icon.

The pages work without the script; it only refreshes them while nobody is typing.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CSS", "ICON", "JS"]

CSS: Final = """
:root { color-scheme: light dark; --muted: #666; --line: #ccc; --accent: #0b57d0; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; }
header { background: #1d2733; color: #fff; padding: .5em 1em; display: flex;
  flex-wrap: wrap; gap: 1em; align-items: center; }
header a { color: #fff; } header a[aria-current] { font-weight: bold; text-decoration: none; }
header nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 1em; margin: 0;
  padding: 0; }
header .brand { font-weight: bold; }
header label { margin-left: auto; font-size: .9em; }
main { padding: 0 1em 2em; max-width: 72em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; width: 100%; }
caption { text-align: left; font-weight: bold; padding: .3em 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3em .5em; text-align: left;
  vertical-align: top; }
thead th { border-bottom: 2px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
form.inline { display: inline; }
form.row { display: flex; flex-wrap: wrap; gap: .5em; align-items: end; margin: .5em 0 1em; }
form.row label { display: flex; flex-direction: column; font-size: .9em; }
input[type=search], input[type=text] { min-width: 20em; padding: .3em; font: inherit; }
button { font: inherit; padding: .2em .7em; cursor: pointer; }
button.danger { color: #b00020; }
.muted { color: var(--muted); }
.state { font-weight: bold; }
.state-success, .state-paid, .state-completed { color: #137333; }
.state-failed, .state-error { color: #b00020; }
.state-pending { color: #b06000; }
pre { background: rgba(127,127,127,.12); padding: .6em; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; }
p.notice { border-left: 4px solid var(--accent); padding: .3em .7em;
  background: rgba(11,87,208,.08); }
p.error { border-left: 4px solid #b00020; padding: .3em .7em; }
a.skip { position: absolute; left: -9999px; }
a.skip:focus { left: 1em; top: .5em; background: #fff; color: #000; padding: .3em .6em;
  z-index: 1; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
section.delivery { border-top: 1px solid var(--line); padding-top: .3em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1.5em; }
dt { font-weight: bold; } dd { margin: 0; }
tr.sub > td { border-bottom: 1px solid var(--line); padding-top: 0; }
tr.sub table { margin: 0 0 .5em; font-size: .92em; }
tr.sub caption { font-weight: normal; font-style: italic; }
"""

#: Live refresh without losing anything: it skips a round while a field has focus, text is
#: selected or a <details> is open, and is switched off by the header's checkbox.
JS: Final = """
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box) { return; }
  box.parentElement.hidden = false;
  box.checked = localStorage.getItem("wonder-dashboard-live") !== "off";
  box.addEventListener("change", function () {
    localStorage.setItem("wonder-dashboard-live", box.checked ? "on" : "off");
  });
  function busy() {
    var a = document.activeElement;
    if (a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) { return true; }
    if (String(window.getSelection()).length) { return true; }
    return document.querySelector("main details[open]") !== null;
  }
  function tick() {
    if (!box.checked || busy() || document.hidden) { return; }
    fetch(location.href, {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (text) {
      if (text === null || busy()) { return; }
      var doc = new DOMParser().parseFromString(text, "text/html");
      var fresh = doc.querySelector("main"), main = document.querySelector("main");
      if (fresh && main && fresh.innerHTML !== main.innerHTML) {
        main.innerHTML = fresh.innerHTML;
      }
    }).catch(function () {});
  }
  setInterval(tick, 1500);
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-copy]");
    if (!b || !navigator.clipboard) { return; }
    var pre = document.getElementById(b.getAttribute("data-copy"));
    navigator.clipboard.writeText(pre.textContent).then(function () {
      b.textContent = "Copied";
    });
  });
})();
"""

#: A small "W" tile, so browsers do not ask for /favicon.ico (a 404 in every console).
ICON: Final = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#1d2733"/>'
    '<path d="M3 4l2 8 3-6 3 6 2-8" fill="none" stroke="#fff" stroke-width="1.6"/></svg>'
)
