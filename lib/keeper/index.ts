export * from "./decide";
export * from "./routing";
export * from "./fees";
