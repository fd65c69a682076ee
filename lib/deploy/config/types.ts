import type { IKeeperAuction, IVaultFactory } from "../../../typechain-types";

import type { AssetSymbol } from "../../market/config";

/** The token symbols of the local market, which every Ballast address book carries (`lib/deployments`). */
export type { AssetSymbol };

/** An asset the protocol prices: its address (absent on a local market, whose tokens script 00 deploys). */
export interface AssetConfig {
  address?: string;
  /** The longest age, in seconds, the price guard accepts for the asset's Aave oracle source (or freshness feed). */
  heartbeat: number;
  /**
   * A Chainlink aggregator whose rounds prove the price fresh, for an Aave source without `latestRoundData` (a CAPO or
   * composite adapter): `PriceGuard.setFreshnessFeed`. Absent: the source's own rounds are checked.
   */
  freshnessFeed?: string;
}

/** Where the external contracts live; absent on local networks, where script 00 deploys a market. */
export interface ExternalAddresses {
  /** Aave V3 PoolAddressesProvider: the pool and the oracle are read from it. */
  addressesProvider: string;
  /** Uniswap V3 SwapRouter (v1, with deadlines); the Uniswap factory is read from it. */
  router: string;
  /** Uniswap V3 QuoterV2, for keepers' routing. */
  quoter: string;
}

/** A pair vaults may use: collateral, debt, and the fee tier of the Uniswap pool the price guard reads its TWAP from. */
export type PairConfig = readonly [collateral: AssetSymbol, debt: AssetSymbol, fee: number];

/**
 * A Uniswap V3 pool rebalance swaps may route through (`PriceGuard.setRoute`): its two tokens, in either order, and its
 * fee tier. The pool must exist.
 */
export type RouteConfig = readonly [tokenA: AssetSymbol, tokenB: AssetSymbol, fee: number];

/**
 * How the keeper auction prices the gas part of its reward (`IKeeperAuction.GasConfig`), with the native asset named
 * by symbol: the configure script resolves it to the network's address.
 */
export interface AuctionGasParams {
  /** Gas units of one `execute`, transaction overhead included. At most 5,000,000 (`HARD_MAX_EXECUTE_GAS`). */
  executeGas: number;
  /** Gas units each further call of an `executeBatch` adds; at most `executeGas`. */
  batchCallGas: number;
  /** Gas units of a `kick`, refunded to the kicker out of the execution's reward; at most `executeGas`. */
  kickGas: number;
  /** The most priority fee per gas (wei) the gas part pays on top of the base fee; at most 100 gwei. */
  maxTip: bigint;
  /** The wrapped native token whose oracle price values gas (WETH on Ethereum). */
  nativeAsset: AssetSymbol;
}

/** Protocol parameters; the configure script makes the chain match them. */
export interface ProtocolParams {
  twapWindow: number;
  maxTwapDeviationBps: number;
  /** The short TWAP window a sale of collateral is checked against (`PriceGuard.setDeleverageWindow`), seconds. */
  deleverageTwapWindow: number;
  bounds: IVaultFactory.PolicyBoundsStruct;
  auction: IKeeperAuction.ConfigStruct;
  auctionGas: AuctionGasParams;
  pairs: readonly PairConfig[];
  /** The only pools a rebalance may swap through (R2): a keeper's own pool would keep the slippage bound. */
  routes: readonly RouteConfig[];
}

export interface NetworkConfig {
  /** Deploy the local market first (script 00) and take the external addresses from it. */
  localMarket: boolean;
  external?: ExternalAddresses;
  assets: Record<AssetSymbol, AssetConfig>;
  params: ProtocolParams;
}
