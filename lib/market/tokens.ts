import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { AddressLike } from "ethers";

import {
  IERC20Detailed__factory,
  MockAggregatorV3__factory,
  WETH9__factory,
  type IERC20Detailed,
  type MockAggregatorV3,
  type WETH9,
} from "../../typechain-types";
// Aave's published build, by path: a test contract that inherits MintableERC20 makes Hardhat compile it too, and the
// top-level typechain export would then name that recompiled copy.
import { MintableERC20__factory } from "../../typechain-types/factories/cache/npm-artifacts/MintableERC20__factory";
import type { MintableERC20 } from "../../typechain-types/cache/npm-artifacts/MintableERC20";
import { mined } from "./aave";
import { ASSET_SYMBOLS, ASSETS, ORACLE_DECIMALS, type AssetSymbol } from "./config";

export interface MarketTokens {
  /** Canonical WETH9, used by Aave as a reserve and by Uniswap's periphery as WETH. */
  weth: WETH9;
  /** Aave's MintableERC20 test tokens with the real decimals. */
  mintable: Record<Exclude<AssetSymbol, "WETH">, MintableERC20>;
  /** Every asset behind one ERC-20 interface. */
  erc20: Record<AssetSymbol, IERC20Detailed>;
}

export async function deployTokens(admin: HardhatEthersSigner): Promise<MarketTokens> {
  const weth = await new WETH9__factory(admin).deploy();
  const wbtc = await new MintableERC20__factory(admin).deploy(ASSETS.WBTC.name, "WBTC", ASSETS.WBTC.decimals);
  const usdc = await new MintableERC20__factory(admin).deploy(ASSETS.USDC.name, "USDC", ASSETS.USDC.decimals);
  const mintable = { WBTC: wbtc, USDC: usdc };
  const erc20 = {} as Record<AssetSymbol, IERC20Detailed>;
  for (const [symbol, token] of [
    ["WETH", weth],
    ["WBTC", wbtc],
    ["USDC", usdc],
  ] as const) {
    erc20[symbol] = IERC20Detailed__factory.connect(await token.getAddress(), admin);
  }
  return { weth, mintable, erc20 };
}

/** One Chainlink-style USD feed per asset, at the configured initial price. */
export async function deployFeeds(admin: HardhatEthersSigner): Promise<Record<AssetSymbol, MockAggregatorV3>> {
  const feeds = {} as Record<AssetSymbol, MockAggregatorV3>;
  for (const symbol of ASSET_SYMBOLS) {
    const label = symbol === "WETH" ? "ETH" : symbol === "WBTC" ? "BTC" : symbol;
    feeds[symbol] = await new MockAggregatorV3__factory(admin).deploy(
      ORACLE_DECIMALS,
      `${label} / USD`,
      ASSETS[symbol].initialPrice,
    );
  }
  return feeds;
}

/** Gives `to` an amount of a market asset: WETH is wrapped from the admin's ETH, the rest is minted. */
export async function fund(
  tokens: MarketTokens,
  admin: HardhatEthersSigner,
  symbol: AssetSymbol,
  to: AddressLike,
  amount: bigint,
): Promise<void> {
  if (symbol === "WETH") {
    await mined(tokens.weth.connect(admin).deposit({ value: amount }));
    await mined(tokens.weth.connect(admin).transfer(to, amount));
  } else {
    await mined(tokens.mintable[symbol].connect(admin)["mint(address,uint256)"](to, amount));
  }
}
