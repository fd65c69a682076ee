import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { qualifiedName, recordsOf } from "./records";

export interface PrintArgs {
  json: boolean;
}

export interface PrintedDeployment {
  name: string;
  address: string;
  /** `path:Contract` for Ballast's own contracts; undefined for the local market's. */
  contract?: string;
  args: unknown[];
  /** False when the chain has no code there: a record left from a node that was restarted. */
  code: boolean;
}

/** `deployments:print`: one row per record, with whether its address has code. */
export async function printDeployments(hre: HardhatRuntimeEnvironment, args: PrintArgs): Promise<PrintedDeployment[]> {
  const records = await recordsOf(hre);
  const rows: PrintedDeployment[] = [];
  for (const [name, record] of Object.entries(records)) {
    rows.push({
      name,
      address: record.address,
      contract: await qualifiedName(hre, name),
      args: record.args ?? [],
      code: (await hre.ethers.provider.getCode(record.address)) !== "0x",
    });
  }
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  if (args.json) {
    console.log(JSON.stringify({ network: hre.network.name, chainId: Number(chainId), deployments: rows }, null, 2));
    return rows;
  }
  console.log(`${rows.length} contracts recorded on ${hre.network.name} (chain ${chainId})`);
  console.table(
    Object.fromEntries(
      rows.map((r) => [r.name, { address: r.address, "constructor args": r.args.length, code: r.code ? "yes" : "NO" }]),
    ),
  );
  const stale = rows.filter((r) => !r.code);
  if (stale.length > 0) {
    console.log(
      `${stale.length} records have no code on chain (a restarted node?): run ` +
        `\`npx hardhat deploy --network ${hre.network.name} --reset\``,
    );
  }
  return rows;
}
