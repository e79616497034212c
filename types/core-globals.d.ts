/**
 * The few Web-platform globals the core (src/hw, src/kernel, src/check, src/session) may use:
 * present in browsers and in Node alike. tsconfig.core.json compiles the core against these
 * instead of Node's or the DOM's types, so a Node API in the core is a type error.
 */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
