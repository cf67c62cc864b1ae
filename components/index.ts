export * from "./feast";
export * from "./mlflow";
export * from "./object-store";
export * from "./platform-namespace";
export * from "./postgres";
export * from "./redis";
export * from "./runtime";
export * from "./shared";
