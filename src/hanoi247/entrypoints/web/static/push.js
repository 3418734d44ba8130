// "Notify me on this device" (templates/settings.html): registers the service worker
// (push-sw.js, served by this node), subscribes with the node's VAPID public key and posts
// the subscription to /settings/push. Nothing happens until the officer presses the button.
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

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function workerUrl() {
    var query = new URLSearchParams({
      alert: section.dataset.alertText || "",
      drill: section.dataset.drillText || "DRILL"
    });
    return "/static/push-sw.js?" + query.toString();
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        document.getElementById("push-denied").hidden = false;
        button.disabled = false;
        return null;
      }
      return navigator.serviceWorker.register(workerUrl(), { scope: "/static/" })
        .then(function () { return navigator.serviceWorker.ready; })
        .then(function (registration) {
          return registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: keyBytes(section.dataset.vapidKey)
          });
        })
        .then(function (subscription) {
          var data = subscription.toJSON();
          document.getElementById("push-endpoint").value = data.endpoint;
          document.getElementById("push-p256dh").value = data.keys.p256dh;
          document.getElementById("push-auth").value = data.keys.auth;
          document.getElementById("push-form").submit();
        });
    }).catch(function () {
      document.getElementById("push-unsupported").hidden = false;
      button.disabled = false;
    });
  });
}());
