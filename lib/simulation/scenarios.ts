/**
 * Collateral price paths for the keeper simulation: four historical ETH crashes, a flash crash with magnitudes from
 * real events, and geometric Brownian motion with jumps. Every built-in path has a point a minute (`STEP_SECONDS`)
 * and carries the 24 hours before its replay as `warmup`; it is deterministic for its options (seed included).
 *
 * A historical path is two layers:
 * - from sources: keyframes of the real move, as fine as published accounts give (minutes apart in the crash legs,
 *   hours apart elsewhere, from daily OHLC on the calm days), each shape naming its sources. Levels are rounded and
 *   times of day approximate; single-venue wicks are left out unless said otherwise;
 * - modelled: between keyframes, ln(price) is interpolated linearly and a seeded minute-level jump-diffusion
 *   (Merton: Brownian increments plus Poisson jumps) is laid on it as a Brownian bridge pinned to zero at every
 *   keyframe, so the documented levels, lows included, survive the noise. Its volatility is high from the first
 *   sell-off of the crash day to that day's end and `calmVol` elsewhere, both from published daily OHLC (see
 *   `Shape.vol`); `vol` in the options scales both and the jumps (0: the bare keyframes).
 *
 * The replay is a window of `steps` consecutive minutes of the event, never a resampling of it (`replayWindow`), so a
 * path's realized volatility does not depend on `steps`.
 *
 * By default each path is rescaled so that its first replayed price is `startPrice` (default: the local market's WETH
 * price, $2,000), keeping the relative moves, because the simulation runs on that market; `historical: true` keeps
 * the real USD levels instead.
 */
import { ASSETS, ORACLE_BASE_CURRENCY_UNIT } from "../market/config";
import { SimulationError } from "./errors";
import { DEFAULT_SEED, Random } from "./random";

export interface PricePoint {
  /** Unix seconds. */
  timestamp: number;
  /** USD per unit of collateral. */
  price: number;
  /** The base fee at this point, gwei, where the source gives one (a CSV's optional gasGwei column). */
  gasGwei?: number;
}

export interface PricePath {
  name: string;
  /** The replay. */
  points: PricePoint[];
  /** Points before the replay, oldest first: what a volatility may be measured on without looking ahead. */
  warmup?: PricePoint[];
  /** The built-in scenario and options the path was built from, so that variants can redraw it (variants.ts). */
  origin?: { scenario: ScenarioName; options: ScenarioOptions };
}

export interface ScenarioOptions {
  /** Points replayed, a minute apart (gbm: `interval` apart), at least 2 (default 500). */
  steps?: number;
  /** First replayed price in USD (default: the local market's WETH price). */
  startPrice?: number;
  /** Keep the event's real USD prices instead of rescaling to `startPrice` (historical shapes only). */
  historical?: boolean;
  seed?: number;
  /** Annualized volatility: of the GBM's diffusion, or of the minute model over a shape (default: its calibration). */
  vol?: number;
  /** `gbm` only: seconds between points (default 60). */
  interval?: number;
  /** Timestamp of the first replayed point (default: its real time; synthetic shapes: from 2024-01-01T00:00:00Z). */
  start?: number;
}

export const DEFAULT_STEPS = 500;
/** The local market's initial WETH price in USD. */
export const DEFAULT_START_PRICE = Number(ASSETS.WETH.initialPrice) / Number(ORACLE_BASE_CURRENCY_UNIT);
/** ETH's annualized volatility has mostly been 0.6-1.0 since 2020. */
export const DEFAULT_GBM_VOL = 0.8;
/** Seconds between the points of every built-in path (gbm's default `interval`). */
export const STEP_SECONDS = 60;
/** Points of warm-up every built-in path carries: the 24 hours before the replay. */
export const WARMUP_POINTS = 1_440;
/** 2024-01-01T00:00:00Z: a fixed start for the synthetic shapes, so that they do not depend on the clock. */
const SYNTHETIC_START = 1_704_067_200;

export const SECONDS_PER_HOUR = 3_600;
export const SECONDS_PER_DAY = 86_400;
/** Crypto trades every day of the year. */
export const SECONDS_PER_YEAR = 365 * SECONDS_PER_DAY;

