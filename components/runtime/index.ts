export * from "./chart";
export * from "./config";
export * from "./runtime";
