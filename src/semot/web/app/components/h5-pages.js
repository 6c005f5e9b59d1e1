// Custom H5 pages (H5 应用) from the client configuration: an entry each in the
// navigation rail (and the phone tab bar), opening inside the client in a sandboxed
// frame, or in a new window when the administrator chose so (or the site refuses to be
// framed: the page view always offers "open in a new window").
//
// A page added while this tab was open is not in the Content-Security-Policy the tab was
// loaded with (the server adds each framed page's origin to frame-src): the browser
// refuses the frame, and the view says so and offers a reload or a new window.
//
// The frame: `sandbox` lets the page run its own scripts, forms and popups, and keeps
// its own origin (cookies of its site) only when that origin is not this server's, so a
// page can never script the client. The URLs were checked by the server (http/https
// only), and the server's CSP allows exactly these origins in frames.
//
// A framed page of another origin gets the apps' bridge (bridge/host.js, docs/apps.md):
// the user's identity token and openChat / sendCard / notify over postMessage.
import { computed, onBeforeUnmount, ref, watch } from "vue";
import { t } from "../i18n.js";
import { state } from "../store.js";
import { clientConfig } from "../stores/client-config.js";
import { attachBridge } from "../bridge/host.js";

function openWindow(page) {
  window.open(page.url, "_blank", "noopener,noreferrer");
}

function select(page, index) {
  if (page.open === "window") openWindow(page);
  else state.tab = `h5:${index}`;
}

/** The entries: `variant` "rail" (desktop navigation) or "tabbar" (phones). */
export const H5PageNav = {
  name: "H5PageNav",
  props: { variant: { type: String, default: "rail" } },
  setup() {
    const pages = computed(() => clientConfig.pages || []);
    return { pages, state, select, t };
  },
  template: `
    <template v-for="(p, i) in pages" :key="i + p.url">
      <button v-if="variant === 'rail'" class="rail-item h5-nav" :class="{ active: state.tab === 'h5:' + i }" type="button"
              :aria-label="p.title" :title="p.open === 'window' ? p.title + ' ↗' : p.title"
              :aria-current="state.tab === 'h5:' + i ? 'page' : undefined" @click="select(p, i)" data-testid="h5-nav" :data-title="p.title">
        <span class="h5-icon" aria-hidden="true">{{ p.icon || p.title.slice(0, 1) }}</span>
        <span class="rail-label h5-label">{{ p.title }}</span>
      </button>
      <button v-else type="button" class="h5-tab" :class="{ active: state.tab === 'h5:' + i }" @click="select(p, i)" data-testid="h5-tab" :data-title="p.title">
        <span class="h5-icon" aria-hidden="true">{{ p.icon || p.title.slice(0, 1) }}</span>
        <span>{{ p.title }}</span>
      </button>
    </template>`,
};

/** The open page: a header (title, open in a new window, back on phones) and the frame. */
export const H5PageView = {
  name: "H5PageView",
  setup() {
    const page = computed(() => {
      const tab = String(state.tab);
      return tab.startsWith("h5:") ? clientConfig.pages[Number(tab.slice(3))] || null : null;
    });
    const sandbox = computed(() => {
      const base = "allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads";
      let sameOrigin = false;
      try {
        sameOrigin = page.value && new URL(page.value.url).origin === location.origin;
      } catch {
        sameOrigin = true; // unreadable: the strictest frame
      }
      return sameOrigin ? base : `${base} allow-same-origin`;
    });
    function back() {
      state.tab = "chats";
    }
    const blocked = ref(false); // this tab's CSP predates the page (see above)
    watch(page, () => { blocked.value = false; });
    function onViolation(e) {
      const dir = String(e.effectiveDirective || e.violatedDirective || "");
      if (!page.value || !/^(frame-src|child-src|default-src)/.test(dir)) return;
      try {
        if (new URL(e.blockedURI).origin === new URL(page.value.url).origin) blocked.value = true;
      } catch {
        /* not a URL: not this frame */
      }
    }
    document.addEventListener("securitypolicyviolation", onViolation);
    onBeforeUnmount(() => document.removeEventListener("securitypolicyviolation", onViolation));
    const reload = () => location.reload();
    let bound = { el: null, detach: null }; // the bridge of the frame shown (bridge/host.js)
    function bindFrame(el) {
      if (el === bound.el) return; // a function ref is called again at every update
      if (bound.detach) bound.detach();
      bound = { el, detach: el && page.value ? attachBridge(el, page.value) : null };
    }
    onBeforeUnmount(() => bindFrame(null));
    return { page, sandbox, back, openWindow, state, t, blocked, reload, bindFrame };
  },
  template: `
    <section v-if="page" class="h5-view" :aria-label="page.title" data-testid="h5-view" :data-url="page.url">
      <header class="h5-head">
        <button v-if="state.narrow" type="button" class="tool" :aria-label="t('h5.back')" :title="t('h5.back')" @click="back" data-testid="h5-back">
          <el-icon><icon-arrow-left /></el-icon>
        </button>
        <h2 class="h5-title">{{ page.title }}</h2>
        <el-button size="small" @click="openWindow(page)" data-testid="h5-open-window">{{ t('h5.openWindow') }}</el-button>
      </header>
      <div v-if="blocked" class="h5-blocked" role="status" data-testid="h5-blocked">
        <p>{{ t('h5.blocked') }}</p>
        <el-button type="primary" @click="reload" data-testid="h5-reload">{{ t('h5.reload') }}</el-button>
        <el-button @click="openWindow(page)">{{ t('h5.openWindow') }}</el-button>
      </div>
      <iframe v-else :key="page.url" :ref="bindFrame" class="h5-frame" :src="page.url" :title="page.title" :sandbox="sandbox"
              referrerpolicy="no-referrer" loading="lazy" allow="fullscreen" data-testid="h5-frame"></iframe>
    </section>`,
};
