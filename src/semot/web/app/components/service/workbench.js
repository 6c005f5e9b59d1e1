// The customer-service workbench (客服工作台): a tab of the web client for agents.
// Left: my state (online / busy / offline), my queues, the visitors waiting, the left
// messages, my active conversations and the recent ones. Right: the chosen conversation
// in the normal chat view (history, files, receipts, quick phrases all work as in any
// chat), with the visitor's context card (the product or order they came from), their
// past sessions, and Transfer / Close. Live through `evt cs` (stores/service.js).
import { computed, ref } from "vue";
import { Service } from "@element-plus/icons-vue";
import { t } from "../../i18n.js";
import { client, displayName, state } from "../../store.js";
import ChatView from "../chat.js";
import { accept, closeSession, selectSession, selected, service, setAgentState, transfer } from "../../stores/service.js";
import ContextCard from "./context-card.js";
import "./styles.js";
import "./strings.js";

function visitorName(s) {
  const v = (s && s.visitor) || {};
  return v.display_name || (v.user_id ? displayName(v.user_id) : "") || t("cs.visitor");
}

function when(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : d.toLocaleDateString();
}

const SessionRow = {
  name: "ServiceSessionRow",
  props: { s: { type: Object, required: true }, action: { type: String, default: "" } },
  emits: ["act", "pick"],
  setup(props) {
    const active = computed(() => service.selectedId === props.s.session_id);
    const title = computed(() => (props.s.context && props.s.context.title) || "");
    return { t, active, title, visitorName, when };
  },
  template: `
    <li class="cs-row" :class="{ active }" data-testid="cs-session" :data-session="s.session_id" :data-state="s.state">
      <button type="button" class="cs-row-main" @click="$emit('pick', s)">
        <span class="cs-row-name" data-testid="cs-visitor-name">{{ visitorName(s) }}</span>
        <span v-if="s.visitor && s.visitor.signed_in" class="cs-tag">{{ t('cs.member') }}</span>
        <span class="cs-row-time">{{ when(s.created_at) }}</span>
        <span v-if="title" class="cs-row-sub">{{ title }}</span>
        <span v-if="s.rating" class="cs-row-sub">{{ '★'.repeat(s.rating.score || s.rating) }}</span>
      </button>
      <el-button v-if="action" size="small" type="primary" @click="$emit('act', s)" data-testid="cs-accept">{{ t('cs.accept') }}</el-button>
    </li>`,
};

