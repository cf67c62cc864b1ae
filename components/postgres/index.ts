export * from "./bootstrap";
export * from "./chart";
export * from "./config";
export * from "./postgres";
