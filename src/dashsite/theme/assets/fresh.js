/* dashsite: "updated 7 min ago" next to each time[data-stale-after], and the stale
   notice once a page is viewed later than its next version was due. No data leaves
   the page; without JavaScript the absolute UTC time stays.
   Also: in a chart's columns and a row of day bars (one tab stop each), the arrow
   keys, Home and End move between the items (a day's incident links move with it). */
(function () {
  "use strict";
  function ago(seconds) {
    var units = [[86400, "day"], [3600, "hour"], [60, "min"]];
    for (var i = 0; i < units.length; i++) {
      var n = Math.floor(seconds / units[i][0]);
      if (n >= 1) return n + " " + units[i][1] + (n > 1 && units[i][1] !== "min" ? "s" : "") + " ago";
    }
    return "just now";
  }
  function span(seconds) {  // like the pages' durations: 45s, 3m 20s, 2h 5m, 3d 4h
    var s = Math.max(0, Math.floor(seconds));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor(s % 3600 / 60) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor(s % 86400 / 3600) + "h";
  }
  function update() {
    var stale = false;
    var newest = NaN;  // the newest collection the page shows
    var times = document.querySelectorAll("time[data-stale-after]");
    for (var i = 0; i < times.length; i++) {
      var time = times[i];
      var at = Date.parse(time.getAttribute("datetime"));
      var limit = Number(time.getAttribute("data-stale-after"));
      if (isNaN(at) || !(limit > 0)) continue;
      newest = isNaN(newest) ? at : Math.max(newest, at);
      var age = Math.max(0, (Date.now() - at) / 1000);
      var late = age > limit;
      stale = stale || late;
      var label = time.nextElementSibling;
      if (label && label.classList.contains("age")) {
        label.textContent = " (" + ago(age) + (late ? ", stale" : "") + ")";
        label.hidden = false;
      }
    }
    // An ongoing incident's duration, counted to now rather than to the build; once its
    // dashboard is stale, only to its newest collection: whether it goes on is not known.
    // (On the index each names its own dashboard's; elsewhere the page's is the one.)
    var since = document.querySelectorAll("[data-since]");
    for (var k = 0; k < since.length; k++) {
      var from = Date.parse(since[k].getAttribute("data-since"));
      if (isNaN(from)) continue;
      var checked = Date.parse(since[k].getAttribute("data-checked"));
      var after = Number(since[k].getAttribute("data-stale-after"));
      var late = isNaN(checked) ? stale : (Date.now() - checked) / 1000 > after;
      var upto = isNaN(checked) ? newest : checked;
      since[k].textContent = late && !isNaN(upto)
        ? "at least " + span((upto - from) / 1000) + " as of the last update"
        : span((Date.now() - from) / 1000);
    }
    document.documentElement.classList.toggle("is-stale", stale);
    var notices = document.querySelectorAll("[data-stale-notice]");
    for (var j = 0; j < notices.length; j++) notices[j].hidden = !stale;
  }
  update();
  setInterval(update, 60000);
  var ROVING = ".chart-hits, .day-bars-roving";
  function stop(item, value) {  // an item's tab stop, and its day's incident links with it
    item.setAttribute("tabindex", value);
    var links = item.parentElement.querySelectorAll(".day-incidents a");
    for (var i = 0; i < links.length; i++) links[i].setAttribute("tabindex", value);
  }
  document.addEventListener("keydown", function (event) {
    var item = event.target;
    var group = item && item.parentElement && item.parentElement.closest(ROVING);
    if (!group || item.parentElement !== group && item.parentElement.parentElement !== group) return;
    var own = group.matches(".day-bars-roving") ? ".day-focus" : "[tabindex]";
    var items = Array.prototype.filter.call(group.querySelectorAll(own), function (el) {
      return el.getClientRects().length > 0;  // not the days a phone hides
    });
    var at = items.indexOf(item);
    if (at < 0) return;
    var to = {ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1,
              Home: 0, End: items.length - 1}[event.key];
    if (to === undefined) return;
    event.preventDefault();
    to = Math.max(0, Math.min(items.length - 1, to));
    stop(item, "-1");
    stop(items[to], "0");
    items[to].focus();
  });
  // A tap on a day shows its detail (like hover and focus do); a second tap opens the day.
  var pointer = "", before = null;
  document.addEventListener("pointerdown", function (event) {
    pointer = event.pointerType;
    before = document.activeElement;  // focus moves on pointerdown: what had it before the tap
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".day-bars-roving a.day-focus");
    if (!link || pointer !== "touch" || link === before) return;
    event.preventDefault();
    var group = link.closest(".day-bars-roving");
    var current = group.querySelector(".day-focus[tabindex='0']");
    if (current) stop(current, "-1");
    stop(link, "0");
    link.focus();
  });
})();
