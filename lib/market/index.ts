import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { deployAave, mined, type AaveMarket } from "./aave";
import { marketAccounts, type MarketAccounts } from "./accounts";
import { ASSET_SYMBOLS, ASSETS, poolSet, TWAP_WINDOW, type AssetSymbol, type MarketLiquidity } from "./config";
import { deployFeeds, deployTokens, fund, type MarketTokens } from "./tokens";
import { deployUniswap, type UniswapMarket } from "./uniswap";
import { World } from "./world";
import type { MockAggregatorV3 } from "../../typechain-types";

export * from "./config";
export { MARKET_ROLES, roleAddress, type MarketAccounts, type MarketRole } from "./accounts";
export type { AaveMarket } from "./aave";
export type { MarketTokens } from "./tokens";
export type { PoolInfo, UniswapMarket } from "./uniswap";
export { World, WorldArbitrageError, type WorldTrade } from "./world";

export interface Market {
  accounts: MarketAccounts;
  tokens: MarketTokens;
  feeds: Record<AssetSymbol, MockAggregatorV3>;
  aave: AaveMarket;
  uniswap: UniswapMarket;
  world: World;
}

export interface MarketOptions {
  /** The Uniswap pools' liquidity: `local` (default, every test) or `mainnet` (calibrated; the simulation's option). */
  liquidity?: MarketLiquidity;
  /** The role accounts' namespace (`roleAddress`); the default is the one every test and task shares. */
  namespace?: string;
}

export type DeployStep = "accounts" | "tokens" | "aave" | "aave-liquidity" | "uniswap" | "twap-warmup";

/**
 * Deploys the whole local market: tokens, price feeds, Aave V3 with liquidity, Uniswap V3 with
 * liquidity, and a world helper. Ends one TWAP window later, so a 30-minute TWAP is readable.
 */
export async function deployMarket(
  hre: HardhatRuntimeEnvironment,
  onStep: (step: DeployStep) => void = () => {},
  options: MarketOptions = {},
): Promise<Market> {
  onStep("accounts");
  const accounts = await marketAccounts(hre, options.namespace);
  const { admin, lp } = accounts;

  onStep("tokens");
  const tokens = await deployTokens(admin);
  const feeds = await deployFeeds(admin);

  onStep("aave");
  const assets = {} as Record<AssetSymbol, string>;
  const sources = {} as Record<AssetSymbol, string>;
  for (const symbol of ASSET_SYMBOLS) {
    assets[symbol] = await tokens.erc20[symbol].getAddress();
    sources[symbol] = await feeds[symbol].getAddress();
  }
  const aave = await deployAave(admin, accounts.treasury.address, assets, sources);

  onStep("aave-liquidity");
  for (const symbol of ASSET_SYMBOLS) {
    const amount = ASSETS[symbol].aaveLiquidity * 10n ** BigInt(ASSETS[symbol].decimals);
    await fund(tokens, admin, symbol, lp, amount);
    await mined(tokens.erc20[symbol].connect(lp).approve(aave.pool, amount));
    await mined(aave.pool.connect(lp).supply(assets[symbol], amount, lp.address, 0));
  }

  onStep("uniswap");
  const uniswap = await deployUniswap(admin, lp, tokens, poolSet(options.liquidity ?? "local"));

  onStep("twap-warmup");
  const world = new World(hre, admin, accounts.arbitrageur, tokens, feeds, uniswap);
  await world.init();
  await world.advance(TWAP_WINDOW);
  await world.refreshOracles();

  return { accounts, tokens, feeds, aave, uniswap, world };
}