/** [minutes since the event's day 0, 00:00 UTC; USD price]. */
type Keyframe = readonly [minutes: number, price: number];

/** Minutes since day 0 00:00 UTC of `day` (-1 the day before) at `clock` ("HH:MM"). */
const at = (day: number, clock: string): number => {
  const [h, m] = clock.split(":").map(Number);
  return day * 1_440 + h * 60 + m;
};

/** Poisson jumps of ln(price): `perDay` expected, each N(mean, sd). */
export interface Jumps {
  perDay: number;
  mean: number;
  sd: number;
}

/**
 * The jumps of the minute model over the historical shapes (modelled, not measured): one an hour on average, ±0.4%
 * (1 sd), centred, since the shape's keyframes carry the direction. They put fat tails in the 1-minute returns.
 */
export const SHAPE_JUMPS: Jumps = { perDay: 24, mean: 0, sd: 0.004 };

/**
 * The jumps of `gbm` at vol 0.8 (scaled with vol): two a day, -0.5% on average, 1% sd, a crash-leaning Merton
 * model; they add λ·(mean² + sd²) = 0.0456 a year to the diffusion's variance (σ 0.8 -> 0.83 in all).
 */
export const GBM_JUMPS: Jumps = { perDay: 2, mean: -0.005, sd: 0.01 };

interface Shape {
  name: string;
  /** Unix seconds of day 0, 00:00 UTC. */
  start: number;
  /** Sorted, the first at -WARMUP_POINTS minutes or earlier (the warm-up day), the last at least 4,999 minutes. */
  keyframes: readonly Keyframe[];
  /** Minute of the crash day's first sell-off, from the sources: the minute model is calm before it. */
  eventFrom: number;
  /**
   * Annualized volatility of the crash day (the `vol` option's default). Calibration: the Rogers-Satchell estimate
   * from that day's published OHLC, σ² = [ln(H/C)·ln(H/O) + ln(L/C)·ln(L/O)]·365, which unlike a range estimate is
   * not inflated by the day's trend. The model spends that day's variance from `eventFrom` on (calmVol before it:
   * see `shapeEventVol`), so the hours before the sell-off, which a warm-up may include, do not already carry the crash.
   * An estimate from four daily numbers, not a fit to tick data (none is available offline).
   */
  vol: number;
  /** The same on every other day, from the day before the crash day's OHLC. */
  calmVol: number;
}

// 12-13 March 2020 ("Black Thursday"). Sources: CoinMarketCap daily OHLC 11-15 March 2020 (levels); Coin Metrics,
// State of the Network, 23 March 2020, and LedgerPrime, "Crypto's Black Thursday" (two legs: BTC -22% from about
// 10:00 to 10:45 UTC, then -33% from 23:00 to about 02:15 UTC); BitMEX's status tweet (down 02:16-02:40 UTC on the
// 13th, when the slide stopped). ETH followed BTC's legs; its levels in them are our reading of those accounts. The
// low is Bitstamp's ~$111-113; the ~$90 prints on some venues are left out. Rogers-Satchell: 12 March O 194, H 195,
// L 111, C 112 -> vol 1.69; 11 March O 201, H 202, L 182, C 195 -> calmVol 1.60.
const BLACK_THURSDAY_2020: Shape = {
  name: "black-thursday-2020",
  start: Date.UTC(2020, 2, 12) / 1000,
  eventFrom: at(0, "10:00"),
  vol: 1.69,
  calmVol: 1.6,
  keyframes: [
    [at(-1, "00:00"), 200],
    [at(-1, "06:00"), 196],
    [at(-1, "12:00"), 188],
    [at(-1, "16:00"), 183],
    [at(-1, "20:00"), 191],
    [at(0, "00:00"), 194],
    [at(0, "08:00"), 185],
    [at(0, "10:00"), 182],
    [at(0, "10:20"), 168],
    [at(0, "10:45"), 150],
    [at(0, "11:30"), 166],
    [at(0, "14:00"), 152],
    [at(0, "16:00"), 140],
    [at(0, "20:00"), 133],
    [at(0, "23:00"), 129],
    [at(1, "00:30"), 121],
    [at(1, "01:50"), 119],
    [at(1, "02:05"), 114],
    [at(1, "02:15"), 111],
    [at(1, "02:40"), 118],
    [at(1, "03:30"), 125],
    [at(1, "12:00"), 132],
    [at(1, "18:00"), 138],
    [at(2, "00:00"), 133],
    [at(2, "12:00"), 130],
    [at(3, "00:00"), 124],
    [at(3, "12:00"), 127],
  ],
};

