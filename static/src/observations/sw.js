// Service worker for the observation form pages (scope /observations/): a principal on a weak
// rural connection can reload the form while offline and find the draft kept on the device.
// Form pages (/observations/new, /observations/<id>/edit) and the static files they use are
// fetched from the network first and kept here; offline, the kept copy is served (an edit page
// never kept falls back to the kept empty form, whose script finds the draft by the page's id).
// Nothing else is cached; a redirect to the login page clears everything kept, and logging out
// removes this worker and its cache (Clear-Site-Data: "storage").
"use strict";

var CACHE = "observation-forms-v1";
var FORM = /^\/observations\/(new|\d+\/edit)$/;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function keep(request, response) {
  if (response && response.ok && !response.redirected && response.type === "basic") {
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
  }
}

// The page tells which of its own files to keep (it was loaded before this worker ran).
self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.keep) || [];
  urls = urls.filter(function (u) {
    var url = new URL(u, self.location.origin);
    return url.origin === self.location.origin && (url.pathname.indexOf("/static/") === 0 || FORM.test(url.pathname));
  });
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (u) {
      return fetch(u, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) return cache.put(u, response);
      }).catch(function () { /* offline now: keep what is there */ });
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var isForm = request.mode === "navigate" && FORM.test(url.pathname);
  var isStatic = url.pathname.indexOf("/static/") === 0;
  if (!isForm && !isStatic) return;
  event.respondWith(fetch(request).then(function (response) {
    if (isForm && response.redirected && /\/login/.test(response.url)) {
      caches.delete(CACHE);
    } else {
      keep(isForm ? url.pathname + url.search : request, response);
    }
    return response;
  }).catch(function () {
    return caches.open(CACHE).then(function (cache) {
      return cache.match(isForm ? url.pathname + url.search : request, { ignoreSearch: isStatic }).then(function (hit) {
        if (hit || !isForm) return hit || Response.error();
        return cache.match("/observations/new").then(function (shell) { return shell || Response.error(); });
      });
    });
  }));
});
