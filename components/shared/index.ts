export * from "./bridge";
export * from "./gpu";
export * from "./labels";
export * from "./quantity";
export * from "./render";
export * from "./validation";