// 19 May 2021, after China's ban on crypto services. Sources: CoinMarketCap daily OHLC 18-22 May 2021 (levels;
// the day's low ~$1,890 on Coinbase, ~$1,850 on Binance); Coinbase's and Binance's outage notices from about 12:35
// UTC (investingcube.com, u.today, 19 May 2021), as ETH broke down from ~$2,650 to the low within the hour; the
// rebound to ~$2,400 then $2,700 in the afternoon. Rogers-Satchell: 19 May O 3,382, H 3,438, L 1,890, C 2,460 ->
// vol 7.62 (the V-shaped day); 18 May O 3,520, H 3,560, L 3,370, C 3,380 -> calmVol 0.51.
const MAY_2021: Shape = {
  name: "may-2021",
  start: Date.UTC(2021, 4, 19) / 1000,
  eventFrom: at(0, "12:00"),
  vol: 7.62,
  calmVol: 0.51,
  keyframes: [
    [at(-1, "00:00"), 3_480],
    [at(-1, "08:00"), 3_540],
    [at(-1, "16:00"), 3_420],
    [at(0, "00:00"), 3_400],
    [at(0, "04:00"), 3_300],
    [at(0, "08:00"), 3_050],
    [at(0, "11:00"), 2_800],
    [at(0, "12:00"), 2_650],
    [at(0, "12:35"), 2_350],
    [at(0, "12:55"), 2_150],
    [at(0, "13:15"), 1_950],
    [at(0, "13:22"), 1_890],
    [at(0, "13:40"), 2_250],
    [at(0, "14:30"), 2_400],
    [at(0, "16:00"), 2_700],
    [at(0, "18:00"), 2_550],
    [at(0, "21:00"), 2_450],
    [at(1, "00:00"), 2_450],
    [at(1, "06:00"), 2_600],
    [at(1, "12:00"), 2_750],
    [at(2, "00:00"), 2_780],
    [at(2, "12:00"), 2_650],
    [at(2, "18:00"), 2_400],
    [at(3, "00:00"), 2_300],
    [at(3, "12:00"), 2_350],
  ],
};

// 7-10 November 2022 (FTX). Sources: CoinMarketCap daily OHLC 6-10 November 2022 (levels); CZ's tweet of the
// Binance letter of intent at about 16:00 UTC on the 8th and Binance's walk-away late on the 9th
// (cryptovesti.ru, crypto-economy.com); the US CPI print at 13:30 UTC on the 10th (+8% within the hour).
// Rogers-Satchell: 8 November O 1,570, H 1,580, L 1,300, C 1,335 -> vol 1.49 (the 9th, O 1,335, H 1,340, L 1,100,
// C 1,100, is one-way and reads 0.52: its trend is in the keyframes); 7 November O 1,570, H 1,590, L 1,560,
// C 1,570 -> calmVol 0.24.
const FTX_2022: Shape = {
  name: "ftx-2022",
  start: Date.UTC(2022, 10, 7) / 1000,
  eventFrom: at(1, "08:00"),
  vol: 1.49,
  calmVol: 0.24,
  keyframes: [
    [at(-1, "00:00"), 1_630],
    [at(-1, "12:00"), 1_610],
    [at(0, "00:00"), 1_570],
    [at(0, "12:00"), 1_580],
    [at(1, "00:00"), 1_570],
    [at(1, "08:00"), 1_500],
    [at(1, "12:00"), 1_450],
    [at(1, "15:55"), 1_400],
    [at(1, "16:05"), 1_460],
    [at(1, "17:00"), 1_380],
    [at(1, "18:00"), 1_300],
    [at(1, "20:00"), 1_300],
    [at(2, "00:00"), 1_335],
    [at(2, "12:00"), 1_250],
    [at(2, "20:00"), 1_150],
    [at(2, "21:00"), 1_160],
    [at(2, "21:30"), 1_120],
    [at(2, "23:00"), 1_100],
    [at(3, "06:00"), 1_140],
    [at(3, "13:25"), 1_200],
    [at(3, "13:45"), 1_270],
    [at(3, "14:30"), 1_290],
    [at(3, "18:00"), 1_310],
    [at(4, "00:00"), 1_300],
  ],
};

