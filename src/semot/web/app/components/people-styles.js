// The people components' stylesheet (profile card, pickers, read receipts), linked once
// from the first module that needs it: app.css (shared by everyone) stays as it is.
const HREF = "/web/app/components/people.css";

if (typeof document !== "undefined" && !document.querySelector(`link[href="${HREF}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = HREF;
  document.head.appendChild(link);
}
