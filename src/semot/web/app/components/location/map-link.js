// Where a location opens: the server's `map_url_template` (client configuration, from
// the auth reply; OpenStreetMap unless an administrator points it at the intranet's own
// map service), with {lat} and {lng} filled in. Only this link is ever followed, when
// a user clicks: the client loads no map tiles, since customers' intranets often reach
// no map service at all; the location is shown as coordinates and its title/address.
import { client } from "../../store.js";

export const DEFAULT_MAP_URL = "https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=16/{lat}/{lng}";

/** True for a latitude/longitude pair that can be on Earth. */
export function validPoint(lat, lng) {
  return Number.isFinite(lat) && Number.isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180;
}

/** The map link for a point, or "" for a malformed one (a message from a buggy client). */
export function mapUrl(lat, lng) {
  if (typeof lat !== "number" || typeof lng !== "number" || !validPoint(lat, lng)) return "";
  const cfg = client.serverConfig && client.serverConfig.map_url_template;
  const template = typeof cfg === "string" && /^https?:\/\//i.test(cfg) ? cfg : DEFAULT_MAP_URL;
  return template.replaceAll("{lat}", String(lat)).replaceAll("{lng}", String(lng));
}

/** "31.23040° N, 121.47370° E": the way a person reads a point, 5 decimals (about 1 m). */
export function formatPoint(lat, lng) {
  if (!validPoint(lat, lng)) return "";
  const ns = lat >= 0 ? "N" : "S";
  const ew = lng >= 0 ? "E" : "W";
  return `${Math.abs(lat).toFixed(5)}° ${ns}, ${Math.abs(lng).toFixed(5)}° ${ew}`;
}

/** A point typed or pasted as "31.2304, 121.4737" (or "31.2304 121.4737"), or taken
 * from a map link that carries it (OpenStreetMap, Google, geo: URIs): {lat, lng} or null. */
export function parsePoint(text) {
  const s = String(text || "").trim();
  const pair = /(-?\d{1,3}(?:\.\d+)?)\s*[,，\s/]\s*(-?\d{1,3}(?:\.\d+)?)/;
  const patterns = [
    /mlat=(-?[\d.]+)&mlon=(-?[\d.]+)/, // OpenStreetMap marker
    /@(-?[\d.]+),(-?[\d.]+)/, // Google Maps
    /[?&](?:q|ll|query)=(-?[\d.]+),(-?[\d.]+)/,
    /^geo:(-?[\d.]+),(-?[\d.]+)/i,
  ];
  for (const re of [...patterns, pair]) {
    const m = s.match(re);
    if (m) {
      const lat = Number(m[1]);
      const lng = Number(m[2]);
      if (validPoint(lat, lng)) return { lat, lng };
    }
  }
  return null;
}
