/**
 * Gas stress: a base-fee path, one value per price point, that the simulation sets on chain
 * (`hardhat_setNextBlockBaseFeePerGas` before every block it mines, `clock.ts`), so keeper transactions really pay
 * `block.basefee` and a transaction whose max fee is below it is not included.
 *
 * Where the price path gives the base fee (a CSV's `gasGwei` column, `PricePoint.gasGwei`) it is used as given.
 * Elsewhere it is modelled from the market's fall: congestion follows a crash, because a crash brings liquidations,
 * deleveraging, arbitrage and exchange deposits all at once, and it lasts while the crash does.
 *
 *   d    = the drawdown over the trailing GAS_WINDOW_SECONDS (3 hours): ln(highest price in the window / price now),
 *          annualized by the window, d·√(year / 3 h); 0 at a new high. The window reaches into `path.warmup`, so the
 *          first points look back like the others (a path without a warm-up looks back only to its first point);
 *   gwei = clamp(CALM_GWEI × (d / CALM_DRAWDOWN)^ELASTICITY, FLOOR_GWEI, CAP_GWEI).
 *
 * The drawdown is a difference of two price levels, not a sum over steps: it does not grow with the number of points
 * in the window, so a 1-minute path and an hourly one of the same move give about the same fee (minute-level noise
 * moves the window's high by a percent or so, not the realized variance of 180 jumpy returns, which drove the
 * previous model, on hourly volatility, to ~120 gwei on the calm day before Black Thursday). Only falls count: a
 * rebound is not modelled as congestion. Three hours rather than one, because congestion outlasts the minutes of
 * the fall (liquidation queues, auctions, repositioning) and because a one-hour window turns the minute model's
 * noise into 50-gwei spikes on calm hours.
 *
 * Calibration, on Black Thursday (12-13 March 2020):
 * - before the crash the gas price was typically 10-20 gwei (Etherscan's gas-tracker and average-gas-price history,
 *   etherscan.io/chart/gasprice, early March 2020): CALM_GWEI = 15;
 * - during the crash hours it held at about 150-250 gwei, with spikes above (Etherscan's history for 12 March 2020;
 *   MakerDAO's post-mortem "Black Thursday Response Thread" and the Maker governance analysis of the 0-DAI auctions,
 *   which name gas prices of 100-200+ gwei as why keepers' bids did not land; Blocknative's and Glassnode's accounts
 *   of the same day);
 * - a fast crash can reach the cap, as May 2021's did on chain.
 * Fitted on `blackThursday2020({ steps: 2880 })` (the default seed and vol): the window rule puts the low (02:15 UTC
 * on 13 March) two thirds in, which clips to the start of the shape, so the path is 12 March 00:00 to 13 March
 * 23:59 UTC, with 11 March as its warm-up. CALM_DRAWDOWN is the value that gives the hours before the first sell-off
 * (12 March 00:00-08:00) a mean of 15 gwei: 1.28 (15.1 gwei), which is also √(2/π)·1.6, the mean annualized
 * drawdown of a driftless path at 11 March's σ of 1.6; ELASTICITY = 1.5 (the previous model's, kept) then gives the
 * crash hours (12 March 10:00-17:00, the first leg and the afternoon's fall to $140) a mean of 177 gwei, hourly means
 * 116-258, peaking at 448. Grid searched: CALM_DRAWDOWN 1.0-1.6 by the pre-crash mean, ELASTICITY 1.25-1.75 by the
 * crash hours' (1.25: 116 gwei, too low; 1.75: 270, too high). Other figures of the same run: the warm-up day
 * (11 March, from 03:00, when the window first fills, through its fall from $200 to $183) 20 gwei; the second leg
 * (23:00-03:00, a slide of about 5% an hour, slower than the first) 84 gwei, hourly 32-133, below the target band:
 * the path's second leg is slow, and raising the elasticity to lift it puts the first leg's hour above 400; after
 * the low (13 March 03:00 on) 10-30 gwei.
 * Other scenarios, `steps: 2880` (hourly means, UTC):
 * - `may-2021`: 10-12 gwei in the night before, rising through the morning's slide to $2,800 (23-131), 399, 691 and
 *   266 at 12:00-15:00 (the -29% to $1,890), the cap reached at the low; the V-shaped afternoon (the model's 7.6 a
 *   year) swings 31-528; 10 gwei the day after;
 * - `oct-2025`: 10-13 gwei until 14:00, ~35 through the afternoon's selling, 155, 142, 301 and 129 at 19:00-23:00
 *   (the 20:50 cascade, peak 527), 10 gwei the next day;
 * - `flash-crash`: 10 gwei for the two calm hours, then hourly means of 717, 894 and 986 while the -29% and the wick
 *   to -42% sit in the window, at the cap (1,000) for 41 minutes; 13-180 in the grind lower after;
 * - `ftx-2022`: 10-46 gwei mostly, 110, 199 and 129 at 17:00-20:00 on 8 November (the fall to $1,300, peak 224).
 * 2020 had no EIP-1559: the historical numbers are gas prices (base fee and tip together). The path is used as the
 * base fee; keepers add their tip on top, which errs on the harsh side by a gwei or two.
 * CAP_GWEI (1,000) bounds the model far above anything seen in an hourly average; FLOOR_GWEI keeps a calm hour at the
 * calm level rather than below it.
 */
