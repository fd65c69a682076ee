/** `keeper:merge`: the JSON slices of `keeper:simulate --shard i/n` combined into the result of one run. */
import fs from "node:fs";

import { SimulationError } from "../../lib/simulation";
import { finalize, SHARD_FORMAT, type ShardResult } from "../../lib/simulation/montecarlo";
import type { SimulationResult } from "../../lib/simulation/result";
import { TaskError } from "../shared/errors";
import { monteCarloLines, summaryLines } from "./report";
import { resultJson } from "./run";

function readShard(file: string): ShardResult {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new TaskError(`${file}: cannot read it`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TaskError(`${file}: not JSON`);
  }
  if (typeof json !== "object" || json === null || (json as { format?: unknown }).format !== SHARD_FORMAT) {
    throw new TaskError(`${file}: not a keeper:simulate --shard slice (no "format": "${SHARD_FORMAT}")`);
  }
  return json as ShardResult;
}

export async function mergeTask(args: { out: string; shards: string[] }): Promise<SimulationResult> {
  if (!args.out.toLowerCase().endsWith(".json")) throw new TaskError(`--out ${args.out}: expected a .json file`);
  if (args.shards.length === 0) throw new TaskError("Pass the slices' JSON files to merge");
  const shards = args.shards.map(readShard);
  let result: SimulationResult;
  try {
    result = finalize(shards);
  } catch (e) {
    if (e instanceof SimulationError) throw new TaskError(e.message, e);
    throw e;
  }
  for (const line of summaryLines(result)) console.log(line);
  for (const line of monteCarloLines(result)) console.log(line);
  fs.writeFileSync(args.out, resultJson(result));
  console.log(`Merged ${shards.length} slices of ${result.montecarlo.paths} paths into ${args.out}`);
  return result;
}