export const ServiceView = {
  name: "ServiceView",
  components: { ChatView, ContextCard, SessionRow },
  setup() {
    const current = computed(() => selected());
    const conv = computed(() => {
      const s = current.value;
      return s && s.conv && state.activeId === s.conv ? state.convs[s.conv] : null;
    });
    const transferOpen = ref(false);
    const target = ref("");
    const states = ["online", "busy", "offline"];
    async function pick(s) {
      await selectSession(s);
    }
    async function doTransfer() {
      const s = current.value;
      if (!s || !target.value) return;
      const [kind, id] = target.value.split(":", 2);
      await transfer(s, kind === "q" ? { queue_id: id } : { agent_id: id }).catch(() => {});
      transferOpen.value = false;
      target.value = "";
    }
    async function doClose() {
      if (current.value) await closeSession(current.value).catch(() => {});
    }
    // me.queues are ids: the name from the widget's public list (the id until it has loaded)
    function queueName(q) {
      const id = q.queue_id || q;
      const found = service.queues.find((x) => x.queue_id === id);
      return q.name || (found && found.name) || id;
    }
    function back() {
      service.selectedId = null;
      state.activeId = null;
    }
    const canAct = computed(() => current.value && current.value.state === "active" && current.value.agent_id === client.userId);
    return {
      service, state, t, current, conv, states, pick, accept, setAgentState, transferOpen, target, doTransfer, doClose,
      back, canAct, visitorName, when, queueName,
    };
  },
  template: `
    <section class="cs-view" :class="{ 'cs-has-current': !!current }" data-testid="cs-workbench">
      <aside class="cs-side">
        <header class="cs-head">
          <el-button v-if="state.narrow" text @click="state.tab = 'chats'" :aria-label="t('cs.back')">‹</el-button>
          <h2>{{ t('cs.title') }}</h2>
          <el-select v-if="service.me" :model-value="service.me.state" size="small" class="cs-state" @change="setAgentState" data-testid="cs-state">
            <el-option v-for="st in states" :key="st" :value="st" :label="t('cs.state.' + st)" />
          </el-select>
        </header>
        <p v-if="service.me" class="cs-me" data-testid="cs-me">
          {{ t('cs.load', { n: service.me.active_count || 0, max: service.me.max_concurrent || 0 }) }}
          <span v-for="q in service.me.queues || []" :key="q.queue_id || q" class="cs-tag">{{ queueName(q) }}</span>
        </p>
        <p v-if="service.error" class="cs-error" role="alert">{{ service.error }}</p>
        <div class="cs-lists">
          <h3>{{ t('cs.waiting') }} <span class="cs-count" data-testid="cs-waiting-count">{{ service.waiting.length }}</span></h3>
          <ul data-testid="cs-waiting"><session-row v-for="s in service.waiting" :key="s.session_id" :s="s" action="accept" @act="accept" @pick="pick" /></ul>
          <h3>{{ t('cs.leftMessages') }} <span class="cs-count">{{ service.left_messages.length }}</span></h3>
          <ul data-testid="cs-left"><session-row v-for="s in service.left_messages" :key="s.session_id" :s="s" action="accept" @act="accept" @pick="pick" /></ul>
          <h3>{{ t('cs.active') }} <span class="cs-count">{{ service.active.length }}</span></h3>
          <ul data-testid="cs-active"><session-row v-for="s in service.active" :key="s.session_id" :s="s" @pick="pick" /></ul>
          <h3>{{ t('cs.recent') }}</h3>
          <ul data-testid="cs-recent"><session-row v-for="s in service.recent" :key="s.session_id" :s="s" @pick="pick" /></ul>
          <p v-if="!service.waiting.length && !service.left_messages.length && !service.active.length" class="cs-empty">{{ t('cs.nothing') }}</p>
        </div>
      </aside>
      <main class="cs-main">
        <template v-if="current">
          <div class="cs-chat">
            <chat-view v-if="conv" :key="conv.id" :conv="conv" />
          </div>
          <aside class="cs-info" data-testid="cs-info">
            <div class="cs-info-head">
              <el-button v-if="state.narrow" text @click="back" data-testid="cs-back">‹ {{ t('cs.back') }}</el-button>
              <strong data-testid="cs-current-visitor">{{ visitorName(current) }}</strong>
              <span class="cs-tag" data-testid="cs-current-state">{{ t('cs.sessionState.' + current.state) }}</span>
            </div>
            <context-card v-if="current.context" :ctx="current.context" />
            <div v-if="canAct" class="cs-actions">
              <el-button size="small" @click="transferOpen = !transferOpen" data-testid="cs-transfer">{{ t('cs.transfer') }}</el-button>
              <el-button size="small" type="danger" plain @click="doClose" data-testid="cs-close">{{ t('cs.close') }}</el-button>
            </div>
            <div v-if="transferOpen && canAct" class="cs-transfer" data-testid="cs-transfer-panel">
              <el-select v-model="target" size="small" filterable :placeholder="t('cs.transferTo')" data-testid="cs-transfer-target">
                <el-option-group :label="t('cs.agents')">
                  <el-option v-for="a in service.agents" :key="'a' + a.user_id" :value="'a:' + a.user_id" :label="a.display_name + ' · ' + t('cs.state.' + (a.state || 'offline'))" />
                </el-option-group>
                <el-option-group :label="t('cs.queues')">
                  <el-option v-for="q in service.queues" :key="'q' + q.queue_id" :value="'q:' + q.queue_id" :label="q.name" />
                </el-option-group>
              </el-select>
              <el-button size="small" type="primary" :disabled="!target" @click="doTransfer" data-testid="cs-transfer-go">{{ t('cs.transferGo') }}</el-button>
            </div>
            <p v-if="current.rating" class="cs-rating" data-testid="cs-rating">{{ '★'.repeat(current.rating.score || 0) }} {{ current.rating.comment || '' }}</p>
            <h4>{{ t('cs.history') }}</h4>
            <ul class="cs-history" data-testid="cs-history">
              <li v-for="h in service.history" :key="h.session_id">{{ when(h.created_at) }} · {{ t('cs.sessionState.' + h.state) }}<span v-if="h.context && h.context.title"> · {{ h.context.title }}</span></li>
              <li v-if="!service.history.length" class="cs-empty">{{ t('cs.noHistory') }}</li>
            </ul>
          </aside>
        </template>
        <div v-else class="chat-empty"><p class="chat-empty-title">{{ t('cs.pick') }}</p></div>
      </main>
    </section>`,
};

/** The rail entry (only for agents), with the number of visitors waiting. */
export const ServiceNav = {
  name: "ServiceNav",
  components: { IconService: Service },
  props: { variant: { type: String, default: "rail" } },
  setup() {
    const count = computed(() => service.waiting.length + service.left_messages.length);
    return { service, state, t, count };
  },
  template: `
    <template v-if="service.isAgent">
      <button v-if="variant === 'rail'" class="rail-item" :class="{ active: state.tab === 'service' }" type="button" :aria-label="t('cs.title')"
              :aria-current="state.tab === 'service' ? 'page' : undefined" @click="state.tab = 'service'" data-testid="nav-service">
        <el-badge :value="count" :hidden="!count" :max="99" class="rail-badge"><el-icon :size="24"><icon-service /></el-icon></el-badge>
        <span class="rail-label">{{ t('cs.tab') }}</span>
      </button>
      <button v-else type="button" :class="{ active: state.tab === 'service' }" @click="state.tab = 'service'" data-testid="tab-service">
        <el-badge :value="count" :hidden="!count" :max="99"><el-icon :size="22"><icon-service /></el-icon></el-badge>
        <span>{{ t('cs.tab') }}</span>
      </button>
    </template>`,
};
