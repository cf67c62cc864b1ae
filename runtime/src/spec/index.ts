export * from "./parse";
export * from "./problems";
export * from "./types";
