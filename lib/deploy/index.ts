/** Helpers the deploy scripts (deploy/) share; the scripts stay short and hardhat-deploy finds only scripts there. */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import fs from "node:fs";
import { getAddress, ZeroAddress } from "ethers";

import { IPoolAddressesProvider__factory, SwapRouter__factory } from "../../typechain-types";
import { configFor, type AssetSymbol, type NetworkConfig } from "./config";
import { ASSET_SYMBOLS } from "../market/config";
import { addressBookPath, readDeployment, type BallastDeployment } from "../deployments";
import { MARKET, NAMES, tokenName } from "./names";
import type { AssetSetting, PairSetting, RouteSetting } from "./wiring";

export * from "./config";
export * from "./names";

/** Every network configures the local market's three assets (the address book's tokens). */
export const ASSETS: readonly AssetSymbol[] = ASSET_SYMBOLS;

/** The external contracts and tokens Ballast is deployed against, resolved for the current network. */
export interface External {
  addressesProvider: string;
  pool: string;
  oracle: string;
  uniswapFactory: string;
  router: string;
  quoter: string;
  tokens: Record<AssetSymbol, string>;
}

/** The current network's configuration (see `configFor`). */
export function networkConfig(hre: HardhatRuntimeEnvironment): NetworkConfig {
  return configFor(hre.network.name);
}

/**
 * On a local market, the addresses script 00 recorded; elsewhere the configured ones, with the Aave pool and oracle
 * read from the PoolAddressesProvider and the Uniswap factory from the router, so the config cannot contradict them.
 */
export async function resolveExternal(hre: HardhatRuntimeEnvironment): Promise<External> {
  const config = networkConfig(hre);
  const tokens = {} as Record<AssetSymbol, string>;
  if (config.localMarket) {
    const at = async (name: string) => (await hre.deployments.get(name)).address;
    for (const symbol of ASSETS) tokens[symbol] = await at(tokenName(symbol));
    return {
      addressesProvider: await at(MARKET.addressesProvider),
      pool: await at(MARKET.pool),
      oracle: await at(MARKET.oracle),
      uniswapFactory: await at(MARKET.uniswapFactory),
      router: await at(MARKET.router),
      quoter: await at(MARKET.quoter),
      tokens,
    };
  }
  const { external } = config;
  if (external === undefined) throw new Error(`The ${hre.network.name} configuration has no external addresses`);
  for (const symbol of ASSETS) {
    const address = config.assets[symbol].address;
    if (address === undefined) throw new Error(`The ${hre.network.name} configuration has no ${symbol} address`);
    tokens[symbol] = address;
  }
  const provider = IPoolAddressesProvider__factory.connect(external.addressesProvider, hre.ethers.provider);
  const router = SwapRouter__factory.connect(external.router, hre.ethers.provider);
  return {
    ...external,
    pool: await provider.getPool(),
    oracle: await provider.getPriceOracle(),
    uniswapFactory: await router.factory(),
    tokens,
  };
}

/** The configured assets with their resolved addresses, for `heartbeatChanges`. */
export function assetSettings(config: NetworkConfig, external: External): AssetSetting[] {
  return ASSETS.map((symbol) => ({
    symbol,
    address: external.tokens[symbol],
    heartbeat: config.assets[symbol].heartbeat,
    freshnessFeed: config.assets[symbol].freshnessFeed ?? ZeroAddress,
  }));
}

/** The configured pairs with their resolved addresses, for `pairChanges`. */
export function pairSettings(config: NetworkConfig, external: External): PairSetting[] {
  const asset = (symbol: AssetSymbol) => ({ symbol, address: external.tokens[symbol] });
  return config.params.pairs.map(([collateral, debt, fee]) => ({
    collateral: asset(collateral),
    debt: asset(debt),
    fee,
  }));
}

/** The configured swap routes with their resolved addresses, for `routeChanges`. */
export function routeSettings(config: NetworkConfig, external: External): RouteSetting[] {
  const asset = (symbol: AssetSymbol) => ({ symbol, address: external.tokens[symbol] });
  return config.params.routes.map(([tokenA, tokenB, fee]) => ({ tokenA: asset(tokenA), tokenB: asset(tokenB), fee }));
}

