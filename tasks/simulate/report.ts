/** `keeper:simulate`'s terminal output: the run's setting, the summary table (one column per policy), the timings. */
import type { SimulationOptions, SimulationSetup, SimulationTimings } from "../../lib/simulation/engine";
import type { PolicyResult } from "../../lib/simulation/metrics";
import type { PolicyName } from "../../lib/simulation/policies";
import type { SimulationResult } from "../../lib/simulation/result";
import * as fmt from "../shared/format";

const DASH = "–";

const dollars = (usd: number): string =>
  `${usd < 0 ? "-" : ""}$${Math.abs(usd).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const count = (n: number): string => n.toLocaleString("en-US");
const seconds = (s: number): string => fmt.duration(BigInt(Math.round(s)));
const percent = (fraction: number): string => `${Number((fraction * 100).toPrecision(4))}%`;
const hf = (n: number): string => n.toFixed(2);

/** Lines that describe the run before it starts: the path, the vaults, the keepers, the volatility band. */
export function settingLines(
  options: Pick<SimulationOptions, "path" | "source" | "seed">,
  setup: SimulationSetup,
): string[] {
  const points = options.path.points;
  const prices = points.map((p) => p.price);
  const span = points[points.length - 1].timestamp - points[0].timestamp;
  const deposits = setup.population.map((v) => Number(v.deposit / 10n ** 16n) / 100);
  const hf0 = setup.population.map((v) => Number(v.hf0 / 10n ** 16n) / 100);
  const lines = [
    `Scenario    ${options.path.name} (${options.source === "scenario" ? "built-in" : options.source}) · ` +
      `${points.length} steps over ${seconds(span)} · ${dollars(prices[0])} → ${dollars(prices[prices.length - 1])} ` +
      `(low ${dollars(Math.min(...prices))}) · seed ${options.seed}`,
    `Vaults      ${setup.population.length}, one per owner · ${Math.min(...deposits)}-${Math.max(...deposits)} WETH ` +
      `deposited · static opens at HF ${hf(Math.min(...hf0))}-${hf(Math.max(...hf0))}`,
  ];
  for (const k of setup.keepers) {
    lines.push(
      `Keeper      ${k.name}: latency ${k.latency} s · gas ${fmt.fixed(k.gasPrice, 9, 1)} gwei · ` +
        `least profit ${fmt.usd(k.minProfitBase)}`,
    );
  }
  const band = setup.volatility;
  if (band !== undefined) {
    lines.push(
      `Volatility  σ ${percent(band.sigmaAnnual)} a year (realized over the path) · horizon ` +
        `${seconds(band.horizonSeconds)} (slowest keeper ${band.slowestLatency} s + TWAP window ` +
        `${band.horizonSeconds - band.slowestLatency} s) · survival ${percent(band.survival)} → band ` +
        `${fmt.fixed(band.policy.minHF, 18, 2)} / ${fmt.fixed(band.policy.targetHF, 18, 2)} / ` +
        `${fmt.fixed(band.policy.maxHF, 18, 2)}`,
    );
  }
  return lines;
}

type Row = [label: string, cell: (p: PolicyResult) => string];

const ROWS: Row[] = [
  [
    "band (min/target/max)",
    (p) =>
      p.band === null ? "automation paused" : `${hf(p.band.minHF)} / ${hf(p.band.targetHF)} / ${hf(p.band.maxHF)}`,
  ],
  ["vaults liquidated", (p) => `${p.liquidations} (${p.liquidationCalls} calls)`],
  ["liquidation penalty", (p) => dollars(p.liquidationPenaltyUsd)],
  ["rebalances", (p) => count(p.rebalances)],
  ["rebalance cost", (p) => dollars(p.rebalanceCostUsd)],
  ["keeper rewards", (p) => dollars(p.keeperRewardsUsd)],
  ["keeper gas", (p) => `${count(p.gasUsed)} (${dollars(p.keeperGasCostUsd)})`],
  [
    "slippage mean / worst",
    (p) =>
      p.slippageMeanBps === null ? DASH : `${p.slippageMeanBps.toFixed(2)} / ${p.slippageWorstBps?.toFixed(2)} bps`,
  ],
  ["worst HF", (p) => p.worstHF.toFixed(4)],
  [
    "response mean / worst",
    (p) =>
      p.responseBlocksMean === null ? DASH : `${p.responseBlocksMean.toFixed(1)} / ${p.responseBlocksWorst} blocks`,
  ],
  ["equity at start", (p) => dollars(p.equityStartUsd)],
  ["equity at end", (p) => dollars(p.equityEndUsd)],
  ["equity change", (p) => `${p.equityChangePct.toFixed(2)}%`],
  ["kicks / cancels", (p) => `${count(p.kicks)} / ${count(p.cancels)}`],
  ["guard delays", (p) => count(p.guardDelays)],
  [
    "failures",
    (p) => {
      const entries = Object.entries(p.failures);
      return entries.length === 0 ? "0" : entries.map(([name, n]) => `${name} ×${n}`).join(", ");
    },
  ],
  ["out of band at end", (p) => count(p.outOfBandAtEnd)],
];

/** Pads a grid of cells into aligned columns, two spaces apart. */
function table(grid: readonly (readonly string[])[]): string[] {
  const widths = grid[0].map((_, c) => Math.max(...grid.map((row) => row[c].length)));
  return grid.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]))
      .join("  ")
      .trimEnd(),
  );
}

/** The summary table: one row per metric, one column per policy; then each keeper's wins per policy. */
export function summaryLines(result: SimulationResult): string[] {
  const names = Object.keys(result.policies) as PolicyName[];
  const policies = names.map((n) => result.policies[n] as PolicyResult);
  const metrics = table([["", ...names], ...ROWS.map(([label, cell]) => [label, ...policies.map(cell)])]);
  const keepers = table([
    ["keeper: rebalances · rewards · gas cost", ...names],
    ...result.keepers.map((k) => [
      `${k.name} (${k.latencySeconds} s, ${k.gasPriceGwei} gwei, ≥ ${dollars(k.minProfitUsd)})`,
      ...policies.map((p) => {
        const t = p.keepers[k.name];
        return t.executions === 0 && t.kicks === 0
          ? DASH
          : `${count(t.executions)} · ${dollars(t.rewardsUsd)} · ${dollars(t.gasCostUsd)}`;
      }),
    ]),
  ]);
  return [...metrics, "", ...keepers];
}

/** Where the time went (wall clock; never in the JSON). */
export function timingLines(t: SimulationTimings): string[] {
  const perPolicy = Object.entries(t.policySeconds)
    .map(([name, s]) => `${name} ${s.toFixed(1)} s`)
    .join(" · ");
  const phases = Object.entries(t.phases)
    .map(([phase, s]) => `${phase} ${s.toFixed(1)} s`)
    .join(" · ");
  return [
    `Time        ${seconds(t.totalSeconds)} (${t.totalSeconds.toFixed(1)} s): setup ${t.setupSeconds.toFixed(1)} s · ${perPolicy}`,
    `Phases      ${phases} (lens reads are part of keepers)`,
  ];
}
