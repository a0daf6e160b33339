// Refreshes the statistics table's rows from the server every 5 s: no full reload, no library.
// The rows come rendered (sparklines included) from the same origin; CSP allows only this file.
(function () {
  "use strict";
  var table = document.getElementById("stats");
  if (!table) { return; }
  var url = table.getAttribute("data-rows");
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "accept": "text/html" } })
      .then(function (answer) {
        if (!answer.ok || answer.redirected) { throw new Error("status " + answer.status); }
        return answer.text();
      })
      .then(function (html) { table.tBodies[0].innerHTML = html; })
      .catch(function () { /* keep the last rows; the next tick tries again */ });
  }
  setInterval(refresh, 5000);
}());