import type { PricePath, PricePoint } from "./scenarios";

export const CALM_GWEI = 15;
/** The annualized 3-hour drawdown at which the model gives CALM_GWEI: fitted, see above. */
export const CALM_DRAWDOWN = 1.28;
export const ELASTICITY = 1.5;
export const FLOOR_GWEI = 10;
export const CAP_GWEI = 1_000;
/** The trailing window of the drawdown, seconds. */
export const GAS_WINDOW_SECONDS = 3 * 3_600;

const YEAR_SECONDS = 365 * 24 * 3_600;
const GWEI = 1e9;

/**
 * The annualized drawdown over the trailing window at each point of the path: ln(the window's highest price / the
 * price), times √(year / window). The window includes the point and reaches back into the warm-up.
 */
export function trailingDrawdown(path: PricePath, windowSeconds = GAS_WINDOW_SECONDS): number[] {
  const pts: PricePoint[] = [...(path.warmup ?? []), ...path.points];
  const skip = pts.length - path.points.length;
  const scale = Math.sqrt(YEAR_SECONDS / windowSeconds);
  // A deque of indices with decreasing prices: its head is the window's high.
  const deque: number[] = [];
  let head = 0;
  const out: number[] = [];
  for (let i = 0; i < pts.length; i++) {
    while (deque.length > head && pts[deque[deque.length - 1]].price <= pts[i].price) deque.pop();
    deque.push(i);
    while (pts[i].timestamp - pts[deque[head]].timestamp > windowSeconds) head++;
    if (i >= skip) out.push(Math.log(pts[deque[head]].price / pts[i].price) * scale);
  }
  return out;
}

/** The modelled base fee in gwei at an annualized trailing drawdown. */
export function modelGwei(drawdown: number): number {
  const raw = CALM_GWEI * Math.pow(Math.max(drawdown, 0) / CALM_DRAWDOWN, ELASTICITY);
  return Math.min(CAP_GWEI, Math.max(FLOOR_GWEI, raw));
}

/** The base fee at each point of the path, gwei (0.1 gwei resolution): the point's own `gasGwei`, else the model. */
export function baseFeeGwei(path: PricePath): number[] {
  const drawdown = trailingDrawdown(path);
  return path.points.map((p, i) => Math.round((p.gasGwei ?? modelGwei(drawdown[i])) * 10) / 10);
}

/** The same path in wei, as the chain takes it. */
export function baseFeeWei(path: PricePath): bigint[] {
  return baseFeeGwei(path).map((g) => BigInt(Math.round(g * 10)) * BigInt(GWEI / 10));
}
