/**
 * CI's coverage gate: fails when the protocol's contracts (everything under `contracts/` except the mocks and
 * harnesses in `contracts/test/`) fall below the line or branch threshold in `coverage/coverage-summary.json`.
 *
 *   npm run coverage && npm run coverage:check
 */
import fs from "node:fs";
import path from "node:path";

export const THRESHOLDS = { lines: 95, branches: 90 } as const;
export const ROOT = path.join(__dirname, "..");
export const SUMMARY = path.join(ROOT, "coverage", "coverage-summary.json");

interface Counter {
  total: number;
  covered: number;
}
type FileSummary = Record<"lines" | "branches", Counter>;
export type CoverageSummary = Record<string, FileSummary>;

export interface GateResult {
  files: string[];
  lines: Counter & { pct: number };
  branches: Counter & { pct: number };
  failures: string[];
}

/** Whether a summary key (istanbul writes paths relative to the project, or absolute) is protocol code. */
export function inScope(file: string): boolean {
  const relative = (path.isAbsolute(file) ? path.relative(ROOT, file) : file).split(path.sep).join("/");
  return relative.startsWith("contracts/") && !relative.startsWith("contracts/test/");
}

function pct({ total, covered }: Counter): number {
  return total === 0 ? 100 : (covered / total) * 100;
}

/** Sums lines and branches over the in-scope files and compares them with the thresholds. */
export function evaluate(summary: CoverageSummary, thresholds = THRESHOLDS): GateResult {
  const files = Object.keys(summary).filter((key) => key !== "total" && inScope(key));
  if (files.length === 0) {
    throw new Error("the coverage summary lists no file under contracts/: was it written by `npm run coverage`?");
  }
  const sum = (metric: "lines" | "branches"): Counter => ({
    total: files.reduce((acc, f) => acc + summary[f][metric].total, 0),
    covered: files.reduce((acc, f) => acc + summary[f][metric].covered, 0),
  });
  const lines = sum("lines");
  const branches = sum("branches");
  const result = { files, lines: { ...lines, pct: pct(lines) }, branches: { ...branches, pct: pct(branches) } };
  const failures: string[] = [];
  for (const metric of ["lines", "branches"] as const) {
    if (result[metric].pct < thresholds[metric]) {
      failures.push(`${metric} ${result[metric].pct.toFixed(2)}% is below ${thresholds[metric]}%`);
    }
  }
  return { ...result, failures };
}

function main(): void {
  if (!fs.existsSync(SUMMARY)) {
    console.error(`${path.relative(process.cwd(), SUMMARY)} not found: run \`npm run coverage\` first.`);
    process.exit(1);
  }
  const summary = JSON.parse(fs.readFileSync(SUMMARY, "utf8")) as CoverageSummary;
  const result = evaluate(summary);
  const show = (c: Counter & { pct: number }) => `${c.pct.toFixed(2)}% (${c.covered}/${c.total})`;
  console.log(`coverage of ${result.files.length} files under contracts/ (contracts/test excluded)`);
  console.log(`  lines    ${show(result.lines)}, gate ${THRESHOLDS.lines}%`);
  console.log(`  branches ${show(result.branches)}, gate ${THRESHOLDS.branches}%`);
  for (const file of result.files) {
    const { lines, branches } = summary[file];
    if (lines.covered < lines.total || branches.covered < branches.total) {
      console.log(`  ${file}: lines ${pct(lines).toFixed(1)}%, branches ${pct(branches).toFixed(1)}%`);
    }
  }
  if (result.failures.length > 0) {
    console.error(
      `Coverage gate failed: ${result.failures.join("; ")}. Add tests for the uncovered lines ` +
        "(coverage/index.html shows them); do not lower the gate.",
    );
    process.exit(1);
  }
  console.log("Coverage gate passed.");
}

if (require.main === module) main();
