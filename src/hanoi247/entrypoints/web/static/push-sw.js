// The node's service worker for Web Push (served by the node: no CDN, no third party).
// A push carries only {kind, reference, urgency, link, drill}, encrypted to this browser
// (RFC 8291) and decrypted by it; the words shown come from the officer's language, passed
// in this script's URL by push.js. The title is marked [URGENT] / [EMERGENCY] / [DRILL]
// before the reference. A tap opens the link on this node: the request with its
// Acknowledge action open (sign-in still required), so acknowledging is the second tap.
"use strict";

var params = new URL(self.location.href).searchParams;
function text(name, fallback) { return params.get(name) || fallback; }
var ESCALATIONS = [
  "acknowledgement_missed", "emergency_response_missed", "preservation_confirmation_missed",
  "drill_missed", "peer_acknowledgement_overdue"
];

function titleOf(data) {
  var marks = [];
  if (data.drill) { marks.push("[" + text("drill", "DRILL") + "]"); }
  if (data.urgency === "emergency") { marks.push("[" + text("emergency", "EMERGENCY") + "]"); }
  if (data.urgency === "urgent") { marks.push("[" + text("urgent", "URGENT") + "]"); }
  marks.push(data.reference || "hanoi247");
  return marks.join(" ");
}

function bodyOf(data) {
  if (data.kind === "drill_alert" || data.kind === "drill") { return text("drill_body", ""); }
  if (data.kind === "request_received") { return text("received", ""); }
  if (ESCALATIONS.indexOf(data.kind) >= 0) { return text("escalation", ""); }
  return text("alert", "");
}

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = {}; }
  var link = typeof data.link === "string" && data.link.charAt(0) === "/" && data.link.charAt(1) !== "/"
    ? data.link : "/inbox";
  event.waitUntil(self.registration.showNotification(titleOf(data), {
    body: bodyOf(data),
    dir: text("dir", "auto"),
    lang: text("lang", ""),
    tag: data.reference || data.kind || "hanoi247",
    renotify: true,
    requireInteraction: true,
    icon: "/static/favicon.svg",
    data: { link: link, kind: data.kind || "", urgency: data.urgency || "", drill: !!data.drill }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL(event.notification.data.link, self.location.origin).href;
  event.waitUntil(self.clients.openWindow(target));
});
