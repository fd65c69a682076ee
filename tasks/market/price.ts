/**
 * `market:price`: moves one asset of the local market. The mock Chainlink feed gets the new answer, the arbitrageur
 * swaps every Uniswap pool holding the asset to it (lib/market's World), and the other feeds are re-posted so none is
 * stale. The price guard compares the oracle with a Uniswap TWAP, which lags a sudden move: by default the task moves
 * the chain's clock on until the guard accepts a rebalance either way; `--no-wait` leaves the clock and says when.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { parseUnits, ZeroAddress } from "ethers";

import {
  ASSET_SYMBOLS,
  POOLS,
  poolKey,
  World,
  WorldArbitrageError,
  type AssetSymbol,
  type PoolInfo,
} from "../../lib/market";
import { marketAccounts } from "../../lib/market/accounts";
import { sortAssets } from "../../lib/market/uniswap";
import type { MarketAccounts, MarketTokens } from "../../lib/market";
import {
  IAaveOracle__factory,
  IERC20Detailed__factory,
  IUniswapV3Factory__factory,
  MockAggregatorV3__factory,
  SwapRouter__factory,
  UniswapV3Pool__factory,
  WETH9__factory,
  type MockAggregatorV3,
} from "../../typechain-types";
import { MintableERC20__factory } from "../../typechain-types/factories/cache/npm-artifacts/MintableERC20__factory";
import { LOCAL_NETWORKS } from "../local/deploy";
import { loadContext, log, type TaskContext } from "../shared/context";
import { decodeRevert, explain, revertData, TaskError } from "../shared/errors";
import * as fmt from "../shared/format";

export interface PriceArgs {
  asset: string;
  price: string;
  noWait: boolean;
  deployments?: string;
}

/** The guard's verdict on one pair: seconds until each kind of rebalance passes its TWAP check (0: now). */
export interface GuardCheck {
  pair: string;
  deleverage: number;
  leverage: number;
}

export interface PriceResult {
  asset: AssetSymbol;
  /** Oracle prices, 8 decimals. */
  oldPrice: bigint;
  newPrice: bigint;
  /** Each pool holding the asset: its key and the asset's USD price in it afterwards, 8 decimals. */
  pools: { key: string; price: bigint }[];
  /** Seconds the task moved the chain's clock on (0 with --no-wait or when the guard already agreed). */
  waited: number;
  /** After the wait. */
  guard: GuardCheck[];
}

/** Probes beyond the TWAP window: a move the window cannot absorb is reported, not searched for ever. */
const MAX_WAIT_WINDOWS = 3;

function parseAsset(value: string): AssetSymbol {
  const found = ASSET_SYMBOLS.find((s) => s.toLowerCase() === value.trim().toLowerCase());
  if (found === undefined) {
    throw new TaskError(`Unknown asset "${value}" for --asset: use one of ${ASSET_SYMBOLS.join(", ")}`);
  }
  return found;
}

function parsePrice(value: string): bigint {
  const v = value.trim();
  if (!/^\d+(\.\d{1,8})?$/.test(v) || parseUnits(v, 8) === 0n) {
    throw new TaskError(`--price must be a positive USD price with at most 8 decimals, like 1600, got "${value}"`);
  }
  return parseUnits(v, 8);
}

const usd8 = (value: bigint): string => fmt.fixed(value, 8, 2, true);

