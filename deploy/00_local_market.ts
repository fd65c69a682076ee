import type { DeployFunction } from "hardhat-deploy/types";

import { ASSETS, MARKET, networkConfig, TAGS, tokenName } from "../lib/deploy";
import { deployMarket } from "../lib/market";

/** hardhat and localhost: the local Aave V3 + Uniswap V3 market (lib/market), recorded so later scripts find it. */
const func: DeployFunction = async (hre) => {
  const { deployments, ethers } = hre;
  const recorded = await deployments.getOrNull(MARKET.addressesProvider);
  // getOrNull returns undefined, not null, when nothing is recorded.
  if (recorded && (await ethers.provider.getCode(recorded.address)) !== "0x") {
    deployments.log(`reusing the local market at ${recorded.address}`);
    return;
  }
  const market = await deployMarket(hre, (step) => deployments.log(`local market: ${step}`));
  const record = async (
    name: string,
    contract: { getAddress(): Promise<string>; interface: { formatJson(): string } },
  ) =>
    deployments.save(name, { address: await contract.getAddress(), abi: JSON.parse(contract.interface.formatJson()) });
  await record(MARKET.addressesProvider, market.aave.addressesProvider);
  await record(MARKET.pool, market.aave.pool);
  await record(MARKET.oracle, market.aave.oracle);
  await record(MARKET.uniswapFactory, market.uniswap.factory);
  await record(MARKET.router, market.uniswap.router);
  await record(MARKET.quoter, market.uniswap.quoter);
  for (const symbol of ASSETS) await record(tokenName(symbol), market.tokens.erc20[symbol]);
};
func.tags = [TAGS.localMarket, TAGS.all];
func.skip = async (hre) => !networkConfig(hre).localMarket;
export default func;
