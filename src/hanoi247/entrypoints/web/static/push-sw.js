// The node's service worker for Web Push (no CDN, no third party). A push carries only
// {kind, reference, link, drill}, decrypted by the browser; the text shown comes from the
// officer's language, passed in this script's URL by push.js. A tap opens the link on this
// node: the request with its Acknowledge action open (sign-in still required).
"use strict";

var params = new URL(self.location.href).searchParams;
var ALERT_TEXT = params.get("alert") || "";
var DRILL_TEXT = params.get("drill") || "DRILL";

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = {}; }
  var title = (data.drill ? "[" + DRILL_TEXT + "] " : "") + (data.reference || "hanoi247");
  var link = typeof data.link === "string" && data.link.charAt(0) === "/" && data.link.charAt(1) !== "/"
    ? data.link : "/inbox";
  event.waitUntil(self.registration.showNotification(title, {
    body: ALERT_TEXT,
    tag: data.reference || data.kind || "hanoi247",
    renotify: true,
    requireInteraction: true,
    icon: "/static/favicon.svg",
    data: { link: link }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL(event.notification.data.link, self.location.origin).href;
  event.waitUntil(self.clients.openWindow(target));
});
