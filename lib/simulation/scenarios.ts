/**
 * Collateral price paths for the keeper simulation: three historical ETH crashes, a synthetic flash crash and
 * geometric Brownian motion. Every path is deterministic for its options (seed included).
 *
 * The historical shapes are keyframes of the real move, interpolated linearly in log-price, with a seeded Brownian
 * bridge laid over them as texture (annualized volatility `vol`, 0 for the bare interpolation). The bridge is pinned
 * to zero at the points nearest the keyframes, so the documented levels (the lows in particular) survive the noise.
 * The keyframes are approximations of the hourly ETH/USD path, rounded; the sources at each shape give the levels,
 * the times of day are approximate, and single-venue wicks (e.g. ~$90 on 13 March 2020) are left out. Because the
 * keyframes are hours apart, a path's realized volatility understates the event's intraday volatility.
 *
 * By default each path is rescaled so that its first price is `startPrice` (default: the local market's WETH price,
 * $2,000), keeping the relative moves, because the simulation runs on that market; `historical: true` keeps the real
 * USD levels instead.
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
  points: PricePoint[];
}

export interface ScenarioOptions {
  /** Number of points returned, at least 2 (default 500). */
  steps?: number;
  /** First price in USD (default: the local market's WETH price). */
  startPrice?: number;
  /** Keep the event's real USD prices instead of rescaling to `startPrice` (historical shapes only). */
  historical?: boolean;
  seed?: number;
  /** Annualized volatility: of the GBM, or of the noise over the keyframes of the other shapes. */
  vol?: number;
  /** `gbm` only: seconds between points (default 300). The other shapes span their event, so `steps` sets theirs. */
  interval?: number;
  /** Timestamp of the first point (default: the event's real start; synthetic shapes: 2024-01-01T00:00:00Z). */
  start?: number;
}

export const DEFAULT_STEPS = 500;
/** The local market's initial WETH price in USD. */
export const DEFAULT_START_PRICE = Number(ASSETS.WETH.initialPrice) / Number(ORACLE_BASE_CURRENCY_UNIT);
/** Noise over the keyframes: texture, not a calibration; the big moves come from the keyframes. */
export const DEFAULT_NOISE_VOL = 0.5;
/** ETH's annualized volatility has mostly been 0.6-1.0 since 2020. */
export const DEFAULT_GBM_VOL = 0.8;
export const DEFAULT_GBM_INTERVAL = 300;
/** 2024-01-01T00:00:00Z: a fixed start for the synthetic shapes, so that they do not depend on the clock. */
const SYNTHETIC_START = 1_704_067_200;

export const SECONDS_PER_HOUR = 3_600;
/** Crypto trades every day of the year. */
export const SECONDS_PER_YEAR = 365 * 24 * SECONDS_PER_HOUR;

/** [hours since the start, USD price]. */
type Keyframe = readonly [hours: number, price: number];

interface Shape {
  name: string;
  /** Unix seconds of the first keyframe. */
  start: number;
  keyframes: readonly Keyframe[];
}

// 12-13 March 2020 ("Black Thursday"), from 12 March 00:00 UTC: ETH slid from ~$194 through the day, the last leg
// in the early hours of 13 March took it to ~$111 (Bitstamp's low was $113.5), and it closed 13 March in the $130s.
// Levels: CoinMarketCap daily OHLC for 12-13 March 2020; coinspot.io, 13 March 2020 (Bitstamp low).
const BLACK_THURSDAY_2020: Shape = {
  name: "black-thursday-2020",
  start: Date.UTC(2020, 2, 12) / 1000,
  keyframes: [
    [0, 194],
    [8, 185],
    [12, 168],
    [14, 150],
    [16, 140],
    [20, 130],
    [24, 118],
    [26, 111],
    [30, 125],
    [36, 132],
    [42, 138],
    [48, 133],
  ],
};

// 19 May 2021, from 00:00 UTC: after China's ban on crypto services, ETH fell from ~$3,400 below $3,000 in the
// morning, crashed to ~$1,900 (~$1,935 on many venues) as New York opened, bounced to ~$2,700 within hours and
// spent the evening and the next morning around $2,400-2,700.
// Levels: CoinMarketCap daily OHLC for 19-20 May 2021; investingcube.com and u.today, 19 May 2021.
const MAY_2021: Shape = {
  name: "may-2021",
  start: Date.UTC(2021, 4, 19) / 1000,
  keyframes: [
    [0, 3_400],
    [4, 3_300],
    [8, 3_050],
    [11, 2_800],
    [12.5, 2_500],
    [13.5, 1_900],
    [14.5, 2_400],
    [16, 2_700],
    [18, 2_550],
    [21, 2_450],
    [24, 2_450],
    [30, 2_600],
  ],
};