/** A World over the market the address book names: its feeds, tokens, router and pools, its impersonated roles. */
async function worldOf(hre: HardhatRuntimeEnvironment, ctx: TaskContext, asset: AssetSymbol): Promise<World> {
  const provider = hre.ethers.provider;
  const oracle = IAaveOracle__factory.connect(await ctx.priceGuard.ORACLE(), provider);
  const feeds = {} as Record<AssetSymbol, MockAggregatorV3>;
  for (const symbol of ASSET_SYMBOLS) {
    feeds[symbol] = MockAggregatorV3__factory.connect(
      await oracle.getSourceOfAsset(ctx.book.contracts.tokens[symbol]),
      provider,
    );
  }
  // Only the local market's mock feed takes a new answer from anyone; a real feed (a fork) has no setAnswer.
  const feed = feeds[asset];
  try {
    await feed.setAnswer.estimateGas(await feed.latestAnswer());
  } catch {
    throw new TaskError(
      `The oracle's price source of ${asset} (${await feed.getAddress()}) is not the local market's mock feed: ` +
        "market:price moves a local market only (deploy one on `npx hardhat node`, then pass --network localhost)",
    );
  }
  let accounts: MarketAccounts;
  try {
    accounts = await marketAccounts(hre);
  } catch (e) {
    throw new TaskError(
      `Cannot impersonate the local market's accounts on ${hre.network.name} (${(e as Error).message.split("\n")[0]}): ` +
        "market:price needs a Hardhat node (`npx hardhat node`)",
    );
  }
  const { admin, arbitrageur } = accounts;
  const t = ctx.book.contracts.tokens;
  const tokens: MarketTokens = {
    weth: WETH9__factory.connect(t.WETH, admin),
    mintable: {
      WBTC: MintableERC20__factory.connect(t.WBTC, admin),
      USDC: MintableERC20__factory.connect(t.USDC, admin),
    },
    erc20: {
      WETH: IERC20Detailed__factory.connect(t.WETH, admin),
      WBTC: IERC20Detailed__factory.connect(t.WBTC, admin),
      USDC: IERC20Detailed__factory.connect(t.USDC, admin),
    },
  };
  const uniswap = IUniswapV3Factory__factory.connect(await ctx.priceGuard.UNISWAP_FACTORY(), provider);
  const pools: Record<string, PoolInfo> = {};
  for (const params of POOLS) {
    const address = await uniswap.getPool(t[params.base], t[params.quote], params.fee);
    if (address === ZeroAddress) continue;
    const [token0, token1] = await sortAssets(tokens, params.base, params.quote);
    const key = poolKey(params);
    pools[key] = { ...params, key, pool: UniswapV3Pool__factory.connect(address, provider), token0, token1 };
  }
  const router = SwapRouter__factory.connect(ctx.book.contracts.router, admin);
  const world = new World(hre, admin, arbitrageur, tokens, feeds, { router, pools });
  await world.init();
  return world;
}

/** Runs `check` with the chain's clock `seconds` on, then puts the chain back as it was. */
async function probe(hre: HardhatRuntimeEnvironment, seconds: number, check: () => Promise<boolean>): Promise<boolean> {
  if (seconds === 0) return check();
  const provider = hre.network.provider;
  const snapshot = (await provider.request({ method: "evm_snapshot", params: [] })) as string;
  try {
    await provider.request({ method: "evm_increaseTime", params: [seconds] });
    await provider.request({ method: "evm_mine", params: [] });
    return await check();
  } finally {
    await provider.request({ method: "evm_revert", params: [snapshot] });
  }
}

