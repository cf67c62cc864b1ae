export * from "./platform-namespace";
export * from "./shared";