// 7-10 November 2022 (FTX), from 7 November 00:00 UTC: ETH ~$1,570-1,580 on the 7th, broke down on the 8th as the
// FTX run and Binance's offer played out, reached ~$1,100 late on the 9th after Binance walked away, and rallied to
// ~$1,250-1,330 on the US CPI print of the 10th.
// Levels: CoinMarketCap daily OHLC for 7-10 November 2022; cryptovesti.ru and crypto-economy.com, November 2022.
const FTX_2022: Shape = {
  name: "ftx-2022",
  start: Date.UTC(2022, 10, 7) / 1000,
  keyframes: [
    [0, 1_570],
    [12, 1_580],
    [24, 1_570],
    [32, 1_500],
    [36, 1_450],
    [40, 1_320],
    [44, 1_300],
    [48, 1_335],
    [60, 1_250],
    [68, 1_150],
    [71, 1_100],
    [78, 1_140],
    [84, 1_200],
    [86, 1_290],
    [90, 1_310],
    [96, 1_300],
  ],
};

// Synthetic, at the local market's price: half an hour flat, -30% within six minutes (a liquidation cascade on thin
// books), a quick bounce, then a recovery to -8% over the next two hours.
const FLASH_CRASH: Shape = {
  name: "flash-crash",
  start: SYNTHETIC_START,
  keyframes: (
    [
      [0, 1],
      [0.5, 1],
      [0.55, 0.85],
      [0.6, 0.7],
      [0.75, 0.74],
      [1, 0.82],
      [1.5, 0.88],
      [2, 0.9],
      [3, 0.92],
    ] as const
  ).map(([hours, fraction]): Keyframe => [hours, fraction * DEFAULT_START_PRICE]),
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

/** The path with every price multiplied so that the first one is `startPrice`; relative moves are kept. */
export function rescalePath(path: PricePath, startPrice: number): PricePath {
  const first = path.points[0].price;
  // startPrice * (p / first) rather than p * (startPrice / first): the first point comes out exactly startPrice.
  return {
    name: path.name,
    points: path.points.map((p) => ({ timestamp: p.timestamp, price: startPrice * (p.price / first) })),
  };
}

/** ln(price) at `seconds` after the start, interpolated linearly between keyframes. */
function logPriceAt(keyframes: readonly Keyframe[], seconds: number): number {
  let i = 1;
  while (i < keyframes.length - 1 && keyframes[i][0] * SECONDS_PER_HOUR < seconds) i++;
  const [h0, p0] = keyframes[i - 1];
  const [h1, p1] = keyframes[i];
  const w = (seconds - h0 * SECONDS_PER_HOUR) / ((h1 - h0) * SECONDS_PER_HOUR);
  return Math.log(p0) + w * (Math.log(p1) - Math.log(p0));
}

/**
 * A Brownian bridge over the sample times `t` (seconds), zero at every index in `pins` (sorted, first and last
 * included): a random walk with annualized volatility `vol`, minus the straight line between its values at the pins.
 */
function pinnedNoise(t: readonly number[], pins: readonly number[], vol: number, random: Random): number[] {
  const walk = [0];
  for (let i = 1; i < t.length; i++) {
    walk.push(walk[i - 1] + vol * Math.sqrt((t[i] - t[i - 1]) / SECONDS_PER_YEAR) * random.normal());
  }
  const noise = new Array<number>(t.length).fill(0);
  for (let k = 1; k < pins.length; k++) {
    const [a, b] = [pins[k - 1], pins[k]];
    for (let i = a + 1; i < b; i++) {
      noise[i] = walk[i] - walk[a] - ((t[i] - t[a]) / (t[b] - t[a])) * (walk[b] - walk[a]);
    }
  }
  return noise;
}

function fromShape(shape: Shape, options: ScenarioOptions): PricePath {
  const { steps, startPrice, seed, vol } = check(options, shape.name, DEFAULT_NOISE_VOL);
  const keyframes = shape.keyframes;
  const span = keyframes[keyframes.length - 1][0] * SECONDS_PER_HOUR;
  if (steps - 1 > span) {
    throw new SimulationError(
      `Scenario ${shape.name}: ${steps} steps do not fit in its ${span} seconds at one point per second or more; ` +
        `use at most ${span + 1}`,
    );
  }
  const t = Array.from({ length: steps }, (_, i) => Math.round((i * span) / (steps - 1)));
  const nearest = (seconds: number) => Math.round((seconds / span) * (steps - 1));
  const pins = [...new Set(keyframes.map(([hours]) => nearest(hours * SECONDS_PER_HOUR)))].sort((a, b) => a - b);
  const noise = pinnedNoise(t, pins, vol, new Random(seed));
  const start = options.start ?? shape.start;
  const path: PricePath = {
    name: shape.name,
    points: t.map((seconds, i) => ({
      timestamp: start + seconds,
      price: Math.exp(logPriceAt(keyframes, seconds) + noise[i]),
    })),
  };
  return rescalePath(path, startPrice ?? keyframes[0][1]);
}

/** ETH, 12-13 March 2020: ~$194 to ~$111 in 26 hours, closing in the $130s; 48 hours. */
export function blackThursday2020(options: ScenarioOptions = {}): PricePath {
  return fromShape(BLACK_THURSDAY_2020, options);
}

/** ETH, 19 May 2021: ~$3,400 to ~$1,900 in 13.5 hours, back to $2,400-2,700; 30 hours. */
export function may2021(options: ScenarioOptions = {}): PricePath {
  return fromShape(MAY_2021, options);
}

/** ETH, 7-10 November 2022: ~$1,570 to ~$1,100 over two days, then ~$1,300; 96 hours. */
export function ftx2022(options: ScenarioOptions = {}): PricePath {
  return fromShape(FTX_2022, options);
}

/** Synthetic: -30% within six minutes, then a recovery to -8%; 3 hours. */
export function flashCrash(options: ScenarioOptions = {}): PricePath {
  return fromShape(FLASH_CRASH, options);
}

/**
 * Geometric Brownian motion without drift: each step multiplies the price by exp(-vol²·dt/2 + vol·√dt·Z), dt the
 * step in years, so the expected price stays flat. `steps` points `interval` seconds apart.
 */
export function gbm(options: ScenarioOptions = {}): PricePath {
  const { steps, startPrice, seed, vol } = check({ ...options, historical: false }, "gbm", DEFAULT_GBM_VOL);
  const interval = options.interval ?? DEFAULT_GBM_INTERVAL;
  if (!(Number.isSafeInteger(interval) && interval > 0)) {
    throw new SimulationError(`Scenario gbm: interval must be a whole number of seconds > 0, got ${interval}`);
  }
  const random = new Random(seed);
  const dt = interval / SECONDS_PER_YEAR;
  const start = options.start ?? SYNTHETIC_START;
  const points: PricePoint[] = [{ timestamp: start, price: startPrice ?? DEFAULT_START_PRICE }];
  for (let i = 1; i < steps; i++) {
    const price = points[i - 1].price * Math.exp(-0.5 * vol * vol * dt + vol * Math.sqrt(dt) * random.normal());
    points.push({ timestamp: start + i * interval, price });
  }
  return { name: "gbm", points };
}

export interface Scenario {
  description: string;
  build(options?: ScenarioOptions): PricePath;
}

export const SCENARIOS = {
  "black-thursday-2020": {
    description: "ETH 12-13 March 2020: $194 -> $111 in 26 h, recovery to the $130s (48 h)",
    build: blackThursday2020,
  },
  "may-2021": {
    description: "ETH 19 May 2021: $3,400 -> $1,900 intraday, rebound to $2,400-2,700 (30 h)",
    build: may2021,
  },
  "ftx-2022": {
    description: "ETH 7-10 November 2022: $1,570 -> $1,100 over two days, then ~$1,300 (96 h)",
    build: ftx2022,
  },
  "flash-crash": { description: "synthetic: -30% within six minutes, recovery to -8% (3 h)", build: flashCrash },
  gbm: { description: "geometric Brownian motion, vol 0.8 by default, a point every 300 s", build: gbm },
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
