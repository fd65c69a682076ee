/** reports/gas.json, which every benchmark writes its own keys into. */
import fs from "node:fs";
import path from "node:path";

export const REPORT = path.join(__dirname, "..", "reports", "gas.json");

/** Writes `entries` into the report, replacing keys of the same name and keeping every other one. */
export function mergeReport(entries: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(REPORT), { recursive: true });
  const previous = fs.existsSync(REPORT)
    ? (JSON.parse(fs.readFileSync(REPORT, "utf8")) as Record<string, unknown>)
    : {};
  fs.writeFileSync(REPORT, `${JSON.stringify({ ...previous, ...entries }, null, 2)}\n`);
  console.log(`Wrote ${path.relative(process.cwd(), REPORT)}`);
}
