export * from "./bridge";
export * from "./generated-secret";
export * from "./gpu";
export * from "./labels";
export * from "./nodes";
export * from "./quantity";
export * from "./render";
export * from "./validation";
