import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ZeroHash } from "ethers";
import hre from "hardhat";

import { writeDeployment } from "../../lib/deployments";
import { DEFAULT_POLICY, singleHopPath } from "../../lib/protocol";
import { BallastVault__factory, type BallastVault } from "../../typechain-types";
import { buildDeployment } from "../../tasks/local/deploy";
import type { KeeperArgs } from "../../tasks/keeper/run";
import { protocolFixture, type ProtocolFixture } from "../shared/fixtures";
import { DEPOSIT, TARGET_HF } from "../shared/vault";

/** A per-process temporary folder for address books and signed intents. */
export const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-tasks-"));

// A root-level hook (this module loads once): the folder goes when the run ends.
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

export function tmpFile(name: string): string {
  return path.join(TMP, name);
}

/** Signer indices the tasks are given: 0 governance, 1 guardian (the tasks' default relayer), 2 alice, 3 relayer. */
export const ALICE = 2;
export const RELAYER = 3;

export interface TasksFixture extends ProtocolFixture {
  /** The address book of this deployment, written to a temporary file. */
  book: string;
  alice: HardhatEthersSigner;
  relayer: HardhatEthersSigner;
}

let books = 0;

/** The protocol and its address book in a temporary file: what every task reads through `deployments`. */
export async function tasksFixture(): Promise<TasksFixture> {
  const f = await protocolFixture();
  const signers = await hre.ethers.getSigners();
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const book = writeDeployment(await buildDeployment(hre.network.name, chainId, f, f), tmpFile(`book-${++books}.json`));
  return { ...f, book, alice: signers[ALICE], relayer: signers[RELAYER] };
}

export interface OpenedFixture extends TasksFixture {
  vault: BallastVault;
}

/** Alice's WETH/USDC vault (salt 0, DEFAULT_POLICY) opened with 10 WETH at HF 1.5, set up without the tasks. */
export async function openedFixture(): Promise<OpenedFixture> {
  const f = await tasksFixture();
  await (
    await f.factory.connect(f.alice).createVault(f.tokens.erc20.WETH, f.tokens.erc20.USDC, DEFAULT_POLICY, ZeroHash)
  ).wait();
  const vault = BallastVault__factory.connect(await f.factory.predictVault(f.alice.address, ZeroHash), f.alice);
  await f.world.fund("WETH", f.alice.address, DEPOSIT);
  await (await f.tokens.erc20.WETH.connect(f.alice).approve(vault, DEPOSIT)).wait();
  await (await vault.open(DEPOSIT, TARGET_HF, await singleHopPath(f, "USDC", "WETH", 500))).wait();
  return { ...f, vault };
}

export interface TaskRun<T> {
  result: T;
  output: string;
}

type Writer = typeof process.stdout.write;

/**
 * Runs a task in-process and returns its result and everything it printed (console and stdout), which is kept off
 * the test report. Set TASKS_VERBOSE=1 to see it.
 */
export async function runTask<T = unknown>(name: string, args: Record<string, unknown>): Promise<TaskRun<T>> {
  const lines: string[] = [];
  const saved = { log: console.log, error: console.error, table: console.table, write: process.stdout.write };
  const capture = (...parts: unknown[]) => {
    lines.push(parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" "));
  };
  const verbose = process.env.TASKS_VERBOSE === "1";
  console.log = capture;
  console.error = capture;
  console.table = capture;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  }) as Writer;
  try {
    const result = (await hre.run(name, args)) as T;
    return { result, output: lines.join("\n") };
  } finally {
    console.log = saved.log;
    console.error = saved.error;
    console.table = saved.table;
    process.stdout.write = saved.write;
    if (verbose) for (const line of lines) console.log(`    | ${line}`);
  }
}

/** Expects a task to fail with a message matching `pattern`; returns the message. */
export async function expectTaskError(name: string, args: Record<string, unknown>, pattern: RegExp): Promise<string> {
  let message: string | undefined;
  try {
    await runTask(name, args);
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
  }
  expect(message, `${name} should fail`).to.not.equal(undefined);
  expect(message).to.match(pattern);
  return message as string;
}

/** `value` within `tolerance` of `expected`. */
export function expectNear(value: bigint, expected: bigint, tolerance: bigint, what: string): void {
  const diff = value > expected ? value - expected : expected - value;
  expect(diff <= tolerance, `${what}: ${value} not within ${tolerance} of ${expected}`).to.equal(true);
}

/** `keeper:run --once` arguments with JSON logs and no profit floor, as the keeper specs and the lifecycle pass them. */
export function keeperOnceArgs(
  deployments: string,
  account: number,
  fromBlock: number,
  extra: Partial<KeeperArgs> = {},
): KeeperArgs {
  return {
    account,
    deployments,
    fromBlock,
    blockRange: 5_000,
    pageSize: 100,
    interval: 15,
    once: true,
    minProfit: "0",
    batchSize: 5,
    noCancel: false,
    logFormat: "json",
    logDebug: false,
    ...extra,
  };
}
