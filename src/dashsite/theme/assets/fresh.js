/* dashsite: "updated 7 min ago" next to each time[data-stale-after], and the stale
   notice once a page is viewed later than its next version was due. No data leaves
   the page; without JavaScript the absolute UTC time stays. */
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
  function update() {
    var stale = false;
    var times = document.querySelectorAll("time[data-stale-after]");
    for (var i = 0; i < times.length; i++) {
      var time = times[i];
      var at = Date.parse(time.getAttribute("datetime"));
      var limit = Number(time.getAttribute("data-stale-after"));
      if (isNaN(at) || !(limit > 0)) continue;
      var age = Math.max(0, (Date.now() - at) / 1000);
      var late = age > limit;
      stale = stale || late;
      var label = time.nextElementSibling;
      if (label && label.classList.contains("age")) {
        label.textContent = " (" + ago(age) + (late ? ", stale" : "") + ")";
        label.hidden = false;
      }
    }
    document.documentElement.classList.toggle("is-stale", stale);
    var notices = document.querySelectorAll("[data-stale-notice]");
    for (var j = 0; j < notices.length; j++) notices[j].hidden = !stale;
  }
  update();
  setInterval(update, 60000);
})();
