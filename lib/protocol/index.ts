import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { getCreateAddress, parseUnits, ZeroAddress, type AddressLike } from "ethers";

import {
  BallastForwarder__factory,
  BallastPool__factory,
  CollateralLogic__factory,
  KeeperAuction__factory,
  PriceGuard__factory,
  RebalanceExecutor__factory,
  VaultFactory__factory,
  VaultLens__factory,
  VaultPlanner__factory,
  type BallastPool,
  type IBallastVault,
  type IKeeperAuction,
  type IVaultFactory,
  type BallastForwarder,
  type KeeperAuction,
  type PriceGuard,
  type RebalanceExecutor,
  type VaultFactory,
  type VaultLens,
} from "../../typechain-types";
import { ASSET_SYMBOLS, poolKey, POOLS, type AssetSymbol, type Market } from "../market";
import { CurveKind, LOCAL, LOCAL_PARAMS } from "../deploy/config";
import {
  applyChanges,
  auctionGasChanges,
  freshnessChanges,
  heartbeatChanges,
  pairChanges,
  routeChanges,
} from "../deploy/wiring";
import { encodePath } from "./path";

export { encodePath };
// The local parameters live with the other networks' (lib/deploy/config); existing imports keep working.
export { CurveKind, LOCAL_PARAMS };

/** A vault policy with every field a bigint, as the vault returns it and as tasks and the simulation build it. */
export interface PolicyValues {
  minHF: bigint;
  targetHF: bigint;
  maxHF: bigint;
  maxSlippageBps: bigint;
  maxKeeperRewardBps: bigint;
  maxGasPrice: bigint;
  maxRewardBase: bigint;
  urgentSlippageBps: bigint;
}

/**
 * The owner's absolute caps on the keeper reward, for a vault of about $20k to $1M.
 *
 * - `maxGasPrice` 2,000 gwei: above any base fee Ethereum has seen (Black Thursday peaked near 200 gwei, the 2021 NFT
 *   mints near 1,000-2,000 gwei), so keepers are paid their gas through any crash; it only stops a chain with a broken
 *   fee market from draining the vault. At 2,000 gwei an 800k-gas execution costs 1.6 ETH.
 * - `maxRewardBase` $5,000 (base units, 8 decimals): the whole reward (premium plus gas part) per rebalance. Enough to
 *   pay an execution at 2,000 gwei with ETH near $3,000 ($4,800), and the 1% premium on a $500k sale; small against
 *   what a liquidation costs a $1M position (a 5% bonus on the debt repaid). A small vault's owner may want less.
 */
export const DEFAULT_MAX_GAS_PRICE = parseUnits("2000", "gwei");
export const DEFAULT_MAX_REWARD_BASE = 5_000n * 10n ** 8n;

/**
 * A keeper deleverage's slippage bound at HF 1.0 (`urgentSlippageBps`), widening from the 1% at minHF: 3%, the local
 * and mainnet cap. In a crash the pools can trade below the oracle (liquidators and other sellers hit them first, and
 * arbitrage takes a block or more to close the gap); a sale bounded at 1% then cannot clear while a liquidation, which
 * costs Aave's bonus (5% on WETH) on up to all of the debt, can. 3% keeps a sale near HF 1.0 cheaper than that.
 */
export const DEFAULT_URGENT_SLIPPAGE_BPS = 300;

/**
 * A policy every test and simulation can start from: band 1.3 / 1.5 / 1.8, 1% slippage widening to 3% at HF 1.0, 1%
 * premium cap, gas priced at up to 2,000 gwei, at most $5,000 of reward per rebalance.
 */
export const DEFAULT_POLICY: IBallastVault.PolicyStruct = {
  minHF: parseUnits("1.3", 18),
  targetHF: parseUnits("1.5", 18),
  maxHF: parseUnits("1.8", 18),
  maxSlippageBps: 100,
  maxKeeperRewardBps: 100,
  maxGasPrice: DEFAULT_MAX_GAS_PRICE,
  maxRewardBase: DEFAULT_MAX_REWARD_BASE,
  urgentSlippageBps: DEFAULT_URGENT_SLIPPAGE_BPS,
};