// 10 October 2025, the largest liquidation day on record (over $19 billion, CoinGlass). Sources: CoinDesk, 10
// October 2025 (selling from about 14:00 UTC after the first tariff threat, ETH below $4,100); Amberdata via
// Binance Square (the cascade began at 20:50 UTC after the 100% tariff post, $6.93 billion liquidated over 40
// minutes, the peak at 21:15 UTC); coincentral.com and bitget (intraday high ~$4,400, low ~$3,435, back toward
// $3,800 later). CoinMarketCap daily OHLC 9-13 October for the other days. The minute placement of the low inside
// the cascade is ours. Rogers-Satchell: 10 October O 4,370, H 4,390, L 3,435, C 3,830 -> vol 3.13; 9 October
// O 4,500, H 4,530, L 4,300, C 4,370 -> calmVol 0.60.
const OCT_2025: Shape = {
  name: "oct-2025",
  start: Date.UTC(2025, 9, 10) / 1000,
  eventFrom: at(0, "14:00"),
  vol: 3.13,
  calmVol: 0.6,
  keyframes: [
    [at(-1, "00:00"), 4_500],
    [at(-1, "12:00"), 4_330],
    [at(-1, "18:00"), 4_400],
    [at(0, "00:00"), 4_370],
    [at(0, "08:00"), 4_390],
    [at(0, "14:00"), 4_300],
    [at(0, "16:00"), 4_120],
    [at(0, "19:00"), 4_080],
    [at(0, "20:50"), 3_990],
    [at(0, "21:05"), 3_800],
    [at(0, "21:15"), 3_560],
    [at(0, "21:20"), 3_435],
    [at(0, "21:25"), 3_620],
    [at(0, "21:40"), 3_750],
    [at(0, "22:30"), 3_820],
    [at(1, "00:00"), 3_780],
    [at(1, "12:00"), 3_760],
    [at(2, "00:00"), 3_900],
    [at(2, "12:00"), 4_150],
    [at(3, "00:00"), 4_200],
    [at(3, "12:00"), 4_150],
  ],
};

// Synthetic, as fractions of the start: two calm hours, -29% in 20 minutes, a one-minute wick to -42%, a bounce to
// -30%, then a grind lower to about -37% over the next day, recovering a little. Magnitudes from real events, not a
// replay of one: the -29% is 19 May 2021's (ETH from 12:00 to 13:22 UTC) at the pace of the fastest cascades (BTC
// -22% in 45 minutes on 12 March 2020; on 10 October 2025, ETH -14% in 30 minutes and SOL a brief -40%, Amberdata
// via Binance Square); the wick is ETH's ~$90 print on 13 March 2020 against ~$155 on the afternoon before (-42%).
// vol and calmVol as oct-2025's.
const FLASH_CRASH: Shape = {
  name: "flash-crash",
  start: SYNTHETIC_START,
  eventFrom: at(0, "02:00"),
  vol: 3.13,
  calmVol: 0.6,
  keyframes: (
    [
      [at(-1, "00:00"), 1],
      [at(0, "02:00"), 1],
      [at(0, "02:10"), 0.84],
      [at(0, "02:20"), 0.71],
      [at(0, "02:21"), 0.58],
      [at(0, "02:22"), 0.68],
      [at(0, "02:30"), 0.7],
      [at(0, "04:00"), 0.69],
      [at(0, "08:00"), 0.66],
      [at(0, "16:00"), 0.64],
      [at(1, "02:00"), 0.63],
      [at(2, "00:00"), 0.66],
      [at(3, "12:00"), 0.65],
    ] as const
  ).map(([minutes, fraction]): Keyframe => [minutes, fraction * DEFAULT_START_PRICE]),
};

