/** Units, keeper profiles and the local reward curve the simulation's unit specs share. */
import { parseUnits } from "ethers";

import { BLOCK_SECONDS, RewardCurve, type KeeperEnvironment, type KeeperProfile } from "../../lib/simulation/keepers";

export const usd = (dollars: string): bigint => parseUnits(dollars, 8);
export const gwei = (g: string): bigint => parseUnits(g, 9);
export const wad = (x: string): bigint => parseUnits(x, 18);
/** WETH at $2,000, oracle base units. */
export const ETH = usd("2000");

/** A keeper profile: latency in seconds, its constant gas price, least profit (USD), and under gas stress tip and max fee. */
export const keeper = (
  name: string,
  latency: number,
  gasGwei: string,
  minProfit: string,
  tip = "1",
  maxFee = "100",
): KeeperProfile => ({
  name,
  latency,
  gasPrice: gwei(gasGwei),
  minProfitBase: usd(minProfit),
  tip: gwei(tip),
  maxFee: gwei(maxFee),
});

/** The local linear curve, 10 to 100 bps over 600 s and doubled at urgency 1, one sample per block. */
export function localCurve(protocolCap = 500): RewardCurve {
  const calm = Array.from({ length: 51 }, (_, i) => 10 + Math.floor((90 * i * BLOCK_SECONDS) / 600));
  return new RewardCurve(
    calm,
    calm.map((v) => 2 * v),
    protocolCap,
  );
}

/** No stress: constant gas prices, nobody down. */
export const CALM: KeeperEnvironment = { fees: () => undefined, upFrom: (_k, t) => t };

/** A running auction on $10,000 sold, calm, kicked at t = 1,000, the owner's 1% cap and no absolute cap that binds. */
export const AUCTION = {
  kickedAt: 1_000,
  valueBase: usd("10000"),
  urgency: 0n,
  ownerCap: 100,
  maxGasPrice: 0n,
  maxRewardBase: usd("1000000"),
};
