/** `keeper:simulate`'s flags as Hardhat passes them, and their defaults. No imports: the task registers with it. */
export interface SimulateArgs {
  scenario?: string;
  prices?: string;
  /** With --prices: the file's first N rows are warm-up only (the volatility band's), never replayed. */
  warmup?: number;
  steps?: number;
  vol?: string;
  vaults: number;
  keepers: number;
  policies: string;
  seed: number;
  survival: string;
  stress: string;
  /** Under downtime stress: "correlated" (every keeper down in the worst hour too, the default) or "independent". */
  outage?: string;
  /** Under gas stress: "min-max", the gwei range the keepers' own max fees are drawn from (default 80-400). */
  keeperMaxFee?: string;
  json?: string;
  chart?: string;
  /** Monte Carlo: the scenario and paths - 1 seeded variants of it. */
  paths: number;
  /** Processes to run the paths in; default the number of cores. */
  workers?: number;
  /** "i/n": run only the i-th of n slices of the paths and write it for `keeper:merge`. */
  shard?: string;
  /** Write one CSV row per event to this file. */
  events?: string;
}

/** The no-argument run: the crash that best shows the claim, sized to finish in about a minute and a half. */
export const DEFAULTS = {
  scenario: "black-thursday-2020",
  steps: 300,
  vaults: 30,
  keepers: 3,
  policies: "static,reactive,volatility",
  seed: 1,
  survival: "0.99",
  stress: "all",
  paths: 1,
} as const;