interface Checked {
  steps: number;
  startPrice: number | undefined;
  seed: number;
  vol: number;
}

function check(options: ScenarioOptions, name: string, defaultVol: number): Checked {
  const { steps = DEFAULT_STEPS, startPrice, seed = DEFAULT_SEED, vol = defaultVol, historical = false } = options;
  const fail = (what: string) => {
    throw new SimulationError(`Scenario ${name}: ${what}`);
  };
  if (!Number.isSafeInteger(steps) || steps < 2) fail(`steps must be a whole number of at least 2, got ${steps}`);
  if (startPrice !== undefined && !(Number.isFinite(startPrice) && startPrice > 0)) {
    fail(`startPrice must be a positive number of USD, got ${startPrice}`);
  }
  if (historical && startPrice !== undefined) fail("pass either startPrice or historical, not both");
  if (!Number.isSafeInteger(seed)) fail(`seed must be an integer, got ${seed}`);
  if (!(Number.isFinite(vol) && vol >= 0)) fail(`vol must be an annualized volatility >= 0 like 0.8, got ${vol}`);
  const start = options.start;
  if (start !== undefined && !(Number.isSafeInteger(start) && start >= 0)) {
    fail(`start must be whole unix seconds, got ${start}`);
  }
  return { steps, startPrice: historical ? undefined : (startPrice ?? DEFAULT_START_PRICE), seed, vol };
}

/** The options with their defaults filled in, in a fixed order: equal options give equal paths, byte for byte. */
const resolved = (options: ScenarioOptions, steps: number, seed: number, vol: number): ScenarioOptions => ({
  steps,
  seed,
  vol,
  startPrice: options.startPrice,
  historical: options.historical,
  interval: options.interval,
  start: options.start,
});

/** The path, warm-up included, with every price multiplied so that the first replayed one is `startPrice`. */
export function rescalePath(path: PricePath, startPrice: number): PricePath {
  const first = path.points[0].price;
  // startPrice * (p / first) rather than p * (startPrice / first): the first point comes out exactly startPrice.
  const scale = (points: readonly PricePoint[]) => points.map((p) => ({ ...p, price: startPrice * (p.price / first) }));
  return {
    ...path,
    points: scale(path.points),
    ...(path.warmup === undefined ? {} : { warmup: scale(path.warmup) }),
  };
}

/** ln(price) at `minute`, interpolated linearly between keyframes. */
function logPriceAt(keyframes: readonly Keyframe[], minute: number): number {
  let i = 1;
  while (i < keyframes.length - 1 && keyframes[i][0] < minute) i++;
  const [m0, p0] = keyframes[i - 1];
  const [m1, p1] = keyframes[i];
  const w = (minute - m0) / (m1 - m0);
  return Math.log(p0) + w * (Math.log(p1) - Math.log(p0));
}

/**
 * One step of a Merton jump-diffusion in ln(price) over `seconds`, without drift: σ·√Δt·Z, plus a N(mean, sd) jump
 * with probability perDay·Δt (Δt in days: at most a few percent a step, where Bernoulli is Poisson to first order).
 */
function jumpDiffusionStep(sigma: number, jumps: Jumps, seconds: number, random: Random): number {
  const diffusion = sigma * Math.sqrt(seconds / SECONDS_PER_YEAR) * random.normal();
  const jump = random.next() < (jumps.perDay * seconds) / SECONDS_PER_DAY ? jumps.mean + jumps.sd * random.normal() : 0;
  return diffusion + jump;
}

const scaleJumps = (jumps: Jumps, k: number): Jumps => ({ ...jumps, mean: jumps.mean * k, sd: jumps.sd * k });

/**
 * The replay window of a shape: the first minute of `steps` consecutive minutes. The event's low (its lowest
 * keyframe from day 0) sits two thirds of the way in: ⌊(steps - 1)·2/3⌋ minutes before it, the rest after, the
 * window moved back inside day 0 .. the last keyframe if it would leave it. So every window contains the low, and
 * the worst leg before it once steps reach twice the leg's length.
 */
