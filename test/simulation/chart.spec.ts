import { expect } from "chai";
import { MaxUint256, parseUnits } from "ethers";

import { HF_CLIP, hfToNumber, renderHealthChart, SimulationError, type HealthPoint } from "../../lib/simulation";

const START = 1_700_000_000;

/** Three policies over 6 hours: one falls through HF 1, one holds its band, one has no debt (infinite HF). */
function series(): HealthPoint[] {
  const points: HealthPoint[] = [];
  for (let i = 0; i <= 72; i++) {
    const t = START + i * 300;
    points.push({ policy: "static", t, hf: 1.5 - i * 0.008 });
    points.push({ policy: "reactive", t, hf: 1.3 + ((i * 7) % 20) / 100 });
    points.push({ policy: "volatility", t, hf: i < 10 ? 1.6 : Infinity });
  }
  return points;
}

/** The tags of an XML document balance: every opened element is closed, in order. */
function expectWellFormed(svg: string): void {
  expect(svg.startsWith("<svg")).to.equal(true);
  expect(svg.trimEnd().endsWith("</svg>")).to.equal(true);
  const open: string[] = [];
  for (const [tag, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (closing === "/") expect(open.pop(), `closing ${tag}`).to.equal(name);
    else if (selfClosing !== "/") open.push(name);
  }
  expect(open).to.deep.equal([]);
}

/** The `<path>`s inside the line-mark groups: one per series. */
function linePaths(svg: string): string[] {
  return [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*>(.*?)<\/g>/g)].flatMap(([, inner]) =>
    [...inner.matchAll(/<path [^>]*>/g)].map(([path]) => path),
  );
}

describe("simulation: health chart", () => {
  it("draws one line per policy, the legend, and the liquidation rule at HF 1", async () => {
    const svg = await renderHealthChart(series(), { title: "black-thursday-2020: health factors" });
    expectWellFormed(svg);
    const paths = linePaths(svg);
    expect(paths).to.have.length(3);
    for (const policy of ["static", "reactive", "volatility"]) {
      expect(
        paths.filter((p) => p.includes(`policy: ${policy}"`)),
        policy,
      ).to.have.length(1);
      expect(svg).to.contain(`>${policy}</text>`);
    }
    const rules = [...svg.matchAll(/<g class="mark-rule role-mark[^"]*"[^>]*>(.*?)<\/g>/g)];
    expect(rules).to.have.length(1);
    expect(rules[0][1].match(/<line /g)).to.have.length(1);
    expect(svg).to.contain(">liquidation</text>");
    expect(svg).to.contain(">black-thursday-2020: health factors</text>");
    expect(svg).to.contain(">hours since start</text>");
  });

  it("clips large and infinite HFs at HF_CLIP, so no value escapes the plot", async () => {
    const svg = await renderHealthChart(series(), { title: "clipped" });
    expect(HF_CLIP).to.equal(5);
    expect(svg).to.not.match(/NaN|Infinity/);
    expect(svg).to.contain(`>5.0</text>`); // the top tick
    expect(svg).to.contain(`health factor, capped at 5`);
  });

  it("is deterministic: the same input gives the same SVG, whatever was drawn before", async () => {
    const first = await renderHealthChart(series(), { title: "same" });
    await renderHealthChart(series().slice(0, 50), { title: "other", width: 300, height: 200 });
    expect(await renderHealthChart(series(), { title: "same" })).to.equal(first);
  });

  it("takes the plot size", async () => {
    const small = await renderHealthChart(series(), { title: "small", width: 300, height: 200 });
    const [, width, height] = small.match(/^<svg [^>]*width="(\d+)" height="(\d+)"/) ?? [];
    expect(Number(width)).to.be.within(300, 500);
    expect(Number(height)).to.be.within(200, 300);
  });

  it("refuses an empty series", async () => {
    let error: unknown;
    try {
      await renderHealthChart([{ policy: "static", t: START, hf: NaN }], { title: "empty" });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(SimulationError);
    expect((error as Error).message).to.equal('Chart "empty": no points to draw');
  });

  it("hfToNumber reads Aave's WAD health factors, no debt as Infinity", () => {
    expect(hfToNumber(parseUnits("1.2345", 18))).to.equal(1.2345);
    expect(hfToNumber(MaxUint256)).to.equal(Infinity);
  });
});
