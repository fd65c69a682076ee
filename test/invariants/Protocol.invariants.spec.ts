import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";

import { fuzzParameters } from "../shared/fuzz";
import { ALL_KINDS, commandArbitrary, EXAMPLES, stats, type Step } from "./commands";
import { initialModel, invariantFixture } from "./model";

/** Commands per random sequence (uniformly 0 to this many): 100 sequences of up to 12 fit the CI budget. */
const MAX_COMMANDS = 12;

describe("Protocol invariants (model-based)", () => {
  let sequences = 0;
  let completed = false;

  it("holds every invariant after every step of random owner, keeper, attacker and market sequences", async function () {
    this.timeout(0);
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.commands([commandArbitrary], { maxCommands: MAX_COMMANDS, size: "max" }), async (cmds) => {
        sequences += 1;
        // loadFixture reverts to the fixture's snapshot: every sequence starts from the same three open vaults.
        await fc.asyncModelRun(
          async () => ({ model: initialModel(), real: await loadFixture(invariantFixture) }),
          cmds,
        );
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
