import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { LOCAL_NETWORKS } from "../local/deploy";
import { TaskError } from "../shared/errors";
import { qualifiedName, recordsOf } from "./records";

export interface VerifyArgs {
  only?: string;
  dryRun: boolean;
}

export interface VerifyTarget {
  name: string;
  address: string;
  contract: string;
  constructorArguments: unknown[];
  /** Linked libraries: the factory's are in its creation code only, where hardhat-verify cannot detect them. */
  libraries?: Record<string, string>;
}

export interface VerifyResult {
  targets: VerifyTarget[];
  verified: string[];
  failed: { name: string; reason: string }[];
}

/** What `deployments:verify` would verify: records compiled here (not the local market), or the `--only` one. */
export async function verifyTargets(hre: HardhatRuntimeEnvironment, only?: string): Promise<VerifyTarget[]> {
  const records = await recordsOf(hre);
  const targets: VerifyTarget[] = [];
  for (const [name, record] of Object.entries(records)) {
    const contract = await qualifiedName(hre, name);
    if (contract !== undefined)
      targets.push({
        name,
        address: record.address,
        contract,
        constructorArguments: record.args ?? [],
        ...(record.libraries === undefined ? {} : { libraries: record.libraries }),
      });
  }
  if (only === undefined) return targets;
  const target = targets.find((t) => t.name === only);
  if (target === undefined) {
    throw new TaskError(
      `--only ${only}: no such Ballast record on ${hre.network.name}; recorded: ${targets.map((t) => t.name).join(", ")}`,
    );
  }
  return [target];
}

/** `deployments:verify`: hardhat-verify's `verify:verify` for each target; an already verified one counts as done. */
export async function verifyDeployments(hre: HardhatRuntimeEnvironment, args: VerifyArgs): Promise<VerifyResult> {
  const network = hre.network.name;
  if (!args.dryRun && LOCAL_NETWORKS.includes(network)) {
    throw new TaskError(`${network} is a local chain with no block explorer: nothing to verify (--dry-run lists it)`);
  }
  const targets = await verifyTargets(hre, args.only);
  const result: VerifyResult = { targets, verified: [], failed: [] };
  if (args.dryRun) {
    for (const t of targets) {
      console.log(
        `would verify ${t.name} at ${t.address} as ${t.contract} with ${JSON.stringify(t.constructorArguments)}`,
      );
    }
    return result;
  }
  if (!process.env.ETHERSCAN_API_KEY) {
    throw new TaskError("ETHERSCAN_API_KEY is not set: export it (an Etherscan API key) and run again");
  }
  for (const t of targets) {
    try {
      await hre.run("verify:verify", {
        address: t.address,
        contract: t.contract,
        constructorArguments: t.constructorArguments,
        libraries: t.libraries ?? {},
      });
      result.verified.push(t.name);
    } catch (e) {
      const reason = (e as Error).message;
      if (/already verified/i.test(reason)) result.verified.push(t.name);
      else result.failed.push({ name: t.name, reason });
    }
  }
  console.log(`verified ${result.verified.length} of ${targets.length}`);
  if (result.failed.length > 0) {
    throw new TaskError(
      `not verified: ${result.failed.map((f) => `${f.name} (${f.reason.split("\n")[0]})`).join("; ")}. ` +
        `Run again with --only <name> once fixed`,
    );
  }
  return result;
}
