// The console's own views in the content area: the page host (renders the current page,
// catches its errors so one broken page never takes the console down), not found,
// no permission, nothing available.
import { h, onErrorCaptured, ref, watch } from "vue";
import { t } from "./i18n.js";
import { navigate, route } from "./router.js";

export const NotFoundView = {
  name: "NotFoundView",
  props: { name: { type: String, default: "" } },
  setup() {
    return { t, home: () => navigate("") };
  },
  template: `
    <el-result icon="warning" :title="t('notFound.title')" :sub-title="t('notFound.body', { name })" data-testid="not-found">
      <template #extra><el-button type="primary" @click="home">{{ t('common.home') }}</el-button></template>
    </el-result>`,
};

export const ForbiddenView = {
  name: "ForbiddenView",
  props: { perm: { type: String, default: "" } },
  setup() {
    return { t, home: () => navigate("") };
  },
  template: `
    <el-result icon="error" :title="t('forbidden.title')" :sub-title="t('forbidden.body', { perm })" data-testid="forbidden">
      <template #extra><el-button type="primary" @click="home">{{ t('common.home') }}</el-button></template>
    </el-result>`,
};

export const EmptyView = {
  name: "EmptyView",
  setup() {
    return { t };
  },
  template: `<el-result icon="info" :title="t('empty.title')" :sub-title="t('empty.body')" data-testid="no-pages" />`,
};

/** Renders `page.component`; an error thrown while rendering it shows an error view
 * (the error goes to the browser console) until the route changes. */
export const PageHost = {
  name: "PageHost",
  props: { page: { type: Object, required: true } },
  setup(props) {
    const failed = ref(false);
    onErrorCaptured((error) => {
      console.error(`semot admin: the page ${props.page.name} failed`, error);
      failed.value = true;
      return false;
    });
    watch(() => route.path, () => (failed.value = false));
    return () =>
      failed.value
        ? h(ErrorView, { onRetry: () => (failed.value = false) })
        : h(props.page.component, { key: props.page.name });
  },
};

const ErrorView = {
  name: "PageErrorView",
  emits: ["retry"],
  setup() {
    return { t };
  },
  template: `
    <el-result icon="error" :title="t('pageError.title')" :sub-title="t('pageError.body')" data-testid="page-error">
      <template #extra><el-button @click="$emit('retry')">{{ t('common.retry') }}</el-button></template>
    </el-result>`,
};
