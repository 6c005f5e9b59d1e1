#!/usr/bin/env bash
# Refresh the web client's vendored libraries (src/semot/web/vendor/) from the npm
# registry: `npm pack` each pinned package into a temporary directory, copy the
# prebuilt browser ES-module files and the licences, and record the versions.
# Nothing is installed and no build runs; the web client loads these files as they are.
#
#   scripts/refresh-vendor.sh                 # the pinned versions below
#   VUE=3.5.46 ELEMENT_PLUS=2.15.0 scripts/refresh-vendor.sh   # upgrade (then test!)
#
# Also Swagger UI for /docs (swagger-ui-dist: the 5.x line reads OpenAPI 3.1), and
# ECharts for the admin console's charts (its full ES-module build; no imports).
set -euo pipefail
cd "$(dirname "$0")/.."

VUE="${VUE:-3.5.45}"
ELEMENT_PLUS="${ELEMENT_PLUS:-2.14.8}"
ICONS="${ICONS:-2.3.2}"
SWAGGER_UI="${SWAGGER_UI:-5.35.0}"
TUS="${TUS:-4.3.1}"
ECHARTS="${ECHARTS:-6.1.0}"

dest=src/semot/web/vendor
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

unpack() { # name version -> directory with the package's files
  local name="$1" version="$2" dir
  dir="$tmp/$(echo "$name" | tr '/@' '__')"
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$name@$version" >/dev/null && tar xzf ./*.tgz)
  echo "$dir/package"
}

vue="$(unpack vue "$VUE")"
ep="$(unpack element-plus "$ELEMENT_PLUS")"
icons="$(unpack @element-plus/icons-vue "$ICONS")"
swagger="$(unpack swagger-ui-dist "$SWAGGER_UI")"
tus="$(unpack tus-js-client "$TUS")"
echarts="$(unpack echarts "$ECHARTS")"

rm -rf "$dest"
mkdir -p "$dest/vue" "$dest/element-plus/locale" "$dest/icons-vue" "$dest/swagger-ui" "$dest/tus-js-client" "$dest/echarts" "$dest/LICENSES"
# Vue: the ES-module browser build with the template compiler (templates are strings).
cp "$vue/dist/vue.esm-browser.prod.js" "$dest/vue/"
# Element Plus: the full ES-module bundle (imports only "vue"), its CSS and two locales.
cp "$ep/dist/index.full.min.mjs" "$ep/dist/index.css" "$dest/element-plus/"
cp "$ep/dist/locale/zh-cn.min.mjs" "$ep/dist/locale/en.min.mjs" "$dest/element-plus/locale/"
# The icon components, as one ES module (imports only "vue").
cp "$icons/dist/index.min.js" "$dest/icons-vue/"
# Swagger UI for /docs: its classic bundle (a plain script, no eval, no inline script) and CSS.
cp "$swagger/swagger-ui-bundle.js" "$swagger/swagger-ui.css" "$dest/swagger-ui/"
# tus-js-client for resumable uploads (sdk/uploads.js): its self-contained UMD bundle, which
# runs in browsers (XHR) and, loaded by import(), in Node.js (the SDK gives it a fetch stack).
cp "$tus/dist/tus.min.js" "$dest/tus-js-client/"
# ECharts for the admin console (admin/components/chart.js): the full minified ES module,
# with the Chinese and English locales built in.
cp "$echarts/dist/echarts.esm.min.mjs" "$dest/echarts/"
# Drop the source-map comments: the maps are not vendored.
for f in "$dest"/vue/*.js "$dest"/element-plus/*.mjs "$dest"/element-plus/locale/*.mjs "$dest"/icons-vue/*.js "$dest"/element-plus/*.css \
  "$dest"/swagger-ui/* "$dest"/tus-js-client/*.js "$dest"/echarts/*.mjs; do
  sed -i -e 's|//# sourceMappingURL=.*$||' -e 's|/\*# sourceMappingURL=.*\*/||' "$f"
done

cp "$vue/LICENSE" "$dest/LICENSES/vue-LICENSE.txt"
cp "$ep/LICENSE" "$dest/LICENSES/element-plus-LICENSE.txt"
cp "$icons/LICENSE" "$dest/LICENSES/element-plus-icons-vue-LICENSE.txt"
cp "$swagger/LICENSE" "$dest/LICENSES/swagger-ui-LICENSE.txt"
cp "$swagger/NOTICE" "$dest/LICENSES/swagger-ui-NOTICE.txt"
cp "$tus/LICENSE" "$dest/LICENSES/tus-js-client-LICENSE.txt"
cp "$echarts/LICENSE" "$dest/LICENSES/echarts-LICENSE.txt"
cp "$echarts/NOTICE" "$dest/LICENSES/echarts-NOTICE.txt"
cp "$echarts/licenses/LICENSE-d3" "$dest/LICENSES/echarts-LICENSE-d3.txt"

cat > "$dest/VERSIONS" <<VERSIONS
# Vendored by scripts/refresh-vendor.sh from the npm registry (npm pack); do not edit.
vue $VUE dist/vue.esm-browser.prod.js
element-plus $ELEMENT_PLUS dist/index.full.min.mjs dist/index.css dist/locale/zh-cn.min.mjs dist/locale/en.min.mjs
@element-plus/icons-vue $ICONS dist/index.min.js
swagger-ui-dist $SWAGGER_UI swagger-ui-bundle.js swagger-ui.css
tus-js-client $TUS dist/tus.min.js
echarts $ECHARTS dist/echarts.esm.min.mjs
VERSIONS
echo "vendored: vue $VUE, element-plus $ELEMENT_PLUS, @element-plus/icons-vue $ICONS, swagger-ui-dist $SWAGGER_UI, tus-js-client $TUS, echarts $ECHARTS -> $dest"
