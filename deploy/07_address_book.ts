import type { DeployFunction } from "hardhat-deploy/types";

import { addressBookFile, ASSETS, NAMES, resolveExternal, TAGS } from "../lib/deploy";
import { writeDeployment, type BallastDeployment } from "../lib/deployments";

/**
 * Writes the address book the tasks read (`deployments/<network>.json`, see lib/deployments), so that vault:*,
 * intent:* and keeper:run work on the deployed network as they do after local:deploy.
 */
const func: DeployFunction = async (hre) => {
  const { deployments } = hre;
  const external = await resolveExternal(hre);
  const at = async (name: string) => (await deployments.get(name)).address;
  const book: BallastDeployment = {
    network: hre.network.name,
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
      tokens: Object.fromEntries(
        ASSETS.map((s) => [s, external.tokens[s]]),
      ) as BallastDeployment["contracts"]["tokens"],
    },
  };
  deployments.log(`address book: ${writeDeployment(book, addressBookFile(hre))}`);
};
func.tags = [TAGS.addressBook, TAGS.all];
func.dependencies = [TAGS.factory, TAGS.configure, TAGS.lens];
export default func;
