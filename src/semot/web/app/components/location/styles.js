// The place search's stylesheet (location.css), linked once from the first module that
// needs it (as extras/styles.js): app.css stays as it is.
const HREF = "/web/app/components/location/location.css";

if (typeof document !== "undefined" && !document.querySelector(`link[href="${HREF}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = HREF;
  document.head.appendChild(link);
}
