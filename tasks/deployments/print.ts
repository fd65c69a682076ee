import fs from "node:fs";

import type { Deployment } from "hardhat-deploy/types";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { recordsNetwork } from "../../lib/deploy";
import {
  addressBookPath,
  adviceNetwork,
  DeploymentError,
  readDeployment,
  type BallastDeployment,
} from "../../lib/deployments";
import { TaskError } from "../shared/errors";
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

/** One contract of the address book: the deployment every task uses. */
export interface PrintedBookEntry {
  name: string;
  address: string;
  code: boolean;
  /** False when no hardhat-deploy record has this address (local:deploy made it, or the records are gone). */
  recorded: boolean;
}

export interface PrintedBook {
  file: string;
  entries: PrintedBookEntry[];
}

export interface PrintResult {
  /** The address book the tasks read (`addressBookPath`, as loadContext), if there is one. */
  book?: PrintedBook;
  records: PrintedDeployment[];
}

async function hasCode(hre: HardhatRuntimeEnvironment, address: string): Promise<boolean> {
  return (await hre.ethers.provider.getCode(address)) !== "0x";
}

/** The book the tasks use on this network, with each contract's code and whether a record names it. */
async function printedBook(
  hre: HardhatRuntimeEnvironment,
  records: Record<string, Deployment>,
): Promise<PrintedBook | undefined> {
  const file = addressBookPath(recordsNetwork(hre), hre.config.paths.root);
  if (!fs.existsSync(file)) return undefined;
  let book: BallastDeployment;
  try {
    book = readDeployment(recordsNetwork(hre), file);
  } catch (e) {
    if (e instanceof DeploymentError) throw new TaskError(e.message);
    throw e;
  }
  const known = new Set(Object.values(records).map((r) => r.address.toLowerCase()));
  const { tokens, ...contracts } = book.contracts;
  const named: [string, string][] = [
    ...Object.entries(contracts).filter((e): e is [string, string] => e[1] !== undefined),
    ...Object.entries(tokens).map(([symbol, address]): [string, string] => [`token ${symbol}`, address]),
  ];
  const entries: PrintedBookEntry[] = [];
  for (const [name, address] of named) {
    entries.push({ name, address, code: await hasCode(hre, address), recorded: known.has(address.toLowerCase()) });
  }
  return { file, entries };
}

/**
 * `deployments:print`: the address book the tasks use, then one row per hardhat-deploy record, with whether each
 * address has code. With no records it still shows the book (a `local:deploy` on a node started with --no-deploy).
 */
export async function printDeployments(hre: HardhatRuntimeEnvironment, args: PrintArgs): Promise<PrintResult> {
  const all = await hre.deployments.all();
  const book = await printedBook(hre, all);
  // Nothing at all to show: the error says how to deploy.
  const records = book === undefined ? await recordsOf(hre) : all;
  const rows: PrintedDeployment[] = [];
  for (const [name, record] of Object.entries(records)) {
    rows.push({
      name,
      address: record.address,
      contract: await qualifiedName(hre, name),
      args: record.args ?? [],
      code: await hasCode(hre, record.address),
    });
  }
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const result: PrintResult = { ...(book === undefined ? {} : { book }), records: rows };
  if (args.json) {
    console.log(JSON.stringify({ network: hre.network.name, chainId: Number(chainId), ...result }, null, 2));
    return result;
  }
  if (book === undefined) {
    console.log(`No address book for ${hre.network.name}: the tasks have nothing to use (run the deploy scripts)`);
  } else {
    console.log(`Address book the tasks use: ${book.file}`);
    console.table(
      Object.fromEntries(
        book.entries.map((e) => [e.name, { address: e.address, code: e.code ? "yes" : "NO", recorded: e.recorded }]),
      ),
    );
    if (book.entries.some((e) => !e.code)) {
      console.log("The book names addresses with no code (a restarted node?): deploy again, then run the tasks");
    }
  }
  console.log(`${rows.length} contracts recorded on ${hre.network.name} (chain ${chainId}) by the deploy scripts`);
  if (rows.length > 0) {
    console.table(
      Object.fromEntries(
        rows.map((r) => [
          r.name,
          { address: r.address, "constructor args": r.args.length, code: r.code ? "yes" : "NO" },
        ]),
      ),
    );
  }
  const stale = rows.filter((r) => !r.code);
  if (stale.length > 0) {
    console.log(
      `${stale.length} records have no code on chain (a restarted node?): run ` +
        `\`npx hardhat deploy --network ${adviceNetwork(hre.network.name)} --reset\``,
    );
  }
  if (book !== undefined && rows.length > 0 && book.entries.some((e) => e.name === "factory" && !e.recorded)) {
    console.log("The book's factory is not the one the deploy scripts recorded: the tasks use the book's");
  }
  return result;
}
