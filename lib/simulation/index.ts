/** Chain-free pieces of the keeper simulation: price paths, volatility and bands, charts, progress. */
export * from "./errors";
export * from "./random";
export * from "./scenarios";
export * from "./csv";
export * from "./volatility";
export * from "./chart";
export * from "./progress";