/** Constructor arguments as hardhat-deploy records them (JSON): bigints become decimal strings. */
export function jsonArgs<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as T;
}

/**
 * The network the records and the address book are for: "localhost" when `npx hardhat node` runs the scripts on its
 * in-process network (tasks/deployments marks that run), as hardhat-deploy and the tasks then name it; otherwise the
 * current network.
 */
export function recordsNetwork(hre: HardhatRuntimeEnvironment): string {
  return hre.network.name === "hardhat" && process.env.BALLAST_NODE === "1" ? "localhost" : hre.network.name;
}

/** Where script 07 writes the address book: the file the tasks read (`addressBookPath`). */
export function addressBookFile(hre: HardhatRuntimeEnvironment): string {
  return addressBookPath(recordsNetwork(hre), hre.config.paths.root);
}

/**
 * The address book in `file` when its contracts are live on this chain: same chain id, code at its factory. Undefined
 * when there is no book, it is malformed, for another chain, or left from a restarted node: nothing to protect.
 */
export async function liveAddressBook(
  hre: HardhatRuntimeEnvironment,
  network: string,
  file: string,
): Promise<BallastDeployment | undefined> {
  if (!fs.existsSync(file)) return undefined;
  let book: BallastDeployment;
  try {
    book = readDeployment(network, file);
  } catch {
    return undefined;
  }
  if (BigInt(book.chainId) !== (await hre.ethers.provider.getNetwork()).chainId) return undefined;
  return (await hre.ethers.provider.getCode(book.contracts.factory)) === "0x" ? undefined : book;
}

/**
 * Why the deploy scripts must not write the address book, or undefined when they may: when no live book is there, or
 * it names `factory`, the factory the scripts recorded. Otherwise the book names a live deployment the scripts did
 * not make (`local:deploy` did) and writing would make its vaults vanish from every task.
 */
export async function addressBookConflict(
  hre: HardhatRuntimeEnvironment,
  factory: string | undefined,
): Promise<string | undefined> {
  const file = addressBookFile(hre);
  const book = await liveAddressBook(hre, recordsNetwork(hre), file);
  if (book === undefined) return undefined;
  const live = book.contracts.factory;
  if (factory !== undefined && getAddress(factory) === live) return undefined;
  const scripts = factory === undefined ? "none recorded" : `the scripts recorded ${getAddress(factory)}`;
  return (
    `${file} names a live Ballast deployment (factory ${live}, from local:deploy?) that the deploy scripts did ` +
    `not make (${scripts}); the tasks already use it, so skip \`deploy\`, or delete ${file} first to replace it`
  );
}

/** The address book of the recorded deployment (what script 07 writes). */
export async function addressBook(hre: HardhatRuntimeEnvironment): Promise<BallastDeployment> {
  const external = await resolveExternal(hre);
  const at = async (name: string) => (await hre.deployments.get(name)).address;
  return {
    network: recordsNetwork(hre),
    chainId: Number((await hre.ethers.provider.getNetwork()).chainId),
    contracts: {
      factory: await at(NAMES.factory),
      forwarder: await at(NAMES.forwarder),
      priceGuard: await at(NAMES.priceGuard),
      executor: await at(NAMES.executor),
      pool: external.pool,
      router: external.router,
      quoter: external.quoter,
      lens: await at(NAMES.lens),
      auction: await at(NAMES.auction),
      tokens: external.tokens,
    },
  };
}

/**
 * On a live network governance must not be the deployer's hot key: it owns the price guard, the factory and the
 * auction. hardhat-deploy marks hardhat and localhost (and so a fork) as not live.
 * @throws Error saying which variable to set.
 */
export function checkGovernance(network: { name: string; live: boolean }, deployer: string, governance: string): void {
  if (network.live && deployer.toLowerCase() === governance.toLowerCase()) {
    throw new Error(
      `On ${network.name} governance would be the deployer ${deployer}: set BALLAST_GOVERNANCE (a multisig) and ` +
        `BALLAST_GUARDIAN to the addresses that will own and guard the protocol`,
    );
  }
}
