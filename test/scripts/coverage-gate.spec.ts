import { expect } from "chai";

import path from "node:path";

import { evaluate, inScope, ROOT, type CoverageSummary } from "../../scripts/coverage-gate";

function file(lines: [number, number], branches: [number, number]) {
  return {
    lines: { total: lines[0], covered: lines[1] },
    branches: { total: branches[0], covered: branches[1] },
  };
}

describe("scripts/coverage-gate", function () {
  it("counts contracts/ and leaves out the mocks under contracts/test/ and the total", function () {
    expect(inScope("contracts/vault/BallastVault.sol")).to.equal(true);
    expect(inScope(path.join(ROOT, "contracts/libraries/RewardCurve.sol"))).to.equal(true);
    expect(inScope(path.join(ROOT, "contracts/test/GriefingKeeper.sol"))).to.equal(false);
    expect(inScope("contracts/test/MockAggregatorV3.sol")).to.equal(false);
    expect(inScope("node_modules/@aave/core-v3/contracts/x.sol")).to.equal(false);
  });

  it("sums covered over total across files, not an average of percentages", function () {
    const summary: CoverageSummary = {
      total: file([1, 0], [1, 0]),
      "contracts/a.sol": file([100, 100], [10, 10]),
      "contracts/b.sol": file([100, 90], [10, 8]),
      "contracts/test/Mock.sol": file([1000, 0], [1000, 0]),
    };
    const result = evaluate(summary);
    expect(result.files).to.deep.equal(["contracts/a.sol", "contracts/b.sol"]);
    expect(result.lines).to.deep.include({ total: 200, covered: 190, pct: 95 });
    expect(result.branches).to.deep.include({ total: 20, covered: 18, pct: 90 });
    expect(result.failures).to.deep.equal([]);
  });

  it("fails each metric below its gate, and only that one", function () {
    const lines = evaluate({ "contracts/a.sol": file([1000, 949], [10, 10]) });
    expect(lines.failures).to.deep.equal(["lines 94.90% is below 95%"]);
    const branches = evaluate({ "contracts/a.sol": file([10, 10], [1000, 899]) });
    expect(branches.failures).to.deep.equal(["branches 89.90% is below 90%"]);
  });

  it("refuses a summary with no protocol file rather than passing it", function () {
    expect(() => evaluate({ total: file([1, 1], [1, 1]), "contracts/test/M.sol": file([1, 1], [1, 1]) })).to.throw(
      /no file under contracts/,
    );
  });
});
