// Semot web client service worker (served at /sw.js so that its scope is the whole app).
//
// - The app shell (/, /web/..., /sdk/semot.js) is fetched network-first: online, the
//   page always runs the server's current files (an upgraded server is picked up at the
//   next load); offline, the last copy opens from the cache.
// - Everything else is left alone: /api, /ws (WebSockets never pass through a service
//   worker anyway), /docs, /healthz, /metrics, /admin. Messages are never cached here;
//   live updates travel on the WebSocket, untouched.
const CACHE = "semot-shell-v1";
const SHELL = [
  "/",
  "/web/app.css",
  "/web/manifest.webmanifest",
  "/web/icons/icon.svg",
  "/web/icons/icon-192.png",
  "/web/app/main.js",
  "/web/app/i18n.js",
  "/web/app/store.js",
  "/web/app/util.js",
  "/web/app/components/avatar.js",
  "/web/app/components/banner.js",
  "/web/app/components/chat.js",
  "/web/app/components/message-list.js",
  "/web/app/components/message-list-core.js",
  "/web/app/components/message-list.css",
  "/web/app/components/composer.js",
  "/web/app/components/contacts.js",
  "/web/app/components/conv-list.js",
  "/web/app/components/conv-list.css",
  "/web/app/stores/conversations.js",
  "/web/app/stores/conversations-settings.js",
  "/web/app/components/dialogs.js",
  "/web/app/components/directory.js",
  "/web/app/components/glyphs.js",
  "/web/app/components/group-panel.js",
  "/web/app/components/group-banner.js",
  "/web/app/components/group-requests-badge.js",
  "/web/app/stores/groups.js",
  "/web/app/components/lang-switch.js",
  "/web/app/components/login.js",
  "/web/app/components/set-password.js",
  "/web/app/components/sso-landing.js",
  "/web/app/components/message.js",
  "/web/app/components/moderation/review-status.js",
  "/web/app/stores/moderation.js",
  "/web/app/components/profile-dialog.js",
  "/web/app/components/shell.js",
  "/web/app/components/user-menu.js",
  "/web/app/components/emoji-picker.js",
  "/web/app/components/extras/extras.css",
  "/web/app/components/extras/styles.js",
  "/web/app/components/location/location-dialog.js",
  "/web/app/components/location/map-link.js",
  "/web/app/components/location/place-search.js",
  "/web/app/components/location/styles.js",
  "/web/app/components/location/location.css",
  "/web/app/data/emoji.json",
  "/web/app/components/profile-card.js",
  "/web/app/components/people-picker.js",
  "/web/app/components/invite-picker.js",
  "/web/app/components/read-receipt.js",
  "/web/app/components/people-styles.js",
  "/web/app/components/people.css",
  "/web/app/stores/receipts.js",
  "/web/app/components/media/fallback.js",
  "/web/app/components/media/file-card.js",
  "/web/app/components/media/format.js",
  "/web/app/components/media/forward-dialog.js",
  "/web/app/components/media/image.js",
  "/web/app/components/media/lightbox.js",
  "/web/app/components/media/media.css",
  "/web/app/components/media/styles.js",
  "/web/app/components/media/video.js",
  "/web/app/components/media/voice.js",
  "/web/app/stores/forward.js",
  "/web/app/stores/selection.js",
  "/web/app/stores/bundles.js",
  "/web/app/components/forward/selection-bar.js",
  "/web/app/components/forward/bundle-card.js",
  "/web/app/components/forward/bundle-viewer.js",
  "/web/app/components/forward/styles.js",
  "/web/app/components/forward/selection.css",
  "/web/app/stores/media.js",
  "/web/app/stores/profile.js",
  "/web/app/stores/recorder.js",
  "/web/app/stores/uploads.js",
  "/web/app/components/quote.js",
  "/web/app/components/quote.css",
  "/web/app/stores/replies.js",
  "/web/app/stores/mentions.js",
  "/web/app/stores/client-config.js",
  "/web/app/components/client-config.css",
  "/web/app/components/h5-pages.js",
  "/web/app/bridge/host.js",
  "/web/app/bridge/card.js",
  "/web/app/bridge/bridge.css",
  "/web/app/components/quick-phrases.js",
  "/web/app/components/watermark.js",
  "/web/app/stores/search.js",
  "/web/app/components/search/search-panel.js",
  "/web/app/components/search/highlight.js",
  "/web/app/components/search/strings.js",
  "/web/app/components/search/search.css",
  "/web/app/stores/service.js",
  "/web/app/stores/customer.js",
  "/web/app/components/customer-mode.css",
  "/web/app/components/service/workbench.js",
  "/web/app/components/service/context-card.js",
  "/web/app/components/service/strings.js",
  "/web/app/components/service/styles.js",
  "/web/app/components/service/service.css",
  "/web/shared/avatar.js",
  "/web/shared/error-reporter.js",
  "/web/shared/error-reporter.js",
  "/web/shared/i18n-core.js",
  "/web/shared/lang-switch.js",
  "/web/shared/people.js",
  "/web/sdk/semot.js",
  "/web/sdk/uploads.js",
  "/web/sdk/changes.js",
  "/web/app/stores/reactions.js",
  "/web/app/components/reactions.js",
  "/web/app/components/reactions.css",
  "/web/vendor/tus-js-client/tus.min.js",
  "/web/vendor/vue/vue.esm-browser.prod.js",
  "/web/vendor/element-plus/index.full.min.mjs",
  "/web/vendor/element-plus/index.css",
  "/web/vendor/element-plus/locale/zh-cn.min.mjs",
  "/web/vendor/element-plus/locale/en.min.mjs",
  "/web/vendor/icons-vue/index.min.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((u) => new Request(u, { cache: "no-cache" }))))
      .catch(() => undefined) // a missing file must not keep the worker from installing
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("semot-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isShell(url) {
  return url.pathname === "/" || url.pathname.startsWith("/web/") || url.pathname === "/sdk/semot.js";
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !isShell(url)) return; // network only, untouched
  event.respondWith(
    fetch(req)
      .then((resp) => {
        if (resp.ok && resp.type === "basic") {
          const copy = resp.clone();
          caches.open(CACHE).then((cache) => cache.put(req, copy)).catch(() => undefined);
        }
        return resp;
      })
      .catch(async () => {
        const hit = await caches.match(req, { ignoreSearch: true });
        if (hit) return hit;
        if (req.mode === "navigate") {
          const shell = await caches.match("/");
          if (shell) return shell;
        }
        return Response.error();
      }),
  );
});
