// The conversation around a message (消息上下文): a drawer with the messages before and
// after the hit (GET /conversations/{conv}/messages?around=seq), the hit marked and
// scrolled into view, earlier and later pages on demand.
import { nextTick, reactive, watch } from "vue";
import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { contentText, convName, formatTime, kindLabel, marks, userName, wantNames } from "./common.js";

const LIMIT = 30;

export default {
  name: "MessageContext",
  props: {
    hit: { type: Object, default: null }, // the message {conv, seq, ...} or null (closed)
    q: { type: String, default: "" },
  },
  emits: ["close"],
  setup(props, { emit }) {
    const ctx = reactive({ rows: [], moreBefore: false, moreAfter: false, loading: false });

    function merge(list) {
      const by = new Map(ctx.rows.map((m) => [m.seq, m]));
      for (const m of list) by.set(m.seq, m);
      ctx.rows = [...by.values()].sort((a, b) => a.seq - b.seq);
      wantNames(ctx.rows.map((m) => m.from));
    }

    async function fetchAround(seq) {
      const conv = props.hit.conv;
      ctx.loading = true;
      try {
        const r = await api.get(`/conversations/${encodeURIComponent(conv)}/messages`, { around: seq, limit: LIMIT });
        if (!props.hit || props.hit.conv !== conv) return null;
        merge(r.messages || []);
        return r;
      } catch {
        return null;
      } finally {
        ctx.loading = false;
      }
    }

    async function open() {
      ctx.rows = [];
      ctx.moreBefore = false;
      ctx.moreAfter = false;
      if (!props.hit) return;
      const r = await fetchAround(props.hit.seq);
      if (!r) return;
      ctx.moreBefore = !!r.more_before;
      ctx.moreAfter = !!r.more_after;
      await nextTick();
      const el = document.querySelector("[data-testid=msg-ctx-row][data-hit=true]");
      if (el) el.scrollIntoView({ block: "center" });
    }

    async function earlier() {
      if (!ctx.rows.length) return;
      const first = ctx.rows[0].seq;
      const r = await fetchAround(first);
      if (r) ctx.moreBefore = ctx.rows[0].seq < first ? !!r.more_before : false;
    }
    async function later() {
      if (!ctx.rows.length) return;
      const last = ctx.rows[ctx.rows.length - 1].seq;
      const r = await fetchAround(last);
      if (r) ctx.moreAfter = ctx.rows[ctx.rows.length - 1].seq > last ? !!r.more_after : false;
    }

    watch(() => props.hit && `${props.hit.conv}#${props.hit.seq}`, (key) => key && open(), { immediate: true });

    return {
      ctx, t, earlier, later, contentText, convName, formatTime, kindLabel, marks, userName,
      close: () => emit("close"),
    };
  },
  template: `
  <el-drawer :model-value="!!hit" @update:model-value="v => !v && close()" :title="hit ? t('messages.contextTitle', { conv: convName(hit.conv) }) : ''"
             size="560px" append-to-body data-testid="msg-ctx">
    <div v-if="hit" class="sm-msg-ctx" v-loading="ctx.loading">
      <div class="sm-msg-ctx-conv adm-muted sm-small">{{ hit.conv }}</div>
      <el-button v-if="ctx.moreBefore" link type="primary" data-testid="msg-ctx-earlier" @click="earlier">{{ t('messages.earlier') }}</el-button>
      <ol class="sm-msg-ctx-list">
        <li v-for="m in ctx.rows" :key="m.seq" class="sm-msg-ctx-row" :class="{ hit: m.seq === hit.seq }"
            :data-hit="m.seq === hit.seq ? 'true' : 'false'" :data-seq="m.seq" data-testid="msg-ctx-row">
          <div class="sm-msg-ctx-head">
            <span class="sm-msg-ctx-from">{{ userName(m.from) }}</span>
            <span class="adm-muted sm-small">{{ formatTime(m.ts) }}</span>
            <span v-if="m.ip" class="adm-muted sm-small">{{ m.ip }}</span>
            <el-tag v-if="m.kind !== 'text'" size="small" type="info">{{ kindLabel(m.kind) }}</el-tag>
          </div>
          <div class="sm-msg-ctx-text" data-testid="msg-ctx-text"><template v-for="(s, i) in marks(contentText(m), m.seq === hit.seq ? q : '')" :key="i"><mark v-if="s.hit" class="sm-msg-mark">{{ s.text }}</mark><template v-else>{{ s.text }}</template></template></div>
        </li>
      </ol>
      <el-button v-if="ctx.moreAfter" link type="primary" data-testid="msg-ctx-later" @click="later">{{ t('messages.later') }}</el-button>
    </div>
  </el-drawer>`,
};
