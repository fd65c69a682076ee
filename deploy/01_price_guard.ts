import type { DeployFunction } from "hardhat-deploy/types";

import { checkGovernance, NAMES, networkConfig, resolveExternal, TAGS } from "../lib/deploy";

/**
 * The price guard. Recorded once: its TWAP parameters and heartbeats are settable, so script 05 brings a changed
 * configuration to it instead of replacing a contract the factory points to.
 */
const func: DeployFunction = async (hre) => {
  const { deployer, governance } = await hre.getNamedAccounts();
  checkGovernance(hre.network, deployer, governance);
  const { params } = networkConfig(hre);
  const external = await resolveExternal(hre);
  await hre.deployments.deploy(NAMES.priceGuard, {
    from: deployer,
    args: [external.oracle, external.uniswapFactory, governance, params.twapWindow, params.maxTwapDeviationBps],
    skipIfAlreadyDeployed: true,
    log: true,
  });
};
func.tags = [TAGS.priceGuard, TAGS.all];
func.dependencies = [TAGS.localMarket];
export default func;