/** A policy struct (as set, or as the vault returns it) with every field a bigint. */
export function policyValues(p: IBallastVault.PolicyStruct): PolicyValues {
  return {
    minHF: BigInt(p.minHF),
    targetHF: BigInt(p.targetHF),
    maxHF: BigInt(p.maxHF),
    maxSlippageBps: BigInt(p.maxSlippageBps),
    maxKeeperRewardBps: BigInt(p.maxKeeperRewardBps),
    maxGasPrice: BigInt(p.maxGasPrice),
    maxRewardBase: BigInt(p.maxRewardBase),
    urgentSlippageBps: BigInt(p.urgentSlippageBps),
  };
}

export interface Protocol {
  governance: HardhatEthersSigner;
  guardian: HardhatEthersSigner;
  forwarder: BallastForwarder;
  priceGuard: PriceGuard;
  executor: RebalanceExecutor;
  factory: VaultFactory;
  /** The external libraries the vault implementation, and so the factory, is linked to. */
  libraries: VaultLibraries;
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
  const asset = async (symbol: AssetSymbol) => ({ symbol, address: await tokens.erc20[symbol].getAddress() });
  const assets = (await Promise.all(ASSET_SYMBOLS.map(asset))).map((a) => ({
    ...a,
    heartbeat: LOCAL.assets[a.symbol].heartbeat,
    freshnessFeed: LOCAL.assets[a.symbol].freshnessFeed ?? ZeroAddress,
  }));
  await applyChanges(
    [...(await heartbeatChanges(priceGuard, assets)), ...(await freshnessChanges(priceGuard, assets))],
    governance,
  );
  const executor = await new RebalanceExecutor__factory(governance).deploy(aave.addressesProvider, uniswap.router);
  const forwarder = await new BallastForwarder__factory(governance).deploy();
  const libraries = await deployVaultLibraries(governance);
  const { factory, auction } = await deployFactory(governance, libraries, {
    pool: aave.pool,
    executor,
    priceGuard,
    forwarder,
    governance: governance.address,
    guardian: guardian.address,
    bounds: LOCAL_PARAMS.bounds,
  });
  const pairs = await Promise.all(
    LOCAL.params.pairs.map(async ([collateral, debt, fee]) => ({
      collateral: await asset(collateral),
      debt: await asset(debt),
      fee,
    })),
  );
  await applyChanges(await pairChanges(priceGuard, factory, pairs), governance);
  // Last, so that adding it moved no other contract's address.
  const lens = await new VaultLens__factory(governance).deploy();
  // After the lens, so that no address moved: the gas part of the keeper reward, priced in WETH.
  await applyChanges(
    await auctionGasChanges(auction, {
      ...LOCAL_PARAMS.auctionGas,
      nativeAsset: await tokens.erc20[LOCAL_PARAMS.auctionGas.nativeAsset].getAddress(),
    }),
    governance,
  );
  // Last too, for the same reason: the pools rebalance swaps may route through (R2). No vault exists yet.
  const routes = await Promise.all(
    LOCAL.params.routes.map(async ([tokenA, tokenB, fee]) => ({
      tokenA: await asset(tokenA),
      tokenB: await asset(tokenB),
      fee,
    })),
  );
  await applyChanges(await routeChanges(priceGuard, routes), governance);
  return { governance, guardian, forwarder, priceGuard, executor, factory, libraries, lens, auction };
}

/** The addresses of the external libraries the vault implementation calls. */
export interface VaultLibraries {
  planner: string;
  collateralLogic: string;
}

/**
 * Deploys VaultPlanner, then CollateralLogic linked to it. VaultPlanner goes from its bytecode alone: its ABI names
 * struct members by their Solidity enum type, which ethers cannot parse (it warns on each fragment), and nothing calls
 * the library but the vault.
 */
export async function deployVaultLibraries(deployer: HardhatEthersSigner): Promise<VaultLibraries> {
  const receipt = await (await deployer.sendTransaction({ data: VaultPlanner__factory.bytecode })).wait();
  if (receipt?.contractAddress == null) throw new Error("VaultPlanner was not deployed");
  const planner = receipt.contractAddress;
  const logic = await new CollateralLogic__factory(
    { "contracts/libraries/VaultPlanner.sol:VaultPlanner": planner },
    deployer,
  ).deploy();
  return { planner, collateralLogic: await logic.getAddress() };
}

/** What `VaultFactory`'s constructor takes besides the auction. */
export interface FactoryArgs {
  pool: AddressLike;
  executor: AddressLike;
  priceGuard: AddressLike;
  forwarder: AddressLike;
  governance: string;
  guardian: string;
  bounds: IVaultFactory.PolicyBoundsStruct;
}

