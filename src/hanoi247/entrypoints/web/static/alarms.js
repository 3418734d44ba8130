/* hanoi247 web desk: the alert banner on every page (pages/alarms.py).
 *
 * An external file (the Content-Security-Policy forbids inline script). Without it the
 * banner still shows on every page load; with it:
 *
 * 1. An EventSource on #alarm-live's data-events (the in-app alert stream) listens to every
 *    alert topic (data-topics); on any alert it fetches data-fragment and swaps the banner
 *    in, then sets the tab title to "(N) <title>" (the body's data-title).
 * 2. The header's #alarm-sound switch (shown only when this script runs) turns a tone and
 *    a desktop notification on or off for this browser (localStorage); when the count of
 *    unseen alerts grows, they sound and show.
 */
(function () {
  "use strict";
  var live = document.getElementById("alarm-live");
  if (!live) {
    return;
  }
  var KEY = "hanoi247.alarm-sound";
  var toggle = document.getElementById("alarm-sound");
  var audio = null;

  function enabled() {
    try {
      return window.localStorage.getItem(KEY) === "on";
    } catch (error) {
      return false;
    }
  }

  function remember(on) {
    try {
      window.localStorage.setItem(KEY, on ? "on" : "off");
    } catch (error) { /* private mode: on for this page only */ }
  }

  function show() {
    if (!toggle) {
      return;
    }
    var on = enabled();
    toggle.hidden = false;
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = toggle.getAttribute(on ? "data-on" : "data-off");
  }

  function tone() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) {
      return;
    }
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") {
        audio.resume();
      }
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.frequency.value = 880;
      gain.gain.value = 0.2;
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + 0.4);
    } catch (error) { /* no audio device */ }
  }

  function notify(text) {
    if (!window.Notification || window.Notification.permission !== "granted") {
      return;
    }
    try {
      new window.Notification(document.body.getAttribute("data-title") || "hanoi247", {
        body: text,
        tag: "hanoi247-alarm",
        renotify: true,
      });
    } catch (error) { /* some browsers allow notifications from a service worker only */ }
  }

  function count() {
    var banner = document.getElementById("alarm-banner");
    return banner ? parseInt(banner.getAttribute("data-count") || "0", 10) : 0;
  }

  function retitle() {
    var banner = document.getElementById("alarm-banner");
    var base = document.body.getAttribute("data-title") || document.title;
    var n = count();
    document.title = n > 0 ? "(" + banner.getAttribute("data-count-text") + ") " + base : base;
  }

  if (toggle) {
    toggle.addEventListener("click", function () {
      var on = !enabled();
      remember(on);
      show();
      if (on) {
        tone(); // a gesture: the browser lets this page play sound from now on
        if (window.Notification && window.Notification.permission === "default") {
          window.Notification.requestPermission();
        }
      }
    });
    show();
  }

  var loading = false;
  function refresh() {
    if (loading || !window.fetch) {
      return;
    }
    loading = true;
    var before = count();
    fetch(live.getAttribute("data-fragment"), {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    })
      .then(function (answer) {
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) {
        var current = document.getElementById("alarm-banner");
        if (html === null || !current) {
          return;
        }
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        var fresh = holder.content.firstElementChild;
        if (!fresh) {
          return;
        }
        current.replaceWith(fresh);
        retitle();
        if (count() > before && enabled()) {
          var heading = fresh.querySelector("h2");
          tone();
          notify(heading ? heading.textContent : "");
        }
      })
      .catch(function () { /* the next alert tries again */ })
      .then(function () {
        loading = false;
      });
  }

  if (window.EventSource) {
    var source = new EventSource(live.getAttribute("data-events"));
    var topics = (live.getAttribute("data-topics") || "").split(" ").concat(["lagged"]);
    for (var i = 0; i < topics.length; i += 1) {
      if (topics[i]) {
        source.addEventListener(topics[i], refresh);
      }
    }
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }
  retitle();
})();
