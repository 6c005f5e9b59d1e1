// Small inline SVG glyphs that the icon set lacks (our own markup, never user content).
export const SmileGlyph = {
  name: "SmileGlyph",
  template: `<svg viewBox="0 0 24 24" width="1em" height="1em" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" aria-hidden="true"><circle cx="12" cy="12" r="9.2"/><path d="M8 14.2c1 1.4 2.4 2.1 4 2.1s3-.7 4-2.1"/><circle cx="9" cy="9.7" r=".9" fill="currentColor" stroke="none"/><circle cx="15" cy="9.7" r=".9" fill="currentColor" stroke="none"/></svg>`,
};

export const FireGlyph = {
  name: "FireGlyph",
  template: `<svg viewBox="0 0 24 24" width="1em" height="1em" fill="currentColor" aria-hidden="true"><path d="M13.5 2.2c.4 2.6-.6 4.4-2 6-1.2 1.3-2.6 2.6-2.6 4.9 0 1.4.7 2.6 1.8 3.3-.3-1.6.3-3 1.6-4.2.4 1.7 1.5 2.6 2.4 3.6.6.7.9 1.5.8 2.4 2-.9 3.3-2.9 3.3-5.2 0-2.2-1-4-2.1-5.6-.2 1.1-.8 2-1.8 2.6.6-3.3-.5-6-3.4-7.8zM12 22c-4 0-7-2.9-7-6.8 0-2.7 1.3-4.6 2.7-6.1.2 1 .7 1.8 1.4 2.4C9 8.2 11 5.6 13.5 2.2"/></svg>`,
};

export const AtGlyph = {
  name: "AtGlyph",
  template: `<svg viewBox="0 0 24 24" width="1em" height="1em" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" aria-hidden="true"><circle cx="12" cy="12" r="3.6"/><path d="M15.6 8.6v4.6c0 1.5 1 2.4 2.2 2.4 1.6 0 2.9-1.5 2.9-3.9A8.7 8.7 0 1 0 17 19.2"/></svg>`,
};
