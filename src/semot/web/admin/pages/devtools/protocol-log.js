// The live protocol log tab: pick a user, start capture for N minutes (devtools.write),
// and watch every WebSocket frame of theirs, in (client -> server) and out, on every
// node. Polls GET /protocol-log with the cursor of the previous reply, once a second
// (at once again when the server says there is more); pausing stops polling and keeps
// the cursor, so nothing is lost on resume. The view keeps the newest MAX_VIEW frames.
//
// Frames are text from users' traffic: shown only through Vue's interpolation.
import { computed, onBeforeUnmount, reactive, ref, watch } from "vue";
import { api } from "../../api.js";
import { i18n, t } from "../../i18n.js";
import { route, setQuery } from "../../router.js";
import { can } from "../../session.js";

const MAX_VIEW = 2000;
const POLL_MS = 1000;

function pad(n, w = 2) {
  return String(n).padStart(w, "0");
}

export function clock(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** What a frame is, in a few words: its `t` (and `evt`), rid, ok or error code. */
export function summary(parsed) {
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return "";
  const bits = [];
  if (typeof parsed.t === "string") bits.push(parsed.evt ? `${parsed.t}:${parsed.evt}` : parsed.t);
  if (parsed.rid !== undefined) bits.push(`#${parsed.rid}`);
  if (parsed.ok === true) bits.push("ok");
  if (parsed.ok === false && parsed.error) bits.push(String(parsed.error.code || "error"));
  return bits.join(" ");
}

function enrich(f) {
  let parsed = null;
  try {
    parsed = f.truncated ? null : JSON.parse(f.text);
  } catch {
    parsed = null;
  }
  return Object.freeze({ ...f, parsed, summary: summary(parsed), pretty: parsed ? JSON.stringify(parsed, null, 2) : f.text });
}

export default {
  name: "ProtocolLogTab",
  setup() {
    const state = reactive({
      userId: route.query.user || "",
      options: [],
      searching: false,
      minutes: 10,
      session: null, // the running session of the chosen user, or null
      sessions: [],
      frames: [],
      cursor: 0,
      paused: false,
      filter: "",
      dir: "all",
      busy: false,
      now: Date.now(),
      expanded: null,
    });
    const canWrite = computed(() => can("devtools.write"));
    let timer = null;
    let ticker = null;
    let generation = 0; // a new user or a clear: replies of older polls are dropped

    async function search(q) {
      state.searching = true;
      try {
        const reply = await api.get("/users", { q, limit: 20 }, { quiet: true });
        state.options = (reply?.users || []).map((u) => ({ value: u.user_id, label: `${u.display_name || u.username} (${u.username})` }));
      } catch {
        state.options = [];
      } finally {
        state.searching = false;
      }
    }

    async function loadSessions() {
      try {
        state.sessions = (await api.get("/protocol-log/sessions", undefined, { quiet: true })).sessions;
      } catch {
        state.sessions = [];
      }
    }

    function schedule(ms) {
      clearTimeout(timer);
      timer = setTimeout(poll, ms);
    }

    async function poll() {
      const uid = state.userId;
      if (!uid || state.paused) return;
      const gen = generation;
      let more = false;
      try {
        const reply = await api.get("/protocol-log", { user_id: uid, after: state.cursor }, { quiet: true });
        if (gen !== generation) return;
        state.session = reply.session;
        state.cursor = reply.cursor;
        if (reply.frames.length) {
          const next = state.frames.concat(reply.frames.map(enrich));
          state.frames = next.length > MAX_VIEW ? next.slice(next.length - MAX_VIEW) : next;
        }
        more = reply.more;
      } catch {
        /* the next poll tries again */
      }
      if (gen === generation) schedule(more ? 0 : POLL_MS);
    }

    function restart() {
      generation += 1;
      state.frames = [];
      state.cursor = 0;
      state.session = null;
      state.expanded = null;
      clearTimeout(timer);
      if (state.userId) poll();
    }

    async function start() {
      if (!state.userId) return;
      state.busy = true;
      try {
        state.session = await api.post("/protocol-log/sessions", { user_id: state.userId, minutes: state.minutes });
        await loadSessions();
        if (state.paused) state.paused = false;
        schedule(0);
      } catch {
        /* the error message is shown by api.js */
      } finally {
        state.busy = false;
      }
    }

    async function stop() {
      if (!state.userId) return;
      state.busy = true;
      try {
        await api.del(`/protocol-log/sessions/${encodeURIComponent(state.userId)}`);
        state.session = null;
        await loadSessions();
      } catch {
        /* shown by api.js */
      } finally {
        state.busy = false;
      }
    }

    function togglePause() {
      state.paused = !state.paused;
      if (!state.paused) schedule(0);
      else clearTimeout(timer);
    }

    function clearView() {
      state.frames = [];
      state.expanded = null;
    }

    function pick(uid) {
      state.userId = uid;
    }

    const visible = computed(() => {
      const needle = state.filter.trim().toLowerCase();
      return state.frames.filter(
        (f) => (state.dir === "all" || f.dir === state.dir) && (!needle || f.text.toLowerCase().includes(needle)),
      );
    });

    const remaining = computed(() => {
      if (!state.session) return "";
      const s = Math.max(0, Math.round((state.session.until - state.now) / 1000));
      return `${Math.floor(s / 60)}:${pad(s % 60)}`;
    });

    function until(ts) {
      return new Date(ts).toLocaleTimeString(i18n.locale);
    }

    function label(s) {
      return s.display_name ? `${s.display_name} (${s.username})` : s.username || s.user_id;
    }

    watch(
      () => state.userId,
      (uid) => {
        setQuery({ ...route.query, user: uid || undefined });
        if (uid && !state.options.some((o) => o.value === uid)) state.options = [{ value: uid, label: uid }, ...state.options];
        restart();
      },
    );

    loadSessions();
    if (state.userId) {
      state.options = [{ value: state.userId, label: state.userId }];
      poll();
    }
    ticker = setInterval(() => {
      state.now = Date.now();
    }, 1000);
    onBeforeUnmount(() => {
      generation += 1;
      clearTimeout(timer);
      clearInterval(ticker);
    });

    return { state, t, canWrite, search, start, stop, togglePause, clearView, pick, visible, remaining, until, label, clock };
  },
  template: `
  <div class="plog" data-testid="plog">
    <div class="adm-toolbar">
      <el-select v-model="state.userId" filterable remote allow-create default-first-option clearable
        :remote-method="search" :loading="state.searching" :placeholder="t('devtools.plog.pickUser')"
        style="width: 280px" data-testid="plog-user">
        <el-option v-for="o in state.options" :key="o.value" :label="o.label" :value="o.value" />
      </el-select>
      <template v-if="canWrite">
        <el-input-number v-model="state.minutes" :min="1" :max="60" :step="1" controls-position="right"
          style="width: 120px" data-testid="plog-minutes" />
        <span class="adm-muted">{{ t('devtools.plog.minutes') }}</span>
        <el-button type="primary" :disabled="!state.userId" :loading="state.busy" @click="start" data-testid="plog-start">
          <el-icon><icon-video-play /></el-icon><span>{{ state.session ? t('devtools.plog.restart') : t('devtools.plog.start') }}</span>
        </el-button>
        <el-button :disabled="!state.session" :loading="state.busy" @click="stop" data-testid="plog-stop">
          <el-icon><icon-video-pause /></el-icon><span>{{ t('devtools.plog.stop') }}</span>
        </el-button>
      </template>
      <span class="adm-spacer"></span>
      <el-tag v-if="state.session" type="danger" effect="dark" data-testid="plog-status" data-on="1">
        {{ t('devtools.plog.on', { until: until(state.session.until), left: remaining }) }}
      </el-tag>
      <el-tag v-else-if="state.userId" type="info" data-testid="plog-status" data-on="0">{{ t('devtools.plog.off') }}</el-tag>
    </div>

    <div v-if="state.sessions.length" class="plog-sessions" data-testid="plog-sessions">
      <span class="adm-muted">{{ t('devtools.plog.running') }}</span>
      <el-tag v-for="s in state.sessions" :key="s.user_id" class="plog-session" effect="plain" @click="pick(s.user_id)"
        data-testid="plog-session" :data-user="s.user_id">{{ label(s) }} · {{ until(s.until) }}</el-tag>
    </div>

    <div class="adm-toolbar">
      <el-input v-model="state.filter" clearable :placeholder="t('devtools.plog.filter')" style="width: 260px" data-testid="plog-filter">
        <template #prefix><el-icon><icon-search /></el-icon></template>
      </el-input>
      <el-radio-group v-model="state.dir" data-testid="plog-dir">
        <el-radio-button value="all">{{ t('devtools.plog.all') }}</el-radio-button>
        <el-radio-button value="in">{{ t('devtools.plog.in') }}</el-radio-button>
        <el-radio-button value="out">{{ t('devtools.plog.out') }}</el-radio-button>
      </el-radio-group>
      <el-button :type="state.paused ? 'warning' : 'default'" :disabled="!state.userId" @click="togglePause" data-testid="plog-pause">
        {{ state.paused ? t('devtools.plog.resume') : t('devtools.plog.pause') }}
      </el-button>
      <el-button @click="clearView" data-testid="plog-clear">{{ t('devtools.plog.clear') }}</el-button>
      <span class="adm-spacer"></span>
      <span class="adm-muted" data-testid="plog-count">{{ t('devtools.plog.count', { n: visible.length, total: state.frames.length }) }}</span>
    </div>

    <div class="plog-list" data-testid="plog-list" role="log" aria-live="off">
      <div v-if="!state.userId" class="plog-empty adm-muted">{{ t('devtools.plog.noUser') }}</div>
      <div v-else-if="!visible.length" class="plog-empty adm-muted" data-testid="plog-empty">{{ t('devtools.plog.noFrames') }}</div>
      <div v-for="f in visible" :key="f.id" class="plog-row" :class="'plog-' + f.dir" data-testid="plog-frame" :data-dir="f.dir" :data-id="f.id">
        <button type="button" class="plog-line" @click="state.expanded = state.expanded === f.id ? null : f.id" :aria-expanded="state.expanded === f.id">
          <span class="plog-time">{{ clock(f.ts) }}</span>
          <span class="plog-dir" :title="f.dir === 'in' ? t('devtools.plog.inTitle') : t('devtools.plog.outTitle')">{{ f.dir === 'in' ? '↑' : '↓' }}</span>
          <span class="plog-kind">{{ f.summary }}</span>
          <span class="plog-text">{{ f.text }}</span>
          <span class="plog-meta">{{ f.device_id }} · {{ f.size }} B</span>
        </button>
        <div v-if="state.expanded === f.id" class="plog-detail" data-testid="plog-detail">
          <div class="adm-muted plog-detail-meta">
            {{ t('devtools.plog.meta', { device: f.device_id, platform: f.platform, session: f.session_id, node: f.node, size: f.size }) }}
            <el-tag v-if="f.truncated" size="small" type="warning">{{ t('devtools.plog.truncated') }}</el-tag>
          </div>
          <pre class="plog-json" data-testid="plog-json">{{ f.pretty }}</pre>
        </div>
      </div>
    </div>
  </div>`,
};
