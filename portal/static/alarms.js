/* Alarms page: say so when an alarm is raised or cleared while the page is open. */
(function () {
  "use strict";
  document.addEventListener("cp:alarm", function () {
    var notice = document.getElementById("alarms-changed");
    if (notice) notice.hidden = false;
  });
})();
