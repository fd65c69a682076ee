/** Deployment names (hardhat-deploy records) and script tags: constants, so scripts, tasks and tests agree. */
import type { AssetSymbol } from "./config";

/** What script 00 records of the local market; on other networks the external contracts are configured. */
export const MARKET = {
  addressesProvider: "AavePoolAddressesProvider",
  pool: "AavePool",
  oracle: "AaveOracle",
  uniswapFactory: "UniswapV3Factory",
  router: "SwapRouter",
  quoter: "QuoterV2",
} as const;

/** The local market's tokens, recorded under their symbol. */
export function tokenName(symbol: AssetSymbol): string {
  return `Token${symbol}`;
}

/** Ballast's own contracts. */
export const NAMES = {
  priceGuard: "PriceGuard",
  executor: "RebalanceExecutor",
  forwarder: "BallastForwarder",
  /** The external library the vault implementation calls; script 04 deploys it and links the factory to it. */
  planner: "VaultPlanner",
  /** The vault's collateral logic library (switch, foreign collateral), linked to the planner; script 04 deploys it. */
  collateralLogic: "CollateralLogic",
  factory: "VaultFactory",
  /** Deployed by the factory's constructor; script 04 records it. */
  auction: "KeeperAuction",
  lens: "VaultLens",
} as const;

export const TAGS = {
  localMarket: "LocalMarket",
  priceGuard: "PriceGuard",
  executor: "Executor",
  forwarder: "Forwarder",
  factory: "Factory",
  configure: "Configure",
  lens: "Lens",
  addressBook: "AddressBook",
  /** Every script: `npx hardhat deploy --tags Ballast`. */
  all: "Ballast",
} as const;

/** Every tag a script carries, for tests that deploy each one alone. */
export const SCRIPT_TAGS: readonly string[] = Object.values(TAGS);
