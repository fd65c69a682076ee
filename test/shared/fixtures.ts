import hre from "hardhat";

import { deployMarket, type Market } from "../../lib/market";

/** The full local market on real Aave V3 and Uniswap V3 bytecode; reuse it through `loadFixture`. */
export async function marketFixture(): Promise<Market> {
  return deployMarket(hre);
}
