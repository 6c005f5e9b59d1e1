// A group's history, read-only (GET /groups/{id}/messages, perm groups.history; each
// page read is audited on the server). Newest at the bottom; "load older" pages back.
//
// Everything people wrote is shown as text through Vue's interpolation (never v-html),
// and only the server's own signed file URLs (/api/v1/files/...) become links or images:
// a message body is untrusted input.
import { ref, watch } from "vue";
import { SemotAPIError } from "semot";
import { api } from "../../api.js";
import { i18n, t } from "../../i18n.js";

const FILES = "/api/v1/files/";

/** The URL if it is one of the server's signed file URLs, else null. */
export function fileUrl(u) {
  return typeof u === "string" && u.startsWith(FILES) && !u.includes("..") ? u : null;
}

export function formatTime(ts) {
  return typeof ts === "number" ? new Date(ts).toLocaleString(i18n.locale) : "";
}

function formatSize(n) {
  if (typeof n !== "number") return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The text of a `system` notice (group changes), naming people by display name. */
export function systemText(body, nameOf) {
  const type = typeof body?.type === "string" ? body.type.replace(/^group_/, "") : "";
  const by = body?.by_admin ? t("groups.sys.byAdmin", { by: nameOf(body.by) }) : nameOf(body?.by);
  const params = {
    by,
    user: nameOf(body?.user),
    users: Array.isArray(body?.users) ? body.users.map(nameOf).join(t("common.listSep")) : "",
    name: typeof body?.name === "string" ? body.name : "",
    text: typeof body?.text === "string" ? body.text : "",
    role: body?.role === "admin" ? t("groups.role.admin") : t("groups.role.member"),
  };
  if (type === "member_muted" && body.until == null) return t("groups.sys.member_unmuted", params);
  const key = `groups.sys.${type}`;
  const text = t(key, params);
  return text === key ? t("groups.sys.other") : text;
}

export default {
  name: "GroupHistory",
  props: { groupId: { type: String, required: true } },
  setup(props) {
    const messages = ref([]);
    const senders = ref({});
    const more = ref(false);
    const loading = ref(false);
    const loaded = ref(false);

    const nameOf = (uid) => {
      if (typeof uid !== "string") return "";
      const s = senders.value[uid];
      return s ? s.display_name || s.username || uid : uid;
    };

    async function load(older = false) {
      if (loading.value) return;
      loading.value = true;
      try {
        const before = older && messages.value.length ? messages.value[0].seq : undefined;
        const page = await api.get(`/groups/${encodeURIComponent(props.groupId)}/messages`, { before, limit: 50 });
        senders.value = { ...senders.value, ...page.senders };
        messages.value = older ? [...page.messages, ...messages.value] : page.messages;
        more.value = page.more;
        loaded.value = true;
      } catch (error) {
        if (!(error instanceof SemotAPIError)) throw error; // api.js has shown it
      } finally {
        loading.value = false;
      }
    }

    function describe(m) {
      const b = m.body || {};
      switch (m.kind) {
        case "text":
          return { text: typeof b.text === "string" ? b.text : "" };
        case "image":
          return { label: t("groups.msg.image"), thumb: fileUrl(b.thumb_url) || fileUrl(b.url), url: fileUrl(b.url) };
        case "voice":
          return { label: t("groups.msg.voice", { s: Math.round((b.duration_ms || 0) / 1000) }), url: fileUrl(b.url) };
        case "video":
          return { label: t("groups.msg.video"), thumb: fileUrl(b.thumb_url), url: fileUrl(b.url) };
        case "file":
          return { label: t("groups.msg.file"), name: String(b.name || ""), size: formatSize(b.size), url: fileUrl(b.url) };
        case "location":
          return { label: t("groups.msg.location", { name: String(b.title || b.address || "") }) };
        case "card":
          return { label: t("groups.msg.card", { name: nameOf(b.user_id) }) };
        case "system":
          return { system: systemText(b, nameOf) };
        case "recalled":
          return { note: t("groups.msg.recalled") };
        case "burned":
          return { note: t("groups.msg.burned") };
        case "custom":
          if (b.type === "forward_bundle") return { label: t("groups.msg.bundle", { title: String(b.data?.title || "") }) };
          return { label: t("groups.msg.custom", { type: String(b.type || "") }) };
        default:
          return { label: t("groups.msg.unknown", { kind: String(m.kind) }) };
      }
    }

    watch(() => props.groupId, () => {
      messages.value = [];
      senders.value = {};
      load();
    }, { immediate: true });

    return { t, messages, more, loading, loaded, load, describe, nameOf, formatTime };
  },
  template: `
    <div class="gh" data-testid="group-history">
      <el-alert type="info" :closable="false" show-icon :title="t('groups.historyNote')" class="gh-note" />
      <div class="gh-more">
        <el-button v-if="more" size="small" :loading="loading" data-testid="history-older" @click="load(true)">{{ t('groups.loadOlder') }}</el-button>
        <span v-else-if="loaded && messages.length" class="gh-end">{{ t('groups.noOlder') }}</span>
      </div>
      <el-empty v-if="loaded && !messages.length" :description="t('groups.noMessages')" />
      <div v-for="m in messages" :key="m.seq" class="gh-msg" :class="'gh-' + m.kind" :data-kind="m.kind" :data-seq="m.seq" data-testid="history-message">
        <template v-for="d in [describe(m)]" :key="'d' + m.seq">
          <div v-if="d.system !== undefined" class="gh-system">{{ d.system }} · {{ formatTime(m.ts) }}</div>
          <template v-else>
            <div class="gh-head"><span class="gh-from">{{ nameOf(m.from) }}</span><span class="gh-id">{{ m.from }}</span><span class="gh-time">{{ formatTime(m.ts) }}</span><span class="gh-seq">#{{ m.seq }}</span></div>
            <div class="gh-body">
              <span v-if="d.text !== undefined" class="gh-text">{{ d.text }}</span>
              <span v-else-if="d.note" class="gh-note-text">{{ d.note }}</span>
              <template v-else>
                <span class="gh-label">{{ d.label }}</span>
                <a v-if="d.thumb" :href="d.url || d.thumb" target="_blank" rel="noopener noreferrer" class="gh-thumb"><img :src="d.thumb" alt="" loading="lazy" data-testid="history-image"></a>
                <span v-if="d.name" class="gh-file">{{ d.name }} <span class="gh-size">{{ d.size }}</span></span>
                <a v-if="d.url" :href="d.url" target="_blank" rel="noopener noreferrer" class="gh-link">{{ d.name ? t('groups.msg.download') : t('groups.msg.open') }}</a>
              </template>
              <span v-if="m.edited_ts" class="gh-edited">{{ t('groups.msg.edited') }}</span>
            </div>
          </template>
        </template>
      </div>
    </div>`,
};
