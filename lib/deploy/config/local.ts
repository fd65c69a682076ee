import { parseUnits } from "ethers";

import type { NetworkConfig } from "./types";

/** `IKeeperAuction.CurveKind`, as typechain passes enums: by ordinal. */
export enum CurveKind {
  Linear = 0,
  Stairstep = 1,
  Exponential = 2,
}

/** Protocol parameters of a local deployment (hardhat, localhost); tests and the simulation use them too. */
export const LOCAL_PARAMS = {
  twapWindow: 600,
  maxTwapDeviationBps: 500,
  deleverageTwapWindow: 60,
  heartbeat: 3_600,
  bounds: {
    minHFFloor: parseUnits("1.05", 18),
    maxHFCeiling: parseUnits("5", 18),
    minBandGap: parseUnits("0.05", 18),
    maxSlippageBpsCap: 300,
    maxKeeperRewardBpsCap: 500,
    hfTolerance: parseUnits("0.02", 18),
  },
  /** Keeper reward: 0.1% of the value sold at the kick, rising linearly to 1% over 10 minutes, doubled at HF 1.0. */
  auction: {
    kind: CurveKind.Linear,
    startBps: 10,
    maxBps: 100,
    urgencyBoostBps: 10_000,
    duration: 600,
    step: 60,
    minHFMove: parseUnits("0.01", 18),
    minDebtBase: 1_000n * 10n ** 8n,
  },
  /**
   * The gas part of the keeper reward. Measured (reports/gas.json, bench/gas.ts, with the gas part itself): one
   * `execute` of a deleverage uses about 729k gas (a batch of one 755k), and each further vault of a batch about 475k
   * (20 vaults: 489k each, 5: 532k each; a batch's first call is priced as a single execution, since it bears the
   * transaction's overhead). Both set 10-14% above the measured figures, so that a keeper is paid at least its gas
   * at the base fee. A kick is refunded 230k: 208k measured with the auction's second storage word (kicker and gas
   * price). The tip is bounded at 2 gwei: enough to be included in a busy block, not a bidding war the owner pays for.
   */
  auctionGas: {
    executeGas: 800_000,
    batchCallGas: 540_000,
    kickGas: 230_000,
    maxTip: parseUnits("2", "gwei"),
    nativeAsset: "WETH" as const,
  },
  /** (collateral, debt, reference pool fee) pairs. */
  pairs: [
    ["WETH", "USDC", 500],
    ["WBTC", "USDC", 3_000],
  ] as const,
  /** Every pool of the local market (`POOLS`): the allowed swap routes. */
  routes: [
    ["WETH", "USDC", 500],
    ["WETH", "USDC", 3_000],
    ["WBTC", "USDC", 3_000],
  ] as const,
};

/** hardhat and localhost: the local market (script 00) with its mock feeds, all refreshed within the hour. */
export const LOCAL: NetworkConfig = {
  localMarket: true,
  assets: {
    WETH: { heartbeat: LOCAL_PARAMS.heartbeat },
    WBTC: { heartbeat: LOCAL_PARAMS.heartbeat },
    USDC: { heartbeat: LOCAL_PARAMS.heartbeat },
  },
  params: LOCAL_PARAMS,
};
