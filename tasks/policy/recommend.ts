/** `policy:recommend`: a health-factor band from a volatility, the keepers' response horizon and a survival target. */
import { LOCAL_PARAMS, type PolicyValues } from "../../lib/protocol";
import {
  buildScenario,
  hfToNumber,
  inverseNormalCdf,
  EWMA_HALF_LIFE_SECONDS,
  pastVolatility,
  readPricePathCsv,
  recommendMinHF,
  recommendPolicy,
  scenarioNames,
  SimulationError,
  type PricePoint,
} from "../../lib/simulation";
import { toJson } from "../intent/payload";
import { TaskError } from "../shared/errors";
import * as fmt from "../shared/format";
import { policyText } from "../shared/vault";

export interface RecommendArgs {
  scenario?: string;
  prices?: string;
  vol?: string;
  horizon: number;
  survival: string;
  json: boolean;
}

export interface Recommendation {
  /** Where the volatility comes from: "--vol", "scenario <name>" or the CSV file. */
  source: string;
  /** What the volatility was measured on, if anything (a scenario's warm-up, a CSV's rows): points and span. */
  points?: number;
  spanSeconds?: number;
  sigmaAnnual: number;
  horizonSeconds: number;
  survival: number;
  z: number;
  /** exp(z·σ·√h): the unrounded minHF, and the factor between the band's levels. */
  move: number;
  policy: PolicyValues;
}

/** Above this, a volatility was almost surely given in percent. */
const MAX_VOL = 10;

export function parseVol(value: string): number {
  const vol = /^\d*\.?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(vol > 0)) throw new TaskError(`--vol must be an annualized volatility above 0 like 0.8 (80%), got "${value}"`);
  if (vol > MAX_VOL) {
    throw new TaskError(`--vol ${value} is ${vol * 100}% a year: give it as a fraction, e.g. 0.8 for 80%`);
  }
  return vol;
}

export function parseSurvival(value: string): number {
  const p = /^0?\.\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(p > 0.5 && p < 1)) {
    throw new TaskError(`--survival must be a probability above 0.5 and below 1 like 0.99, got "${value}"`);
  }
  return p;
}

interface Source {
  source: string;
  sigmaAnnual: number;
  /** The points the volatility was measured on, if it was. */
  measured?: readonly PricePoint[];
}

function volatilitySource({ scenario, prices, vol }: RecommendArgs): Source {
  const given = [scenario, prices, vol].filter((v) => v !== undefined).length;
  const ask = (verb: string) =>
    new TaskError(
      `${verb} one volatility source: --scenario <${scenarioNames.join("|")}>, ` +
        `--prices <file.csv> (header timestamp,price) or --vol <annualized, e.g. 0.8>`,
    );
  if (given > 1) throw ask("Pass only");
  // A forecast from the past only, as the simulation's volatility band: a scenario's warm-up (the day before its
  // replay), or a whole CSV file, which is all past data.
  const measured = (source: string, points: readonly PricePoint[]): Source => ({
    source,
    sigmaAnnual: pastVolatility(points, source),
    measured: points,
  });
  if (vol !== undefined) return { source: "--vol", sigmaAnnual: parseVol(vol) };
  if (scenario !== undefined) return measured(`scenario ${scenario}`, buildScenario(scenario).warmup ?? []);
  if (prices !== undefined) return measured(prices, readPricePathCsv(prices).points);
  throw ask("Pass");
}

function recommend(args: RecommendArgs): Recommendation {
  if (!Number.isSafeInteger(args.horizon) || args.horizon <= 0) {
    throw new TaskError(`--horizon must be a whole number of seconds above 0, got ${args.horizon}`);
  }
  const survival = parseSurvival(args.survival);
  const { source, sigmaAnnual, measured } = volatilitySource(args);
  const input = { sigmaAnnual, horizonSeconds: args.horizon, survival };
  return {
    source,
    points: measured?.length,
    spanSeconds: measured && measured[measured.length - 1].timestamp - measured[0].timestamp,
    ...input,
    z: inverseNormalCdf(survival),
    move: recommendMinHF(input),
    policy: recommendPolicy({ ...input, bounds: LOCAL_PARAMS.bounds }),
  };
}

/** "1%", "0.1%", "2.5%": at most 4 significant digits, no trailing zeros. */
const percent = (fraction: number): string => `${Number((fraction * 100).toPrecision(4))}%`;
const hf2 = (wad: bigint): string => fmt.fixed(wad, 18, 2);

/** The one-line reason for the band. */
function explanation(r: Recommendation): string {
  const { bounds } = LOCAL_PARAMS;
  const horizon = fmt.duration(BigInt(r.horizonSeconds));
  const parts = [
    `at ${percent(r.sigmaAnnual)} volatility, ${percent(1 - r.survival)} of ${horizon} moves are worse than ` +
      `${percent(1 / r.move - 1)}, which a vault at HF ${r.move.toFixed(4)} survives`,
  ];
  if (r.move < hfToNumber(bounds.minHFFloor))
    parts.push(`minHF is raised to the protocol floor ${hf2(bounds.minHFFloor)}`);
  parts.push(
    `targetHF and maxHF each sit one such move or the minimum gap ${hf2(bounds.minBandGap)} higher, whichever is larger`,
  );
  if (r.policy.maxHF === bounds.maxHFCeiling) parts.push(`maxHF is capped at the ceiling ${hf2(bounds.maxHFCeiling)}`);
  return parts.join("; ");
}

function lines(r: Recommendation): string[] {
  const over = r.source.startsWith("scenario ") ? `the warm-up of ${r.source}` : r.source;
  const halfLife = fmt.duration(BigInt(EWMA_HALF_LIFE_SECONDS));
  const measured =
    r.points === undefined
      ? "given with --vol"
      : `EWMA (half-life ${halfLife}) over ${over} (${r.points} points, ${fmt.duration(BigInt(r.spanSeconds ?? 0))})`;
  return [
    `Volatility  ${percent(r.sigmaAnnual)} a year, ${measured}`,
    `Horizon     ${fmt.duration(BigInt(r.horizonSeconds))} · survival ${percent(r.survival)} · z = ${r.z.toFixed(4)}`,
    `Band        ${policyText(r.policy)}`,
    `Why         ${explanation(r)}`,
  ];
}

/** `policy:recommend`. */
export async function recommendTask(args: RecommendArgs): Promise<Recommendation> {
  let result: Recommendation;
  try {
    result = recommend(args);
  } catch (e) {
    if (e instanceof SimulationError) throw new TaskError(e.message, e);
    throw e;
  }
  if (args.json) process.stdout.write(toJson(result));
  else for (const line of lines(result)) console.log(line);
  return result;
}
