import { expect } from "chai";

import { meanP5, quantiles, wilson, Z_95 } from "../../lib/simulation/stats";

describe("simulation: stats", () => {
  describe("wilson", () => {
    // Reference values: Newcombe, "Two-sided confidence intervals for the single proportion" (Statistics in
    // Medicine, 1998), Table I, method 3 (score interval without continuity correction); and the closed form
    // at 0/n and n/n, (0, z²/(n+z²)).
    const cases: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
      [0, 10, 0, 0.2775],
      [5, 10, 0.2366, 0.7634],
      [10, 10, 0.7225, 1],
      [1, 100, 0.0018, 0.0545],
    ];
    for (const [k, n, low, high] of cases) {
      it(`${k}/${n}: [${low}, ${high}]`, () => {
        const p = wilson(k, n);
        expect(p.estimate).to.be.closeTo(k / n, 1e-6);
        expect(p.low).to.be.closeTo(low, 5e-5);
        expect(p.high).to.be.closeTo(high, 5e-5);
        expect([p.liquidated, p.trials]).to.deep.equal([k, n]);
      });
    }

    it("is exact at the ends and refuses impossible counts", () => {
      expect(wilson(0, 10).high).to.equal(Math.round((Z_95 ** 2 / (10 + Z_95 ** 2)) * 1e6) / 1e6);
      expect(wilson(0, 10).low).to.equal(0);
      expect(wilson(10, 10).high).to.equal(1);
      expect(wilson(0, 0)).to.deep.equal({ estimate: 0, low: 0, high: 1, liquidated: 0, trials: 0 });
      expect(() => wilson(11, 10)).to.throw(/11 successes out of 10/);
      expect(() => wilson(1.5, 10)).to.throw(/whole numbers/);
    });
  });

  it("meanP5 and quantiles, rounded", () => {
    const xs = Array.from({ length: 21 }, (_, i) => i);
    expect(meanP5(xs)).to.deep.equal({ mean: 10, p5: 1 });
    expect(quantiles([3, 1, 2, 4, 5])).to.deep.equal({ min: 1, p5: 1, p25: 2, p50: 3, p75: 4, p95: 5, max: 5 });
    expect(() => meanP5([])).to.throw(/no values/);
  });
});
