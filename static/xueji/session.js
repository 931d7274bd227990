// The session on a page: the server ends a session SESSION_COOKIE_AGE after the user's last request
// (accounts.middleware.IdleSessionMiddleware; background polls do not count). This script
//  * keeps it alive while the user types in a form: typing is activity, so it pings the keep-alive
//    address, at most every data-ping-seconds;
//  * shortly before an idle session expires (data-warn-seconds), shows "会话将在N分钟后过期" with a
//    button that extends it;
//  * once it has expired (a check says 401, or an htmx request was answered with the notice), keeps
//    the page as it is, says so, and holds back a form sent before the user has logged in again
//    (in another tab); when the new session is seen, the page's CSRF tokens are replaced by the new
//    one (Django rotates the token at login) and the notice goes away.
// Tabs share the time of the last renewal through localStorage, so working in one tab does not make
// another one warn. Settings come from #session-status (templates/accounts/_session_status.html).
(function () {
  "use strict";
  var box = document.getElementById("session-status");
  if (!box || !window.fetch) {
    return;
  }
  var STORE_KEY = "xueji.session.renewedAt";
  var BACKGROUND = "X-Xueji-Background";
  var idleMs = Number(box.dataset.idleSeconds) * 1000;
  var warnMs = Number(box.dataset.warnSeconds) * 1000;
  var pingMs = Number(box.dataset.pingSeconds) * 1000;
  var keepAliveUrl = box.dataset.keepAliveUrl;
  var renewedAt = 0;
  var expired = false;
  var inFlight = {};
  var lastCheck = 0;

  function stored() {
    try {
      return Number(window.localStorage.getItem(STORE_KEY)) || 0;
    } catch (error) {
      return 0; // storage disabled: this tab keeps its own time
    }
  }

  function lastRenewal() {
    return Math.max(renewedAt, stored());
  }

  function markRenewed() {
    renewedAt = Date.now();
    try {
      window.localStorage.setItem(STORE_KEY, String(renewedAt));
    } catch (error) {
      // storage disabled
    }
  }

  function show(templateId) {
    box.replaceChildren(document.getElementById(templateId).content.cloneNode(true));
  }

  function showExpired() {
    expired = true;
    if (!box.querySelector("#session-expired")) {
      show("session-expired-template");
    }
  }

  function replaceCsrfToken(token) {
    if (!token) {
      return;
    }
    document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach(function (input) {
      input.value = token;
    });
    var raw = document.body.getAttribute("hx-headers");
    if (!raw) {
      return;
    }
    try {
      var headers = JSON.parse(raw);
      if ("X-CSRFToken" in headers) {
        headers["X-CSRFToken"] = token;
        document.body.setAttribute("hx-headers", JSON.stringify(headers));
      }
    } catch (error) {
      // not ours to fix
    }
  }

  // renew: true restarts the idle clock (typing, the extend button); false only asks (background).
  // Resolves to true (alive), false (expired) or null (no answer: offline, a proxy error).
  function ping(renew) {
    var key = renew ? "renew" : "check";
    if (inFlight[key]) {
      return inFlight[key];
    }
    var headers = {};
    if (!renew) {
      headers[BACKGROUND] = "1";
    }
    inFlight[key] = window.fetch(keepAliveUrl, {
      credentials: "same-origin", cache: "no-store", redirect: "manual", headers: headers
    }).then(function (response) {
      if (response.status === 204) {
        if (renew) {
          markRenewed();
        }
        expired = false;
        replaceCsrfToken(response.headers.get("X-CSRFToken"));
        if (box.querySelector("#session-expired") || (renew && box.querySelector("#session-warning"))) {
          box.replaceChildren();
        }
        return true;
      }
      if (response.status === 401) {
        showExpired();
        return false;
      }
      return null;
    }, function () {
      return null;
    }).then(function (alive) {
      inFlight[key] = null;
      return alive;
    });
    return inFlight[key];
  }

  function showWarning(msLeft) {
    var warning = box.querySelector("#session-warning");
    if (!warning) {
      show("session-warning-template");
      warning = box.querySelector("#session-warning");
    }
    warning.querySelector("[data-session-minutes]").textContent = String(Math.max(1, Math.ceil(msLeft / 60000)));
  }

  function update() {
    if (expired) {
      return;
    }
    var left = lastRenewal() + idleMs - Date.now();
    if (left <= 0) {
      // By this page's count the session has ended: ask the server (without renewing it).
      ping(false).then(function (alive) {
        if (alive) {
          // Something renewed it unseen (a download): treat it as about to expire, so that the
          // warning offers to extend it rather than claiming it has ended.
          renewedAt = Date.now() - (idleMs - warnMs);
          update();
        }
      });
    } else if (left <= warnMs) {
      showWarning(left);
    } else if (box.querySelector("#session-warning")) {
      box.replaceChildren();
    }
  }

  // The user may have logged in again elsewhere, or the session may have ended while the tab was
  // hidden or the computer asleep: ask when the page comes back (at most every 10 s).
  function recheck() {
    if (Date.now() - lastCheck < 10000) {
      return;
    }
    lastCheck = Date.now();
    ping(false).then(function (alive) {
      if (alive !== null) {
        update();
      }
    });
  }

  function onTyping(event) {
    var target = event.target;
    if (expired || !target.closest || !target.closest("form")) {
      return;
    }
    if (Date.now() - lastRenewal() >= pingMs || box.querySelector("#session-warning")) {
      ping(true);
    }
  }

  document.addEventListener("input", onTyping, true);
  document.addEventListener("change", onTyping, true);

  box.addEventListener("click", function (event) {
    if (event.target.closest("[data-session-extend]")) {
      ping(true);
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || !xhr.status) {
      return;
    }
    if (xhr.getResponseHeader("X-Xueji-Session") === "expired") {
      showExpired(); // htmx swaps the server's copy of the notice into the box as well
      return;
    }
    var config = event.detail.requestConfig || {};
    var headers = config.headers || {};
    if (xhr.status < 500 && headers[BACKGROUND] !== "1") {
      markRenewed(); // any request of the user's restarted the idle clock
      update();
    }
  });

  // Capture phase on window: runs before other submit handlers (submit-once.js), which must not
  // see a submission that is held back.
  window.addEventListener("submit", function (event) {
    var form = event.target;
    if (!expired || form.hasAttribute("data-session-free") || (form.method || "").toLowerCase() !== "post") {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    var submitter = event.submitter || null;
    ping(false).then(function (alive) {
      if (alive === false) {
        showExpired();
        box.querySelector("#session-expired").scrollIntoView({block: "nearest"});
      } else {
        // Alive again (tokens replaced) or no answer (let the server decide).
        expired = false;
        form.requestSubmit(submitter);
      }
    });
  }, true);

  window.addEventListener("storage", function (event) {
    if (event.key !== STORE_KEY) {
      return;
    }
    if (expired) {
      lastCheck = 0;
      recheck();
    } else {
      update();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      recheck();
    }
  });
  window.addEventListener("focus", recheck);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      lastCheck = 0;
      recheck(); // restored from the back-forward cache: the page was not fetched again
    }
  });

  markRenewed(); // this page's own request renewed the session
  window.setInterval(update, Math.max(1000, Math.min(15000, warnMs / 4)));
})();
