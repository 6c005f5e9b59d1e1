// The language menu (简体中文 / English) of the chat client and the admin console: each
// app makes its own from its translator (createLangSwitch({ i18n, setLocale, t })).
// Needs the `icon-arrow-down` component registered (both apps do) and the strings
// "lang.label", "lang.zh", "lang.en".
import { LOCALES } from "./i18n-core.js";

export function createLangSwitch({ i18n, setLocale, t, locales = LOCALES }) {
  return {
    name: "LangSwitch",
    props: { plain: { type: Boolean, default: false } },
    setup() {
      return { i18n, t, LOCALES: locales, setLocale, label: (l) => (l === "zh-CN" ? t("lang.zh") : t("lang.en")) };
    },
    template: `
      <el-dropdown trigger="click" @command="setLocale" class="lang-switch">
        <el-button :text="!plain" size="small" :aria-label="t('lang.label')" data-testid="lang-switch">
          <svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="1.7" aria-hidden="true" style="margin-right:4px"><circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3c2.5 2.6 3.7 5.6 3.7 9s-1.2 6.4-3.7 9c-2.5-2.6-3.7-5.6-3.7-9S9.5 5.6 12 3z"/></svg>
          {{ label(i18n.locale) }}
          <el-icon class="el-icon--right"><icon-arrow-down /></el-icon>
        </el-button>
        <template #dropdown>
          <el-dropdown-menu>
            <el-dropdown-item v-for="l in LOCALES" :key="l" :command="l" :data-testid="'lang-' + l" :disabled="l === i18n.locale">{{ label(l) }}</el-dropdown-item>
          </el-dropdown-menu>
        </template>
      </el-dropdown>`,
  };
}
