/**
 * Price paths from CSV files: a header `timestamp,price`, then one row per point, unix seconds (whole, strictly
 * increasing) and a positive decimal USD price; at least 2 rows. Whitespace around lines and values, CRLF line ends,
 * a UTF-8 byte-order mark and trailing blank lines are tolerated; anything else is refused with the line number.
 */
import fs from "node:fs";
import path from "node:path";

import { SimulationError } from "./errors";
import type { PricePath, PricePoint } from "./scenarios";

export const CSV_HEADER = "timestamp,price";

export class PricePathError extends SimulationError {}

const INTEGER = /^\d+$/;
/** Plain decimals only ("1834.52", ".5"): no signs, exponents or thousands separators. */
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
/** 10^11 seconds is the year 5138: a larger timestamp is almost surely in milliseconds. */
const MAX_SECONDS = 1e11;

/** Parses CSV text; `file` names the source in error messages. The path is named after the file. */
export function parsePricePathCsv(text: string, file: string): PricePath {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  const fail = (line: number | undefined, what: string): never => {
    throw new PricePathError(`${file}${line === undefined ? "" : ` line ${line}`}: ${what}`);
  };
  if (lines.length === 0) fail(undefined, `the file is empty; expected the header "${CSV_HEADER}" and 2 rows or more`);
  const header = lines[0]
    .split(",")
    .map((cell) => cell.trim())
    .join(",");
  if (header !== CSV_HEADER) fail(1, `the header is "${lines[0].trim()}"; expected exactly "${CSV_HEADER}"`);

  const points: PricePoint[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i].trim();
    if (raw === "") fail(line, `empty line; expected a row "timestamp,price" (blank lines only at the end)`);
    const cells = raw.split(",").map((cell) => cell.trim());
    if (cells.length !== 2) fail(line, `"${raw}" has ${cells.length} values; expected 2, "timestamp,price"`);
    const [ts, pr] = cells;
    if (!INTEGER.test(ts)) fail(line, `timestamp "${ts}" is not whole unix seconds; expected e.g. 1700000000`);
    const timestamp = Number(ts);
    if (timestamp >= MAX_SECONDS) {
      fail(
        line,
        `timestamp ${ts} looks like milliseconds; expected unix seconds, e.g. ${Math.floor(timestamp / 1000)}`,
      );
    }
    if (!DECIMAL.test(pr))
      fail(line, `price "${pr}" is not a decimal number; expected a positive USD price like 1834.52`);
    const price = Number(pr);
    if (!(price > 0 && Number.isFinite(price))) fail(line, `price ${pr} is not positive; prices must be above 0`);
    const previous = points[points.length - 1];
    if (previous !== undefined && timestamp <= previous.timestamp) {
      fail(line, `timestamp ${ts} is not after the previous one (${previous.timestamp}); timestamps must increase`);
    }
    points.push({ timestamp, price });
  }
  if (points.length < 2) {
    fail(undefined, `${points.length} row${points.length === 1 ? "" : "s"} of prices; at least 2 are needed`);
  }
  return { name: path.basename(file, path.extname(file)), points };
}

/** Reads and parses a CSV price path; errors name the file as given. */
export function readPricePathCsv(file: string): PricePath {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new PricePathError(
      `${file}: cannot read it (${reason}); expected a CSV file with the header "${CSV_HEADER}"`,
    );
  }
  return parsePricePathCsv(text, file);
}
