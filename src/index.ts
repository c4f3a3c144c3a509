/** Public library surface of superchunk: re-exports only. */
export * from "./api/index.js";
export * from "./errors.js";
export * from "./types.js";
