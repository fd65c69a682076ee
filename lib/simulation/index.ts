/** Chain-free pieces of the keeper simulation: price paths and their variants, volatility and bands, charts, progress. */
export * from "./errors";
export * from "./random";
export * from "./scenarios";
export * from "./variants";
export * from "./csv";
export * from "./volatility";
export * from "./chart";
export * from "./progress";