/** The fewest whole seconds after which `check` passes (it passes for good once the TWAP has caught up), or -1. */
async function secondsUntil(
  hre: HardhatRuntimeEnvironment,
  limit: number,
  check: () => Promise<boolean>,
): Promise<number> {
  if (await probe(hre, 0, check)) return 0;
  if (!(await probe(hre, limit, check))) return -1;
  let [lo, hi] = [0, limit];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await probe(hre, mid, check)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** True when the guard's call passes, false on its TWAP-deviation error; any other error (a stale feed) is thrown. */
async function passes(label: string, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (e) {
    const data = revertData(e);
    if (data !== undefined && decodeRevert(data)?.name === "PriceGuardTwapDeviation") return false;
    throw explain(label, e);
  }
}

/** Seconds until the guard accepts a deleverage and a leverage of each pair whose reference pool holds the asset. */
async function guardChecks(
  hre: HardhatRuntimeEnvironment,
  ctx: TaskContext,
  world: World,
  asset: AssetSymbol,
): Promise<GuardCheck[]> {
  const guard = ctx.priceGuard;
  const limit = Number(await guard.twapWindow()) * MAX_WAIT_WINDOWS;
  const checks: GuardCheck[] = [];
  const seen = new Set<string>();
  for (const key of world.poolKeys()) {
    const info = world.pool(key);
    if (info.base !== asset && info.quote !== asset) continue;
    const [base, quote] = [ctx.book.contracts.tokens[info.base], ctx.book.contracts.tokens[info.quote]];
    const pair = `${info.base}/${info.quote}`;
    if (seen.has(pair) || (await guard.referencePool(base, quote)) === ZeroAddress) continue;
    seen.add(pair);
    checks.push({
      pair,
      deleverage: await secondsUntil(hre, limit, () =>
        passes(`${pair} deleverage check`, () => guard.deleveragePrices(base, quote)),
      ),
      leverage: await secondsUntil(hre, limit, () =>
        passes(`${pair} leverage check`, () => guard.checkedPrices(base, quote)),
      ),
    });
  }
  return checks;
}

function verdict(seconds: number): string {
  if (seconds === 0) return "accepted now";
  if (seconds < 0) return "refused for longer than the TWAP can catch up: move the price in smaller steps";
  return `accepted after ${seconds} s`;
}

/** `market:price`: see the file's comment. */
export async function marketPrice(hre: HardhatRuntimeEnvironment, args: PriceArgs): Promise<PriceResult> {
  const network = hre.network.name;
  if (!LOCAL_NETWORKS.includes(network)) {
    throw new TaskError(
      `market:price moves the local market's mock price feed; it runs on hardhat or localhost only, not on ` +
        `"${network}". Start \`npx hardhat node\` and pass --network localhost`,
    );
  }
  const asset = parseAsset(args.asset);
  const newPrice = parsePrice(args.price);
  const ctx = await loadContext(hre, args.deployments);
  const world = await worldOf(hre, ctx, asset);
  const oldPrice = await world.oraclePrice(asset);
  try {
    await world.setPrice(asset, newPrice);
  } catch (e) {
    if (e instanceof WorldArbitrageError) throw new TaskError(e.message.replace(/^World: /, ""));
    throw e;
  }
  // The other feeds too: on a node left running their rounds pass the heartbeat and the guard refuses every price.
  await world.refreshOracles();
  log(`${asset} oracle price: ${usd8(oldPrice)} → ${usd8(newPrice)} USD (all feeds re-posted)`);
  const pools: PriceResult["pools"] = [];
  for (const key of world.poolKeys()) {
    const info = world.pool(key);
    if (info.base !== asset && info.quote !== asset) continue;
    const price = await world.poolPrice(key);
    pools.push({ key, price });
    log(`  pool ${key}: ${info.base} at ${usd8(price)} USD after arbitrage`);
  }
  let guard = await guardChecks(hre, ctx, world, asset);
  let waited = 0;
  if (!args.noWait) {
    waited = Math.max(0, ...guard.flatMap((g) => [g.deleverage, g.leverage]));
    if (waited > 0) {
      // The chain's clock, not the wall clock: the TWAP catches up, then the feeds are re-posted at the new time.
      await world.advance(waited);
      await world.refreshOracles();
      log(`  waited ${waited} s on chain (the TWAP window is ${await ctx.priceGuard.twapWindow()} s), feeds re-posted`);
      guard = await guardChecks(hre, ctx, world, asset);
    }
  }
  for (const g of guard) {
    log(`  price guard ${g.pair}: deleverage ${verdict(g.deleverage)}, leverage ${verdict(g.leverage)}`);
  }
  if (args.noWait && guard.some((g) => g.deleverage > 0 || g.leverage > 0)) {
    log("  (--no-wait: the clock was left alone; on a node real time also moves it)");
  }
  return { asset, oldPrice, newPrice, pools, waited, guard };
}
