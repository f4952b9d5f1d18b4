// Live notifications: keeps the bell's unread count current and shows new ones briefly.
// The page works without this script; it only adds the live updates.
// Socket.IO's client (data-socketio) is fetched once the page has loaded, so that on a slow
// connection it never holds up the page; a page that brings it itself (the live room) shares it.
(function () {
  "use strict";
  var source = document.currentScript && document.currentScript.getAttribute("data-socketio");

  function whenLoaded() {
    if (typeof window.io === "function") {
      start();
    } else if (source) {
      var script = document.createElement("script");
      script.src = source;
      script.onload = start;
      document.head.appendChild(script);
    }
  }
  if (document.readyState === "complete") whenLoaded();
  else window.addEventListener("load", whenLoaded);

  function start() {
    if (typeof window.io !== "function") return;
    var bell = document.querySelector("[data-unread]");
    var toast = document.querySelector("[data-toast]");
    var socket = window.io({ transports: ["websocket", "polling"] });
    var hideTimer = null;
    var leaving = false;

    // Once the page is navigating away (a form posted, e.g. logging out), this socket's news
    // is no longer ours to act on.
    function leave() {
      leaving = true;
      socket.disconnect();
    }
    document.addEventListener("submit", leave);
    window.addEventListener("pagehide", leave);

    socket.on("notification", function (data) {
      if (bell) {
        bell.textContent = String((parseInt(bell.textContent, 10) || 0) + 1);
        bell.hidden = false;
      }
      if (!toast || !data || typeof data.text !== "string") return;
      toast.textContent = "";
      var node = document.createElement(data.link ? "a" : "span");
      node.textContent = data.text; // text, never HTML
      if (data.link && data.link.charAt(0) === "/" && data.link.charAt(1) !== "/") node.href = data.link;
      toast.appendChild(node);
      toast.hidden = false;
      clearTimeout(hideTimer);
      hideTimer = setTimeout(function () { toast.hidden = true; }, 8000);
    });

    // The login behind this page ended (logout elsewhere, password change, deactivation).
    socket.on("session_ended", function () {
      if (leaving) return;
      socket.disconnect();
      window.location.reload();
    });
  }
})();