function replayWindow(shape: Shape, steps: number): number {
  const keyframes = shape.keyframes;
  const span = keyframes[keyframes.length - 1][0];
  if (steps - 1 > span) {
    throw new SimulationError(
      `Scenario ${shape.name}: ${steps} steps do not fit in its ${span + 1} minutes from day 0; use at most ${span + 1}`,
    );
  }
  const low = keyframes.filter(([m]) => m >= 0).reduce((a, b) => (b[1] < a[1] ? b : a))[0];
  return Math.min(Math.max(low - Math.floor(((steps - 1) * 2) / 3), 0), span - (steps - 1));
}

/**
 * The minute model's volatility from `eventFrom` to the end of the crash day: the crash day's variance (vol² over
 * the day) less the calm part before `eventFrom`, spread over the rest of the day; at least calmVol.
 */
function shapeEventVol(shape: Shape): number {
  const before = shape.eventFrom - Math.floor(shape.eventFrom / 1_440) * 1_440;
  const after = 1_440 - before;
  return Math.sqrt(Math.max(shape.vol ** 2 * 1_440 - shape.calmVol ** 2 * before, shape.calmVol ** 2 * after) / after);
}

function fromShape(shape: Shape, options: ScenarioOptions): PricePath {
  const { steps, startPrice, seed, vol } = check(options, shape.name, shape.vol);
  const { keyframes } = shape;
  const first = keyframes[0][0];
  const count = keyframes[keyframes.length - 1][0] - first + 1;
  const k = vol / shape.vol;
  const jumps = scaleJumps(SHAPE_JUMPS, k);
  const eventEnd = (Math.floor(shape.eventFrom / 1_440) + 1) * 1_440;
  const eventVol = shapeEventVol(shape);
  const random = new Random(seed);
  // The whole minute grid is drawn whatever `steps`, so every window is a window of the same path.
  const walk = [0];
  for (let i = 1; i < count; i++) {
    const minute = i + first - 1;
    const sigma = (minute >= shape.eventFrom && minute < eventEnd ? eventVol : shape.calmVol) * k;
    walk.push(walk[i - 1] + jumpDiffusionStep(sigma, jumps, STEP_SECONDS, random));
  }
  // Bridge: between consecutive keyframes, the walk less the straight line between its values there.
  const noise = new Array<number>(count).fill(0);
  for (let j = 1; j < keyframes.length; j++) {
    const [a, b] = [keyframes[j - 1][0] - first, keyframes[j][0] - first];
    for (let i = a + 1; i < b; i++) noise[i] = walk[i] - walk[a] - ((i - a) / (b - a)) * (walk[b] - walk[a]);
  }
  const w = replayWindow(shape, steps);
  const start = options.start ?? shape.start + w * STEP_SECONDS;
  const point = (minute: number): PricePoint => ({
    timestamp: start + (minute - w) * STEP_SECONDS,
    price: Math.exp(logPriceAt(keyframes, minute) + noise[minute - first]),
  });
  const range = (from: number, length: number) => Array.from({ length }, (_, i) => point(from + i));
  const path: PricePath = {
    name: shape.name,
    points: range(w, steps),
    warmup: range(w - WARMUP_POINTS, WARMUP_POINTS),
    origin: { scenario: shape.name as ScenarioName, options: resolved(options, steps, seed, vol) },
  };
  return startPrice === undefined ? path : rescalePath(path, startPrice);
}

/** ETH, 12-15 March 2020: ~$194 to ~$111 in two legs (10:00 and 23:00-02:15 UTC), closing in the $130s. */
export function blackThursday2020(options: ScenarioOptions = {}): PricePath {
  return fromShape(BLACK_THURSDAY_2020, options);
}

/** ETH, 19-22 May 2021: ~$3,400 to ~$1,890 at 13:22 UTC, back to $2,400-2,700. */
export function may2021(options: ScenarioOptions = {}): PricePath {
  return fromShape(MAY_2021, options);
}

/** ETH, 7-10 November 2022: ~$1,570 to ~$1,100 over two days, then ~$1,300 after the CPI print. */
export function ftx2022(options: ScenarioOptions = {}): PricePath {
  return fromShape(FTX_2022, options);
}

/** ETH, 10-13 October 2025: ~$4,390 to ~$3,435 at 21:20 UTC, the 20:50 UTC cascade -14% in 30 minutes. */
export function oct2025(options: ScenarioOptions = {}): PricePath {
  return fromShape(OCT_2025, options);
}

