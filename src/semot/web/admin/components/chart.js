// An ECharts chart for the console's pages (the vendored full ES-module build):
//
//   import AdminChart from "../components/chart.js";
//   components: { AdminChart },
//   const option = computed(() => ({ xAxis: {...}, series: [{ name: t("dashboard.logins"), ... }] }));
//   <admin-chart :option="option" :height="300" :loading="busy" :empty="!rows.length" @click="onPoint" />
//
// It fills its box's width and follows it (a ResizeObserver: the window, the sidebar
// folding, a tab becoming visible), is disposed when the page goes away, and speaks
// the console's language: ECharts' own texts are re-made when the language changes,
// and an `option` built with t() in a computed() follows by itself. `option` replaces
// the chart's (notMerge), so a series that goes away disappears.
import { onBeforeUnmount, onMounted, ref, watch } from "vue";
import * as echarts from "echarts";
import { i18n, t } from "../i18n.js";

const PALETTE = ["#409eff", "#67c23a", "#e6a23c", "#f56c6c", "#909399", "#9b59b6", "#13c2c2", "#fa8c16"];

export default {
  name: "AdminChart",
  props: {
    option: { type: Object, required: true },
    height: { type: [Number, String], default: 320 },
    loading: { type: Boolean, default: false },
    empty: { type: Boolean, default: false }, // show "no data" instead of an empty plot
  },
  emits: ["click", "ready"],
  setup(props, { emit, expose }) {
    const box = ref(null);
    let chart = null;
    let observer = null;

    function apply() {
      if (!chart) return;
      chart.setOption({ color: PALETTE, textStyle: { fontFamily: "inherit" }, ...props.option }, true);
    }

    function init() {
      if (chart) chart.dispose();
      chart = echarts.init(box.value, null, { locale: i18n.locale === "zh-CN" ? "ZH" : "EN" });
      chart.on("click", (params) => emit("click", params));
      apply();
      if (props.loading) chart.showLoading({ text: t("common.loading") });
      box.value.dataset.chartReady = "1";
      emit("ready", chart);
    }

    onMounted(() => {
      init();
      observer = new ResizeObserver(() => {
        if (chart && box.value && box.value.clientWidth) chart.resize();
      });
      observer.observe(box.value);
    });
    watch(() => props.option, apply, { deep: true });
    watch(() => i18n.locale, () => chart && init());
    watch(
      () => props.loading,
      (on) => {
        if (!chart) return;
        if (on) chart.showLoading({ text: t("common.loading") });
        else chart.hideLoading();
      },
    );
    onBeforeUnmount(() => {
      if (observer) observer.disconnect();
      if (chart) chart.dispose();
      chart = null;
    });
    expose({ instance: () => chart });
    const css = () => (typeof props.height === "number" ? `${props.height}px` : props.height);
    return { box, css, t };
  },
  template: `
    <div class="adm-chart-wrap" :style="{ height: css() }">
      <div ref="box" class="adm-chart-box" data-testid="chart" :aria-hidden="empty ? 'true' : null"></div>
      <div v-if="empty && !loading" class="adm-chart-empty" data-testid="chart-empty">{{ t('chart.noData') }}</div>
    </div>`,
};