/** The keeper auction, naming the factory's address to come, then the factory (linked to `libraries`) that checks it. */
export async function deployFactory(
  deployer: HardhatEthersSigner,
  libraries: VaultLibraries,
  a: FactoryArgs,
  auctionConfig: IKeeperAuction.ConfigStruct = LOCAL_PARAMS.auction,
): Promise<{ factory: VaultFactory; auction: KeeperAuction }> {
  const auction = await new KeeperAuction__factory(deployer).deploy(
    await nextCreateAddress(deployer, 1),
    auctionConfig,
  );
  const factory = await new VaultFactory__factory(vaultFactoryLinks(libraries), deployer).deploy(
    a.pool,
    a.executor,
    a.priceGuard,
    a.forwarder,
    a.governance,
    a.guardian,
    a.bounds,
    auction,
  );
  return { factory, auction };
}

/**
 * The address `deployer`'s contract creation `ahead` transactions from now will take: the factory's, for the keeper
 * auction deployed just before it, which must name it (`VaultFactory` checks, `FactoryAuctionMismatch`).
 */
export async function nextCreateAddress(deployer: HardhatEthersSigner, ahead: number): Promise<string> {
  return getCreateAddress({ from: deployer.address, nonce: (await deployer.getNonce("pending")) + ahead });
}

/** The library links of the factory's bytecode: the vault implementation it creates calls both libraries. */
export function vaultFactoryLinks(libraries: VaultLibraries): {
  "contracts/libraries/VaultPlanner.sol:VaultPlanner": string;
  "contracts/vault/logic/CollateralLogic.sol:CollateralLogic": string;
} {
  return {
    "contracts/libraries/VaultPlanner.sol:VaultPlanner": libraries.planner,
    "contracts/vault/logic/CollateralLogic.sol:CollateralLogic": libraries.collateralLogic,
  };
}

/** A single-hop exactInput path through a market pool, in the given direction. */
export async function singleHopPath(market: Market, tokenIn: AssetSymbol, tokenOut: AssetSymbol, fee: number) {
  return marketPath(market, [tokenIn, tokenOut], [fee]);
}

/** An exactInput path through market pools, `tokens[i]` to `tokens[i + 1]` through the pool of fee `fees[i]`. */
export async function marketPath(
  market: Market,
  tokens: readonly AssetSymbol[],
  fees: readonly number[],
): Promise<string> {
  fees.forEach((fee, i) => {
    const [a, b] = [tokens[i], tokens[i + 1]];
    const known = POOLS.some(
      (p) => p.fee === fee && ((p.base === a && p.quote === b) || (p.base === b && p.quote === a)),
    );
    if (!known) throw new RangeError(`No market pool ${poolKey({ base: a, quote: b, fee })}`);
  });
  return encodePath(await Promise.all(tokens.map((t) => market.tokens.erc20[t].getAddress())), fees);
}

/** What `deployPool` may change from its defaults. */
export interface PoolOptions {
  collateral?: AssetSymbol;
  debt?: AssetSymbol;
  /** The exit path's single pool; by default the pair's 0.05% pool. */
  fee?: number;
  policy?: IBallastVault.PolicyStruct;
  /** In collateral units; 0 (the default) means no cap. */
  supplyCap?: bigint;
  name?: string;
  symbol?: string;
}

/**
 * A `BallastPool` over a new position of the factory's (WETH against USDC by default), owned by `governance`, whose
 * exits sell collateral through the pair's pool of fee `options.fee`.
 */
export async function deployPool(
  market: Market,
  protocol: Pick<Protocol, "factory">,
  governance: HardhatEthersSigner,
  guardian: AddressLike,
  options: PoolOptions = {},
): Promise<BallastPool> {
  const collateral = options.collateral ?? "WETH";
  const debt = options.debt ?? "USDC";
  const pool = await new BallastPool__factory(governance).deploy({
    factory: protocol.factory,
    addressesProvider: market.aave.addressesProvider,
    router: market.uniswap.router,
    asset: market.tokens.erc20[collateral],
    debtAsset: market.tokens.erc20[debt],
    policy: options.policy ?? DEFAULT_POLICY,
    exitPath: await singleHopPath(market, collateral, debt, options.fee ?? 500),
    supplyCap: options.supplyCap ?? 0n,
    governance: governance.address,
    guardian,
    name: options.name ?? `Ballast ${collateral}/${debt}`,
    symbol: options.symbol ?? `b${collateral}x`,
  });
  await pool.waitForDeployment();
  return pool;
}
