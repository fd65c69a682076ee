import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { parseUnits } from "ethers";

import {
  BallastForwarder__factory,
  KeeperAuction__factory,
  PriceGuard__factory,
  RebalanceExecutor__factory,
  VaultFactory__factory,
  VaultLens__factory,
  type IBallastVault,
  type BallastForwarder,
  type IKeeperAuction,
  type IVaultFactory,
  type KeeperAuction,
  type PriceGuard,
  type RebalanceExecutor,
  type VaultFactory,
  type VaultLens,
} from "../../typechain-types";
import { mined } from "../market/aave";
import { ASSET_SYMBOLS, poolKey, POOLS, type AssetSymbol, type Market } from "../market";
import { encodePath } from "./path";

export { encodePath };

/** `IKeeperAuction.CurveKind`, as typechain passes enums: by ordinal. */
export enum CurveKind {
  Linear = 0,
  Stairstep = 1,
  Exponential = 2,
}

/** Protocol parameters for a local deployment; the deployment issue moves them to per-network files. */
export const LOCAL_PARAMS = {
  twapWindow: 600,
  maxTwapDeviationBps: 500,
  heartbeat: 3_600,
  bounds: {
    minHFFloor: parseUnits("1.05", 18),
    maxHFCeiling: parseUnits("5", 18),
    minBandGap: parseUnits("0.05", 18),
    maxSlippageBpsCap: 300,
    maxKeeperRewardBpsCap: 500,
    hfTolerance: parseUnits("0.02", 18),
  } satisfies IVaultFactory.PolicyBoundsStruct,
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
  } satisfies IKeeperAuction.ConfigStruct,
  /** (collateral, debt, reference pool fee) pairs. */
  pairs: [
    ["WETH", "USDC", 500],
    ["WBTC", "USDC", 3_000],
  ] as const satisfies readonly (readonly [AssetSymbol, AssetSymbol, number])[],
};

/** A vault policy with every field a bigint, as the vault returns it and as tasks and the simulation build it. */
export interface PolicyValues {
  minHF: bigint;
  targetHF: bigint;
  maxHF: bigint;
  maxSlippageBps: bigint;
  maxKeeperRewardBps: bigint;
}

/** A policy every test and simulation can start from: band 1.3 / 1.5 / 1.8, 1% slippage, 1% reward cap. */
export const DEFAULT_POLICY: IBallastVault.PolicyStruct = {
  minHF: parseUnits("1.3", 18),
  targetHF: parseUnits("1.5", 18),
  maxHF: parseUnits("1.8", 18),
  maxSlippageBps: 100,
  maxKeeperRewardBps: 100,
};

export interface Protocol {
  governance: HardhatEthersSigner;
  guardian: HardhatEthersSigner;
  forwarder: BallastForwarder;
  priceGuard: PriceGuard;
  executor: RebalanceExecutor;
  factory: VaultFactory;
  /** Deployed by the factory's constructor. */
  auction: KeeperAuction;
  /** The stateless read-only view keepers scan vaults with. */
  lens: VaultLens;
}

/**
 * Deploys the price guard, executor, forwarder and factory (which deploys the auction) on a local market, allows the
 * configured pairs, and deploys the vault lens.
 */
export async function deployProtocol(
  market: Market,
  governance: HardhatEthersSigner,
  guardian: HardhatEthersSigner,
): Promise<Protocol> {
  const { aave, uniswap, tokens } = market;
  const priceGuard = await new PriceGuard__factory(governance).deploy(
    aave.oracle,
    uniswap.factory,
    governance.address,
    LOCAL_PARAMS.twapWindow,
    LOCAL_PARAMS.maxTwapDeviationBps,
  );
  for (const symbol of ASSET_SYMBOLS) {
    await mined(priceGuard.setHeartbeat(tokens.erc20[symbol], LOCAL_PARAMS.heartbeat));
  }
  const executor = await new RebalanceExecutor__factory(governance).deploy(aave.addressesProvider, uniswap.router);
  const forwarder = await new BallastForwarder__factory(governance).deploy();
  const factory = await new VaultFactory__factory(governance).deploy(
    aave.pool,
    executor,
    priceGuard,
    forwarder,
    governance.address,
    guardian.address,
    LOCAL_PARAMS.bounds,
    LOCAL_PARAMS.auction,
  );
  const auction = KeeperAuction__factory.connect(await factory.AUCTION(), governance);
  for (const [collateral, debt, fee] of LOCAL_PARAMS.pairs) {
    await mined(priceGuard.setReferencePool(tokens.erc20[collateral], tokens.erc20[debt], fee));
    await mined(factory.setPair(tokens.erc20[collateral], tokens.erc20[debt], true));
  }
  // Last, so that adding it moved no other contract's address.
  const lens = await new VaultLens__factory(governance).deploy();
  return { governance, guardian, forwarder, priceGuard, executor, factory, auction, lens };
}

/** A single-hop exactInput path through a market pool, in the given direction. */
export async function singleHopPath(market: Market, tokenIn: AssetSymbol, tokenOut: AssetSymbol, fee: number) {
  const known = POOLS.some(
    (p) =>
      p.fee === fee && ((p.base === tokenIn && p.quote === tokenOut) || (p.base === tokenOut && p.quote === tokenIn)),
  );
  if (!known) throw new RangeError(`No market pool ${poolKey({ base: tokenIn, quote: tokenOut, fee })}`);
  return encodePath(
    [await market.tokens.erc20[tokenIn].getAddress(), await market.tokens.erc20[tokenOut].getAddress()],
    [fee],
  );
}
