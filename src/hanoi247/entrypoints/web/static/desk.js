/* hanoi247 web desk: live countdowns and the live inbox.
 *
 * An external file (the Content-Security-Policy forbids inline script). Without it every
 * page still works: the server writes each countdown's first text, and a reload shows a
 * new request.
 *
 * 1. Every <time datetime="…" data-countdown> is rewritten each second, with the rules of
 *    pages/live.py: under a day "H:MM:SS", further the largest unit of at least 0.85
 *    ("2 months"), inside the labels of #countdown-labels ("Time left: {time}").
 *    data-now (the server's clock) corrects a browser clock that is wrong.
 * 2. On the inbox (#inbox-live), an EventSource on data-events receives "inbox" events
 *    carrying the inbox's fingerprint; when it differs from the list's, the list is
 *    fetched again from data-fragment and swapped in, keeping the keyboard focus.
 */
(function () {
  "use strict";

  var UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400]];
  var labels = document.getElementById("countdown-labels");
  var lang = document.documentElement.lang || "en";
  var skew = 0; // server time minus browser time, in ms

  function readSkew(element) {
    var server = element ? Date.parse(element.getAttribute("data-now") || "") : NaN;
    if (!isNaN(server)) {
      skew = server - Date.now();
    }
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function span(seconds) {
    if (seconds < 86400) {
      var whole = Math.floor(seconds);
      return Math.floor(whole / 3600) + ":" + pad(Math.floor((whole % 3600) / 60)) + ":" + pad(whole % 60);
    }
    for (var i = 0; i < UNITS.length; i += 1) {
      var value = seconds / UNITS[i][1];
      if (value >= 0.85) {
        var count = Math.max(1, Math.round(value));
        try {
          return new Intl.NumberFormat(lang, { style: "unit", unit: UNITS[i][0], unitDisplay: "long" }).format(count);
        } catch (error) {
          return count + " " + UNITS[i][0];
        }
      }
    }
    return "";
  }

  function tick() {
    if (!labels) {
      return;
    }
    var now = Date.now() + skew;
    var clocks = document.querySelectorAll("time[data-countdown]");
    for (var i = 0; i < clocks.length; i += 1) {
      var element = clocks[i];
      var due = Date.parse(element.getAttribute("datetime") || "");
      if (isNaN(due)) {
        continue;
      }
      var seconds = (due - now) / 1000;
      var template = labels.getAttribute(seconds >= 0 ? "data-left" : "data-overdue") || "{time}";
      var text = template.replace("{time}", span(Math.abs(seconds)));
      if (element.textContent !== text) {
        element.textContent = text;
      }
      element.classList.toggle("overdue", seconds < 0);
    }
  }

  function liveInbox() {
    var live = document.getElementById("inbox-live");
    if (!live || !window.EventSource || !window.fetch) {
      return;
    }
    var status = document.getElementById("inbox-status");
    var loading = false;
    var again = false;

    function refresh() {
      if (loading) {
        again = true;
        return;
      }
      loading = true;
      fetch(live.getAttribute("data-fragment"), {
        credentials: "same-origin",
        headers: { "HX-Request": "true", Accept: "text/html" },
      })
        .then(function (answer) {
          return answer.ok ? answer.text() : null;
        })
        .then(function (html) {
          var current = document.getElementById("inbox-list");
          if (html === null || !current) {
            return;
          }
          var focused = document.activeElement && current.contains(document.activeElement)
            ? document.activeElement.id : "";
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var fresh = holder.content.firstElementChild;
          if (!fresh) {
            return;
          }
          current.replaceWith(fresh);
          readSkew(fresh);
          tick();
          if (focused && document.getElementById(focused)) {
            document.getElementById(focused).focus();
          }
          if (status) {
            status.textContent = "";
            window.setTimeout(function () {
              status.textContent = status.getAttribute("data-text") || "";
            }, 50);
          }
        })
        .catch(function () { /* the next event tries again */ })
        .then(function () {
          loading = false;
          if (again) {
            again = false;
            refresh();
          }
        });
    }

    var source = new EventSource(live.getAttribute("data-events"));
    source.addEventListener("inbox", function (event) {
      var current = document.getElementById("inbox-list");
      if (!current || current.getAttribute("data-fingerprint") !== event.data) {
        refresh();
      }
    });
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }

  function start() {
    readSkew(labels);
    tick();
    window.setInterval(tick, 1000);
    liveInbox();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* 3. Evidence upload on the case page (form[data-evidence-upload]): the file is sent as the
 *    raw body of one POST, so the browser reports its progress; the server hashes and
 *    encrypts it as it arrives. Without this script the form does nothing harmful: its
 *    file input has no name, so a plain submit carries no file. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-evidence-upload]");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var input = form.querySelector("input[type=file]");
    var bar = form.querySelector("progress");
    var out = form.querySelector("output");
    var token = form.querySelector("input[name=csrf_token]");
    if (!input.files.length) {
      return;
    }
    var file = input.files[0];
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
    xhr.setRequestHeader("X-CSRF-Token", token ? token.value : "");
    bar.hidden = false;
    bar.value = 0;
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((100 * e.loaded) / e.total);
      }
    };
    xhr.onload = function () {
      var answer = {};
      try {
        answer = JSON.parse(xhr.responseText);
      } catch (ignored) {
        answer = {};
      }
      if (xhr.status === 201) {
        out.textContent = form.getAttribute("data-done") + " " + answer.sha256;
        window.location.reload();
      } else {
        out.textContent = form.getAttribute("data-failed") + " " + (answer.detail || xhr.status);
      }
    };
    xhr.onerror = function () {
      out.textContent = form.getAttribute("data-failed") + " " + xhr.status;
    };
    xhr.send(file);
  });
})();
