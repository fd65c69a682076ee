import { expect } from "chai";

import { DEFAULT_SEED, Random, SimulationError } from "../../lib/simulation";

const draw = (random: Random, n: number, f: (r: Random) => number): number[] =>
  Array.from({ length: n }, () => f(random));

describe("simulation: Random", () => {
  it("is mulberry32: seed 1 gives the reference implementation's first values", () => {
    // The same four numbers as the reference mulberry32 (Ettinger's C / the usual JavaScript one-liner) from seed 1.
    expect(draw(new Random(1), 4, (r) => r.next())).to.deep.equal([
      0.6270739405881613, 0.002735721180215478, 0.5274470399599522, 0.9810509674716741,
    ]);
    expect(DEFAULT_SEED).to.equal(1);
  });

  it("pins the normals of a seed", () => {
    expect(draw(new Random(42), 3, (r) => r.normal())).to.deep.equal([
      -1.2848381576290195, 0.43278026787558976, -0.9453528099747296,
    ]);
  });

  it("gives the same sequence for the same seed, another for another seed", () => {
    const a = draw(new Random(7), 1_000, (r) => r.next());
    expect(draw(new Random(7), 1_000, (r) => r.next())).to.deep.equal(a);
    const b = draw(new Random(8), 1_000, (r) => r.next());
    expect(b).to.not.deep.equal(a);
    expect(a.filter((x, i) => x === b[i])).to.have.length(0);
    // Seeds are reduced to 32 bits.
    expect(draw(new Random(2 ** 32 + 7), 10, (r) => r.next())).to.deep.equal(a.slice(0, 10));
  });

  it("next() is in [0, 1) and normal() is standard normal", () => {
    const uniforms = draw(new Random(3), 20_000, (r) => r.next());
    expect(uniforms.every((x) => x >= 0 && x < 1)).to.equal(true);
    expect(uniforms.reduce((s, x) => s + x, 0) / uniforms.length).to.be.closeTo(0.5, 0.01);
    const normals = draw(new Random(3), 20_000, (r) => r.normal());
    const mean = normals.reduce((s, x) => s + x, 0) / normals.length;
    const variance = normals.reduce((s, x) => s + (x - mean) ** 2, 0) / normals.length;
    expect(mean).to.be.closeTo(0, 0.03);
    expect(variance).to.be.closeTo(1, 0.03);
    expect(normals.filter((x) => Math.abs(x) > 1.959964).length / normals.length).to.be.closeTo(0.05, 0.006);
  });

  it("refuses a seed that is not an integer", () => {
    expect(() => new Random(1.5)).to.throw(SimulationError, "Random: the seed must be an integer, got 1.5");
  });
});
