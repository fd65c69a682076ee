import type { DeployFunction } from "hardhat-deploy/types";

import { NAMES, resolveExternal, TAGS } from "../lib/deploy";

/** The stateless rebalance executor: Aave's PoolAddressesProvider and the Uniswap router, both immutable. */
const func: DeployFunction = async (hre) => {
  const { deployer } = await hre.getNamedAccounts();
  const external = await resolveExternal(hre);
  await hre.deployments.deploy(NAMES.executor, {
    from: deployer,
    args: [external.addressesProvider, external.router],
    log: true,
  });
};
func.tags = [TAGS.executor, TAGS.all];
func.dependencies = [TAGS.localMarket];
export default func;