/** -29% in 20 minutes, a wick to -42%, a grind lower to about -37%. */
export function flashCrash(options: ScenarioOptions = {}): PricePath {
  return fromShape(FLASH_CRASH, options);
}

/**
 * Geometric Brownian motion with Merton jumps (GBM_JUMPS, scaled by vol / 0.8), compensated so that the expected
 * price stays flat: each step multiplies the price by exp(-σ²Δt/2 - λΔt·(E[e^J] - 1) + σ√Δt·Z + J·N), Δt the step
 * in years, N whether a jump happens. `steps` points `interval` seconds apart, after WARMUP_POINTS of warm-up.
 */
export function gbm(options: ScenarioOptions = {}): PricePath {
  const { steps, startPrice, seed, vol } = check({ ...options, historical: false }, "gbm", DEFAULT_GBM_VOL);
  const interval = options.interval ?? STEP_SECONDS;
  if (!(Number.isSafeInteger(interval) && interval > 0)) {
    throw new SimulationError(`Scenario gbm: interval must be a whole number of seconds > 0, got ${interval}`);
  }
  const jumps = scaleJumps(GBM_JUMPS, vol / DEFAULT_GBM_VOL);
  const dt = interval / SECONDS_PER_YEAR;
  const compensator =
    (jumps.perDay * interval * (Math.exp(jumps.mean + (jumps.sd * jumps.sd) / 2) - 1)) / SECONDS_PER_DAY;
  const random = new Random(seed);
  const start = options.start ?? SYNTHETIC_START;
  const log = [0];
  for (let i = 1; i < WARMUP_POINTS + steps; i++) {
    log.push(log[i - 1] - 0.5 * vol * vol * dt - compensator + jumpDiffusionStep(vol, jumps, interval, random));
  }
  const first = log[WARMUP_POINTS];
  const points = log.map((x, i) => ({
    timestamp: start + (i - WARMUP_POINTS) * interval,
    price: (startPrice ?? DEFAULT_START_PRICE) * Math.exp(x - first),
  }));
  return {
    name: "gbm",
    points: points.slice(WARMUP_POINTS),
    warmup: points.slice(0, WARMUP_POINTS),
    origin: { scenario: "gbm", options: resolved(options, steps, seed, vol) },
  };
}

export interface Scenario {
  description: string;
  build(options?: ScenarioOptions): PricePath;
}

export const SCENARIOS = {
  "black-thursday-2020": {
    description: "ETH 12-13 March 2020: $194 -> $111 in two legs, recovery to the $130s (1-minute, 84 h)",
    build: blackThursday2020,
  },
  "may-2021": {
    description: "ETH 19 May 2021: $3,400 -> $1,890 at 13:22 UTC, rebound to $2,400-2,700 (1-minute, 84 h)",
    build: may2021,
  },
  "ftx-2022": {
    description: "ETH 7-10 November 2022: $1,570 -> $1,100 over two days, then ~$1,300 (1-minute, 96 h)",
    build: ftx2022,
  },
  "oct-2025": {
    description: "ETH 10 October 2025: $4,390 -> $3,435, -14% in the 20:50 UTC cascade (1-minute, 84 h)",
    build: oct2025,
  },
  "flash-crash": {
    description: "-29% in 20 minutes, a wick to -42%, a grind lower (1-minute, 84 h)",
    build: flashCrash,
  },
  gbm: { description: "GBM with Merton jumps, vol 0.8 by default, a point every 60 s", build: gbm },
} as const satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;
export const scenarioNames = Object.keys(SCENARIOS) as ScenarioName[];

export class UnknownScenarioError extends SimulationError {
  constructor(readonly scenario: string) {
    super(`Unknown scenario "${scenario}": use one of ${scenarioNames.join(", ")}`);
  }
}

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

/** The named scenario's path; an unknown name throws an error that lists the valid ones. */
export function buildScenario(name: string, options: ScenarioOptions = {}): PricePath {
  if (!isScenarioName(name)) throw new UnknownScenarioError(name);
  return SCENARIOS[name].build(options);
}
