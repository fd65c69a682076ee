import hre from "hardhat";

import { deployMarket, type Market } from "../../lib/market";
import { deployProtocol, type Protocol } from "../../lib/protocol";

/** The full local market on real Aave V3 and Uniswap V3 bytecode; reuse it through `loadFixture`. */
export async function marketFixture(): Promise<Market> {
  return deployMarket(hre);
}

export interface ProtocolFixture extends Market, Protocol {}

/** The market plus Ballast's price guard, executor and factory, with WETH/USDC and WBTC/USDC allowed. */
export async function protocolFixture(): Promise<ProtocolFixture> {
  const market = await marketFixture();
  const [governance, guardian] = await hre.ethers.getSigners();
  const protocol = await deployProtocol(market, governance, guardian);
  return { ...market, ...protocol };
}
