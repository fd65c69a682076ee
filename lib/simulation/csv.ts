/**
 * Price paths from CSV files: a header `timestamp,price` or `timestamp,price,gasGwei`, then one row per point: unix
 * seconds (whole, increasing by at least one block, BLOCK_SECONDS: the chain cannot show a finer move), a positive
 * decimal USD price and, with the third column, the base fee at that row in gwei (positive decimal). Whitespace
 * around lines and values, CRLF line ends, a UTF-8 byte-order mark and trailing blank lines are tolerated; anything
 * else is refused with the line number.
 *
 * Warm-up rule: with `warmupRows` = W, the first W rows are the path's `warmup` and only the rows after them are
 * replayed (W >= 2, and at least 2 rows must remain). Without it the path has no warm-up, and a band sized before
 * the replay (the `volatility` policy) cannot be computed for it.
 */
import fs from "node:fs";
import path from "node:path";

import { SimulationError } from "./errors";
import { BLOCK_SECONDS } from "./keepers";
import type { PricePath, PricePoint } from "./scenarios";

export const CSV_HEADER = "timestamp,price";
/** The header of a file that gives the base fee of each row too. */
export const CSV_HEADER_GAS = "timestamp,price,gasGwei";

export interface CsvOptions {
  /** Leading rows that are warm-up only, never replayed (default 0: no warm-up). */
  warmupRows?: number;
}

export class PricePathError extends SimulationError {}

const INTEGER = /^\d+$/;
/** Plain decimals only ("1834.52", ".5"): no signs, exponents or thousands separators. */
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
/** 10^11 seconds is the year 5138: a larger timestamp is almost surely in milliseconds. */
const MAX_SECONDS = 1e11;

/** Parses CSV text; `file` names the source in error messages. The path is named after the file. */
export function parsePricePathCsv(text: string, file: string, options: CsvOptions = {}): PricePath {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  const fail = (line: number | undefined, what: string): never => {
    throw new PricePathError(`${file}${line === undefined ? "" : ` line ${line}`}: ${what}`);
  };
  const { warmupRows = 0 } = options;
  if (!(Number.isSafeInteger(warmupRows) && (warmupRows === 0 || warmupRows >= 2))) {
    fail(undefined, `warm-up rows must be 0 (none) or a whole number of at least 2, got ${warmupRows}`);
  }
  if (lines.length === 0) fail(undefined, `the file is empty; expected the header "${CSV_HEADER}" and 2 rows or more`);
  const header = lines[0]
    .split(",")
    .map((cell) => cell.trim())
    .join(",");
  if (header !== CSV_HEADER && header !== CSV_HEADER_GAS) {
    fail(1, `the header is "${lines[0].trim()}"; expected exactly "${CSV_HEADER}" or "${CSV_HEADER_GAS}"`);
  }
  const columns = header.split(",").length;

  const points: PricePoint[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i].trim();
    if (raw === "") fail(line, `empty line; expected a row "${header}" (blank lines only at the end)`);
    const cells = raw.split(",").map((cell) => cell.trim());
    if (cells.length !== columns) fail(line, `"${raw}" has ${cells.length} values; expected ${columns}, "${header}"`);
    const [ts, pr, gas] = cells;
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
    if (previous !== undefined && timestamp - previous.timestamp < BLOCK_SECONDS) {
      fail(
        line,
        `timestamp ${ts} is ${timestamp - previous.timestamp} s after the previous row (${previous.timestamp}); ` +
          `rows must be at least one block (${BLOCK_SECONDS} s) apart: keep one row per block`,
      );
    }
    const point: PricePoint = { timestamp, price };
    if (gas !== undefined) {
      if (!DECIMAL.test(gas) || !(Number(gas) > 0)) {
        fail(line, `gasGwei "${gas}" is not a positive decimal number; expected a base fee in gwei like 12.5`);
      }
      point.gasGwei = Number(gas);
    }
    points.push(point);
  }
  if (points.length < warmupRows + 2) {
    const rows = `${points.length} row${points.length === 1 ? "" : "s"} of prices`;
    fail(
      undefined,
      warmupRows === 0
        ? `${rows}; at least 2 are needed`
        : `${rows}; ${warmupRows} of warm-up and at least 2 to replay are needed`,
    );
  }
  const name = path.basename(file, path.extname(file));
  if (warmupRows === 0) return { name, points };
  return { name, points: points.slice(warmupRows), warmup: points.slice(0, warmupRows) };
}

/** Reads and parses a CSV price path; errors name the file as given. */
export function readPricePathCsv(file: string, options: CsvOptions = {}): PricePath {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new PricePathError(
      `${file}: cannot read it (${reason}); expected a CSV file with the header "${CSV_HEADER}"`,
    );
  }
  return parsePricePathCsv(text, file, options);
}
