/**
 * Gas stress: a base-fee path, one value per price point, that the simulation sets on chain
 * (`hardhat_setNextBlockBaseFeePerGas` before every block it mines, `clock.ts`), so keeper transactions really pay
 * `block.basefee` and a transaction whose max fee is below it is not included.
 *
 * Where the price path gives the base fee (a CSV's `gasGwei` column, `PricePoint.gasGwei`) it is used as given.
 * Elsewhere it is modelled from short-term volatility: congestion follows the market's moves, because a crash brings
 * liquidations, deleveraging, arbitrage and exchange deposits all at once.
 *
 *   σ₁ₕ  = annualized volatility over the trailing hour: the larger of the realized one (sum of squared log returns)
 *          and the hour's net log move (so a path with few points inside an hour still shows its move);
 *   gwei = clamp(CALM_GWEI × (σ₁ₕ / CALM_SIGMA)^ELASTICITY, FLOOR_GWEI, CAP_GWEI).
 *
 * Calibration, on Black Thursday (12-13 March 2020):
 * - before the crash the gas price was typically 10-20 gwei (Etherscan's gas-tracker and average-gas-price history,
 *   etherscan.io/chart/gasprice, early March 2020): CALM_GWEI = 15 at ETH's usual σ of CALM_SIGMA = 0.8 a year;
 * - during the crash hours it held at about 150-250 gwei, with spikes above (Etherscan's history for 12 March 2020;
 *   MakerDAO's post-mortem "Black Thursday Response Thread" and the Maker governance analysis of the 0-DAI auctions,
 *   which name gas prices of 100-200+ gwei as why keepers' bids did not land; Blocknative's and Glassnode's accounts
 *   of the same day). On this repository's `black-thursday-2020` path, whose hourly keyframes fall 3-6% an hour in
 *   the crash (σ₁ₕ up to 6 a year), ELASTICITY = 1.5 gives hourly means of 100-290 gwei in the crash hours (hours
 *   12-16 of the path), 50-110 gwei through the slower fall after, and 10-20 gwei before: see
 *   `test/simulation/gas.spec.ts`. A flash crash (-30% in six minutes) reaches the cap, as May 2021's did on chain.
 * - 2020 had no EIP-1559: the historical numbers are gas prices (base fee and tip together). The path is used as the
 *   base fee; keepers add their tip on top, which errs on the harsh side by a gwei or two.
 * CAP_GWEI (1,000) bounds the model far above anything seen in an hourly average; FLOOR_GWEI keeps a calm hour at the
 * calm level rather than below it.
 */
import type { PricePath } from "./scenarios";

export const CALM_GWEI = 15;
export const CALM_SIGMA = 0.8;
export const ELASTICITY = 1.5;
export const FLOOR_GWEI = 10;
export const CAP_GWEI = 1_000;
/** The trailing window of the short-term volatility, seconds. */
export const GAS_WINDOW_SECONDS = 3_600;

const YEAR_SECONDS = 365 * 24 * 3_600;
const GWEI = 1e9;

/** Annualized volatility over the trailing window at each point (0 at the first). */
export function shortTermVolatility(path: PricePath, windowSeconds = GAS_WINDOW_SECONDS): number[] {
  const pts = path.points;
  const out: number[] = [0];
  let first = 0;
  let sumSq = 0;
  const returns: number[] = [0];
  for (let i = 1; i < pts.length; i++) {
    const r = Math.log(pts[i].price / pts[i - 1].price);
    returns.push(r);
    sumSq += r * r;
    while (first + 1 < i && pts[i].timestamp - pts[first + 1].timestamp >= windowSeconds) {
      first++;
      sumSq -= returns[first] * returns[first];
    }
    const span = Math.max(pts[i].timestamp - pts[first].timestamp, 1);
    // The window is at least an hour long for the annualization, so that one step's move is not blown up.
    const years = Math.max(span, windowSeconds) / YEAR_SECONDS;
    const net = Math.log(pts[i].price / pts[first].price);
    out.push(Math.sqrt(Math.max(Math.max(sumSq, 0), net * net) / years));
  }
  return out;
}

/** The modelled base fee in gwei at an annualized short-term volatility. */
export function modelGwei(sigma: number): number {
  const raw = CALM_GWEI * Math.pow(Math.max(sigma, 0) / CALM_SIGMA, ELASTICITY);
  return Math.min(CAP_GWEI, Math.max(FLOOR_GWEI, raw));
}

/** The base fee at each point of the path, gwei (0.1 gwei resolution): the point's own `gasGwei`, else the model. */
export function baseFeeGwei(path: PricePath): number[] {
  const sigma = shortTermVolatility(path);
  return path.points.map((p, i) => Math.round((p.gasGwei ?? modelGwei(sigma[i])) * 10) / 10);
}

/** The same path in wei, as the chain takes it. */
export function baseFeeWei(path: PricePath): bigint[] {
  return baseFeeGwei(path).map((g) => BigInt(Math.round(g * 10)) * BigInt(GWEI / 10));
}
