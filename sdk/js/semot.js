// The Semot JavaScript SDK. The canonical file lives inside the Python package, so that
// the server serves it to browsers (/sdk/semot.js) and `pip install .` ships it:
// src/semot/web/sdk/semot.js. This module re-exports it for Node.js and bundlers.
export * from "../../src/semot/web/sdk/semot.js";
