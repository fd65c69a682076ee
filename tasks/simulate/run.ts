/**
 * `keeper:simulate`: checks the flags, runs the engine with a progress bar, prints the summary and the timings, and
 * writes the JSON result and the SVG chart when asked.
 */
import fs from "node:fs";

import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { createProgress, renderHealthChart, SimulationError, type Progress } from "../../lib/simulation";
import { runSimulation, type SimulationOutcome } from "../../lib/simulation/engine";
import { TaskError } from "../shared/errors";
import { decodeReason, describeFailure } from "../keeper/tx";
import type { SimulateArgs } from "./args";
import { planSimulation } from "./options";
import { settingLines, summaryLines, timingLines } from "./report";

/** The JSON file: the result alone, so that two runs with the same flags write the same bytes. */
export function resultJson(outcome: SimulationOutcome): string {
  return `${JSON.stringify(outcome.result, null, 2)}\n`;
}

export async function simulateTask(args: SimulateArgs, hre: HardhatRuntimeEnvironment): Promise<SimulationOutcome> {
  const plan = planSimulation(args);
  console.log("Deploying the local market and Ballast, funding the owners…");
  let progress: Progress | undefined;
  let outcome: SimulationOutcome;
  try {
    outcome = await runSimulation(
      hre,
      {
        ...plan.options,
        // The keeper bot's decoders name reverts from every Ballast ABI.
        decoder: { data: (d) => decodeReason(d).error, error: (e) => describeFailure(e).error },
      },
      {
        onReady: (setup) => {
          for (const line of settingLines(plan.options, setup)) console.log(line);
          progress = createProgress({ label: `replaying ${plan.options.path.name}`, total: setup.totalSteps });
        },
        onStep: () => progress?.increment(),
      },
    );
  } catch (e) {
    if (e instanceof SimulationError) throw new TaskError(e.message, e);
    throw e;
  } finally {
    progress?.stop();
  }
  console.log("");
  for (const line of summaryLines(outcome.result)) console.log(line);
  console.log("");
  for (const line of timingLines(outcome.timings)) console.log(line);
  if (plan.json !== undefined) {
    fs.writeFileSync(plan.json, resultJson(outcome));
    console.log(`Wrote ${plan.json}`);
  }
  if (plan.chart !== undefined) {
    const svg = await renderHealthChart(outcome.series, {
      title: `${outcome.result.scenario.name}: worst vault HF per policy`,
    });
    fs.writeFileSync(plan.chart, svg);
    console.log(`Wrote ${plan.chart}`);
  }
  return outcome;
}
