import { mine } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";

import { fuzzParameters } from "../shared/fuzz";
import { ALL_KINDS, commandArbitrary, EXAMPLES, stats, type Step } from "./commands";
import { startSequence } from "./model";

/** Commands per random sequence (uniformly 0 to this many): 100 sequences of up to 12 fit the CI budget. */
const MAX_COMMANDS = 12;

async function latestTime(): Promise<number> {
  const block = await hre.ethers.provider.getBlock("latest");
  if (block === null) throw new Error("no latest block");
  return block.timestamp;
}

describe("Protocol invariants (model-based)", () => {
  let sequences = 0;
  let completed = false;

  it("holds every invariant after every step of random owner, keeper, attacker and market sequences", async function () {
    this.timeout(0);
    const started = Date.now();
    const total = fuzzParameters(100).numRuns ?? 100;
    // A long `npm run fuzz` reports every tenth of the way, so a failure or a kill still leaves a record.
    const every = total > 100 ? Math.ceil(total / 10) : Infinity;
    await fc.assert(
      fc.asyncProperty(fc.commands([commandArbitrary], { maxCommands: MAX_COMMANDS, size: "max" }), async (cmds) => {
        sequences += 1;
        // Every sequence starts from the same three open vaults, at the same chain time.
        await fc.asyncModelRun(startSequence, cmds);
        if (sequences % every === 0) {
          const elapsed = (Date.now() - started) / 1000;
          const left = (elapsed / sequences) * (total - sequences);
          console.log(
            `      model-based: ${sequences}/${total} sequences, ${stats.commands} commands, ${elapsed.toFixed(0)} s (about ${(left / 60).toFixed(0)} min left)`,
          );
        }
      }),
      { ...fuzzParameters(100), examples: EXAMPLES.map((sequence): [Iterable<Step>] => [sequence]) },
    );
    completed = true;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const skipped = [...stats.skipped.values()].reduce((a, b) => a + b, 0);
    console.log(
      `      model-based: ${sequences} sequences, ${stats.commands} commands (${skipped} found nothing to do) in ${seconds} s`,
    );
  });

  it("starts every sequence at the fixture's chain time, however long the run has taken", async () => {
    await startSequence();
    const fixtureTime = await latestTime();
    await mine();
    expect(await latestTime()).to.equal(fixtureTime + 1);
    // Two seconds of wall-clock time pass before the next sequence here; an hour passes in `npm run fuzz`.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await startSequence();
    await mine();
    expect(await latestTime()).to.equal(fixtureTime + 1);
  });

  it("ran every command kind at least once", function () {
    // Counts only mean something after the property ran to the end (alone, or not failed).
    if (!completed) this.skip();
    const missing = ALL_KINDS.filter((kind) => (stats.ran.get(kind) ?? 0) === 0);
    const counts = [...stats.ran.entries()].map(
      ([k, n]) => `${k} ${n} (${stats.succeeded.get(k) ?? 0} ok / ${stats.reverted.get(k) ?? 0} reverted)`,
    );
    console.log(`      ran (calls that succeeded / reverted as predicted): ${counts.join(", ")}`);
    expect(missing, "command kinds that never ran").to.deep.equal([]);
  });
});
