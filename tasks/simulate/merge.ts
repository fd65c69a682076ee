/**
 * `keeper:merge`: the JSON slices of `keeper:simulate --shard i/n` combined into the result of one run (and, with
 * `--events`, their events CSVs into one, in path order), or the slices of `keeper:frontier --shard i/n` into the
 * frontier.
 */
import fs from "node:fs";
import path from "node:path";

import { concatEventFiles } from "../../lib/simulation/events";
import {
  FRONTIER_SHARD_FORMAT,
  mergeFrontier,
  type FrontierResult,
  type FrontierShard,
} from "../../lib/simulation/frontier";
import { finalize, SHARD_FORMAT, type ShardResult } from "../../lib/simulation/montecarlo";
import type { SimulationResult } from "../../lib/simulation/result";
import { rethrowing, TaskError } from "../shared/errors";
import { frontierJson, frontierLines } from "./frontier";
import { monteCarloLines, summaryLines } from "./report";
import { resultJson } from "./run";

function read(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    throw new TaskError(`${file}: cannot read it`);
  }
}

function readShard(file: string): ShardResult | FrontierShard {
  let json: unknown;
  try {
    json = JSON.parse(read(file));
  } catch (e) {
    if (e instanceof TaskError) throw e;
    throw new TaskError(`${file}: not JSON`);
  }
  const format = typeof json === "object" && json !== null ? (json as { format?: unknown }).format : undefined;
  if (format !== SHARD_FORMAT && format !== FRONTIER_SHARD_FORMAT) {
    throw new TaskError(`${file}: not a keeper:simulate --shard slice (no "format": "${SHARD_FORMAT}")`);
  }
  return json as ShardResult | FrontierShard;
}

/** The first path named in an events CSV (its second column), to put the slices in path order. */
function firstPath(csv: string): number {
  const row = csv.split("\n")[1];
  return row === undefined || row === "" ? Infinity : Number(row.split(",")[1]);
}

export async function mergeTask(args: {
  out: string;
  events?: string;
  shards: string[];
}): Promise<SimulationResult | FrontierResult> {
  if (!args.out.toLowerCase().endsWith(".json")) throw new TaskError(`--out ${args.out}: expected a .json file`);
  if (args.events !== undefined && path.extname(args.events).toLowerCase() !== ".csv") {
    throw new TaskError(`--events ${args.events}: expected a .csv file`);
  }
  const csvFiles = args.shards.filter((f) => path.extname(f).toLowerCase() === ".csv");
  const jsonFiles = args.shards.filter((f) => path.extname(f).toLowerCase() !== ".csv");
  if (jsonFiles.length === 0) throw new TaskError("Pass the slices' JSON files to merge");
  if (csvFiles.length > 0 && args.events === undefined) {
    throw new TaskError(`${csvFiles[0]}: an events CSV; pass --events <merged.csv> to merge the events too`);
  }
  if (args.events !== undefined && csvFiles.length !== jsonFiles.length) {
    throw new TaskError(
      `--events: ${csvFiles.length} events CSVs for ${jsonFiles.length} slices; pass each slice's --events file`,
    );
  }
  const shards = jsonFiles.map(readShard);
  if (shards.every((s) => s.format === FRONTIER_SHARD_FORMAT)) {
    if (args.events !== undefined) throw new TaskError("--events: keeper:frontier slices have no events");
    const frontier = rethrowing(() => mergeFrontier(shards as FrontierShard[]));
    for (const line of frontierLines(frontier)) console.log(line);
    fs.writeFileSync(args.out, frontierJson(frontier));
    console.log(`Merged ${shards.length} frontier slices of ${frontier.paths} paths into ${args.out}`);
    return frontier;
  }
  if (shards.some((s) => s.format === FRONTIER_SHARD_FORMAT)) {
    throw new TaskError("Merge keeper:simulate slices and keeper:frontier slices separately");
  }
  const result = rethrowing(() => finalize(shards as ShardResult[]));
  for (const line of summaryLines(result)) console.log(line);
  for (const line of monteCarloLines(result)) console.log(line);
  fs.writeFileSync(args.out, resultJson(result));
  console.log(`Merged ${shards.length} slices of ${result.montecarlo.paths} paths into ${args.out}`);
  if (args.events !== undefined) {
    // Each slice holds a contiguous range of paths: in order of their first path, the rows are in path order.
    const texts = csvFiles.map(read).sort((a, b) => firstPath(a) - firstPath(b));
    fs.writeFileSync(args.events, concatEventFiles(texts));
    console.log(`Merged ${csvFiles.length} events files into ${args.events}`);
  }
  return result;
}
