export * from "./decide";
export * from "./routing";
export * from "./collateral";
export * from "./fees";
export * from "./hints";
