// "Notify me on this device" (templates/settings.html): registers the service worker
// (push-sw.js, served by this node), subscribes with the node's VAPID public key and posts
// the subscription to /settings/push. Nothing happens until the officer presses the button.
// A browser subscribed under a previous key of the node is unsubscribed first (a browser
// keeps one subscription per worker, bound to the key it was made with), and the node is
// told which endpoint the new one replaces.
(function () {
  "use strict";
  var section = document.getElementById("push-settings");
  if (!section) { return; }
  var button = document.getElementById("push-subscribe");
  if (!button) { return; }
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    button.hidden = true;
    document.getElementById("push-unsupported").hidden = false;
    return;
  }
  var SCOPE = "/static/";

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function sameKey(buffer, base64url) {
    if (!buffer) { return false; }
    var a = new Uint8Array(buffer), b = keyBytes(base64url);
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i += 1) { if (a[i] !== b[i]) { return false; } }
    return true;
  }

  function workerUrl() {
    var d = section.dataset;
    var query = new URLSearchParams({
      lang: document.documentElement.lang || "",
      dir: document.documentElement.dir || "auto",
      alert: d.alertText || "", received: d.receivedText || "",
      escalation: d.escalationText || "", drill_body: d.drillBodyText || "",
      drill: d.drillText || "DRILL", urgent: d.urgentText || "URGENT",
      emergency: d.emergencyText || "EMERGENCY"
    });
    return "/static/push-sw.js?" + query.toString();
  }

  // navigator.serviceWorker.ready waits for a worker whose scope covers this page, and the
  // push worker's scope is /static/: wait for this registration's own worker instead.
  function activated(registration) {
    var worker = registration.installing || registration.waiting;
    if (!worker) { return Promise.resolve(registration); }
    return new Promise(function (resolve) {
      worker.addEventListener("statechange", function () {
        if (worker.state === "activated") { resolve(registration); }
      });
    });
  }

  function subscribe(registration) {
    var key = section.dataset.vapidKey;
    return registration.pushManager.getSubscription().then(function (old) {
      if (old && sameKey(old.options && old.options.applicationServerKey, key)) {
        return { subscription: old, replaces: "" };
      }
      var replaces = old ? old.endpoint : "";
      return (old ? old.unsubscribe() : Promise.resolve(true)).then(function () {
        return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
      }).then(function (subscription) { return { subscription: subscription, replaces: replaces }; });
    });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        document.getElementById("push-denied").hidden = false;
        button.disabled = false;
        return null;
      }
      return navigator.serviceWorker.register(workerUrl(), { scope: SCOPE })
        .then(activated)
        .then(subscribe)
        .then(function (made) {
          var data = made.subscription.toJSON();
          document.getElementById("push-endpoint").value = data.endpoint;
          document.getElementById("push-p256dh").value = data.keys.p256dh;
          document.getElementById("push-auth").value = data.keys.auth;
          document.getElementById("push-server-key").value = section.dataset.vapidKey;
          document.getElementById("push-replaces").value = made.replaces;
          document.getElementById("push-form").submit();
        });
    }).catch(function () {
      document.getElementById("push-unsupported").hidden = false;
      button.disabled = false;
    });
  });
}());
