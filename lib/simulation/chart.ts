/**
 * Health-factor charts as SVG, rendered in Node: a vega-lite spec compiled to vega and drawn by a headless View
 * (renderer "none", then `toSVG()`), so no browser or canvas is needed. The output is a pure function of the input.
 */
import { MaxUint256 } from "ethers";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

import { SimulationError } from "./errors";

export interface HealthPoint {
  /** The series this point belongs to, e.g. "static", "reactive", "volatility". */
  policy: string;
  /** Unix seconds. */
  t: number;
  /** Health factor; Infinity for a vault without debt. */
  hf: number;
}

export interface ChartOptions {
  title: string;
  /** Plot area in pixels, axes and legend excluded (defaults 720 × 360). */
  width?: number;
  height?: number;
}

/**
 * HFs above this are drawn at it: a vault without debt has an infinite HF, and one that delevered far would
 * otherwise squash the band and the liquidation line into the bottom pixels.
 */
export const HF_CLIP = 5;

const LIQUIDATION_COLOR = "#c0392b";

/** A WAD health factor as a number; Aave's "no debt" (type(uint256).max) becomes Infinity. */
export function hfToNumber(wad: bigint): number {
  return wad === MaxUint256 ? Infinity : Number(wad) / 1e18;
}

/**
 * One line per policy (colours in order of first appearance), x in hours since the earliest point, y the HF clipped
 * at HF_CLIP, and a dashed rule at HF 1 labelled "liquidation". Points with a NaN HF are left out.
 */
export async function renderHealthChart(series: readonly HealthPoint[], opts: ChartOptions): Promise<string> {
  const { title, width = 720, height = 360 } = opts;
  const points = series.filter((p) => !Number.isNaN(p.hf));
  if (points.length === 0) throw new SimulationError(`Chart "${title}": no points to draw`);
  if (points.some((p) => !Number.isFinite(p.t))) throw new SimulationError(`Chart "${title}": every t must be finite`);
  const start = Math.min(...points.map((p) => p.t));
  const values = points.map((p) => ({
    policy: p.policy,
    hours: (p.t - start) / 3_600,
    hf: Math.min(p.hf, HF_CLIP),
  }));
  const policies = [...new Set(values.map((v) => v.policy))];
  const hfs = values.map((v) => v.hf);
  // An explicit domain that always shows HF 1, instead of one that depends on whether the rule joins the domain.
  const low = Math.floor(Math.min(1, ...hfs) * 0.95 * 10) / 10;
  const high = Math.max(Math.ceil(Math.max(...hfs) * 10) / 10, 1.1);

  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    width,
    height,
    background: "white",
    layer: [
      {
        data: { values },
        mark: { type: "line", strokeWidth: 1.5 },
        encoding: {
          x: { field: "hours", type: "quantitative", title: "hours since start" },
          y: {
            field: "hf",
            type: "quantitative",
            title: `health factor, capped at ${HF_CLIP}`,
            scale: { domain: [low, high], nice: false },
          },
          color: { field: "policy", type: "nominal", title: "policy", scale: { domain: policies } },
        },
      },
      // Layers with one empty datum of their own, so the rule and its label are drawn once and not once per point.
      {
        data: { values: [{}] },
        mark: { type: "rule", color: LIQUIDATION_COLOR, strokeDash: [6, 4] },
        encoding: { y: { datum: 1 } },
      },
      {
        data: { values: [{}] },
        mark: { type: "text", color: LIQUIDATION_COLOR, align: "right", baseline: "bottom", dx: -4, dy: -2 },
        encoding: { y: { datum: 1 }, x: { value: width }, text: { value: "liquidation" } },
      },
    ],
  };
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
