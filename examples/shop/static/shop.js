// The shop's side of the widget: "咨询客服" buttons open it with their context card, and
// the widget is signed in as the buyer who is signed in here (a single-use SSO ticket
// from the shop's backend), or back to an anonymous visitor after signing out.
(function () {
  "use strict";
  var buyer = document.body.getAttribute("data-buyer") || "";
  // before widget.js runs: a signed-in buyer's widget waits for the ticket instead of making a visitor
  if (buyer && !window.SemotWidget) window.SemotWidget = { member: true };
  function widget(fn) {
    if (window.SemotWidget && window.SemotWidget.__semot) fn(window.SemotWidget);
    else setTimeout(function () { widget(fn); }, 50);
  }
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("button.ask");
    if (!btn) return;
    var ctx = JSON.parse(btn.getAttribute("data-context") || "null");
    widget(function (w) { w.open({ context: ctx }); });
  });
  widget(function (w) {
    w.on("identity", function (who) {
      if (buyer && who.user_id !== buyer) {
        fetch("/semot/ticket", { method: "POST", credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (t) { if (t && t.ticket) w.login(t.ticket); });
      } else if (!buyer && !who.visitor) {
        w.logout();
      }
    });
  });
})();
