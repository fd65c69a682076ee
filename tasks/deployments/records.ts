import type { Deployment } from "hardhat-deploy/types";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { adviceNetwork } from "../../lib/deployments";
import { TaskError } from "../shared/errors";

/** The records of this network, or a TaskError saying how to make them. */
export async function recordsOf(hre: HardhatRuntimeEnvironment): Promise<Record<string, Deployment>> {
  const records = await hre.deployments.all();
  if (Object.keys(records).length === 0) {
    const network = hre.network.name;
    throw new TaskError(
      `Nothing is recorded on ${network}: run \`npx hardhat deploy --network ${adviceNetwork(network)}\` first` +
        (network === "hardhat"
          ? " (the in-process network forgets when a command ends: use a node and localhost)"
          : ""),
    );
  }
  return records;
}

/**
 * `contracts/…/File.sol:Contract` of a record whose name is one of Ballast's contracts (the deploy scripts record each
 * under its contract name); undefined for the local market's and anything not compiled from `contracts/`.
 */
export async function qualifiedName(hre: HardhatRuntimeEnvironment, name: string): Promise<string | undefined> {
  if (!(await hre.artifacts.artifactExists(name))) return undefined;
  const { sourceName, contractName } = await hre.artifacts.readArtifact(name);
  const ours = sourceName.startsWith("contracts/") && !sourceName.startsWith("contracts/test/");
  return ours ? `${sourceName}:${contractName}` : undefined;
}
