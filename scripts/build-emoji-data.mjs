#!/usr/bin/env node
// Build the emoji picker's data (src/semot/web/app/data/emoji.json) from emojibase-data
// (MIT; names and keywords from Unicode CLDR), fetched with `npm pack`, nothing installed:
//
//   tmp=$(mktemp -d) && (cd $tmp && npm pack emojibase-data@17.0.0 && tar xzf *.tgz)
//   node scripts/build-emoji-data.mjs $tmp/package > src/semot/web/app/data/emoji.json
//   cp $tmp/package/LICENSE src/semot/web/app/data/emojibase-data-LICENSE.txt
//
// A subset, not all 3,700: the emoji people use at work (faces, hands, common things),
// no skin-tone variants, no flags, and only up to Emoji 12 so that the Windows 10 and
// older Android machines of an intranet draw them. Each entry is
// [emoji, English name, Chinese name, keywords in both languages].
import { readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
const read = (p) => JSON.parse(readFileSync(join(dir, p), "utf8"));
const en = read("en/data.json");
const zh = new Map(read("zh/data.json").map((e) => [e.hexcode, e]));
const version = read("package.json").version;
const MAX_VERSION = 12;

// [category id, emojibase group, subgroup keys allowed (null: all), how many at most]
const subgroups = read("en/messages.json").subgroups;
const sub = (keys) => new Set(subgroups.filter((s) => keys.some((k) => s.key.startsWith(k))).map((s) => s.order));
const CATEGORIES = [
  ["smileys", 0, null, 170],
  ["people", 1, sub(["hand-", "body-parts"]), 45],
  ["nature", 3, null, 50],
  ["food", 4, sub(["food-fruit", "food-vegetable", "food-prepared", "food-asian", "food-sweet", "drink"]), 90],
  ["activities", 6, null, 40],
  ["travel", 5, sub(["transport-ground", "transport-air", "time", "sky-weather"]), 50],
  ["objects", 7, sub(["phone", "computer", "light-video", "book-paper", "money", "mail", "writing", "office", "lock", "tool"]), 60],
  ["symbols", 8, sub(["other-symbol", "punctuation"]), 30],
];

const out = { source: `emojibase-data ${version} (MIT; CLDR annotations)`, categories: [] };
for (const [id, group, subs, max] of CATEGORIES) {
  const picked = en
    .filter((e) => e.group === group && e.version <= MAX_VERSION && (!subs || subs.has(e.subgroup)))
    .sort((a, b) => a.order - b.order)
    .slice(0, max)
    .map((e) => {
      const z = zh.get(e.hexcode) || {};
      const words = new Set([...(e.tags || []), ...(z.tags || [])].map((w) => w.toLowerCase()));
      return [e.emoji, e.label, z.label || "", [...words].join(" ")];
    });
  out.categories.push({ id, emoji: picked });
}
process.stdout.write(JSON.stringify(out) + "\n");
