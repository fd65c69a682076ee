import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { parsePricePathCsv, PricePathError, readPricePathCsv, SimulationError } from "../../lib/simulation";

/** Expects `text` to be refused with exactly `message`. */
function expectRefused(text: string, message: string): void {
  expect(() => parsePricePathCsv(text, "prices.csv")).to.throw(PricePathError, message);
}

describe("simulation: CSV price paths", () => {
  it("parses a path and names it after the file", () => {
    const path = parsePricePathCsv("timestamp,price\n1700000000,2000\n1700000060,1999.5\n", "data/eth-nov.csv");
    expect(path).to.deep.equal({
      name: "eth-nov",
      points: [
        { timestamp: 1_700_000_000, price: 2_000 },
        { timestamp: 1_700_000_060, price: 1_999.5 },
      ],
    });
  });

  it("tolerates whitespace, CRLF, a byte-order mark and trailing blank lines", () => {
    const text = "\uFEFF  timestamp , price \r\n 1700000000 , 2000.25\r\n1700000012,.5\r\n\r\n  \n";
    expect(parsePricePathCsv(text, "p.csv").points).to.deep.equal([
      { timestamp: 1_700_000_000, price: 2_000.25 },
      { timestamp: 1_700_000_012, price: 0.5 },
    ]);
    expect(parsePricePathCsv("timestamp,price\n1,2\n13,3", "p.csv").points).to.have.length(2);
  });

  it("refuses bad files, naming the file, the line, the problem and what is expected", () => {
    const header = "timestamp,price\n";
    expectRefused("", 'prices.csv: the file is empty; expected the header "timestamp,price" and 2 rows or more');
    expectRefused(
      "time,price\n1,2\n2,3\n",
      'prices.csv line 1: the header is "time,price"; expected exactly "timestamp,price" or "timestamp,price,gasGwei"',
    );
    expectRefused("price,timestamp\n", 'line 1: the header is "price,timestamp"; expected exactly "timestamp,price"');
    expectRefused(header, "prices.csv: 0 rows of prices; at least 2 are needed");
    expectRefused(`${header}1700000000,2000\n`, "prices.csv: 1 row of prices; at least 2 are needed");
    expectRefused(
      `${header}1700000000,1\n1700000060,1\n1700000120,1\n1700000180,1\n1700000060,1\n`,
      "prices.csv line 6: timestamp 1700000060 is not after the previous one (1700000180); timestamps must increase",
    );
    expectRefused(
      `${header}1700000000,1\n1700000000,1\n`,
      "prices.csv line 3: timestamp 1700000000 is not after the previous one (1700000000); timestamps must increase",
    );
    expectRefused(
      `${header}1700000000.5,1\n`,
      'line 2: timestamp "1700000000.5" is not whole unix seconds; expected e.g. 1700000000',
    );
    expectRefused(`${header}-5,1\n`, 'line 2: timestamp "-5" is not whole unix seconds');
    expectRefused(`${header}2023-11-14,1\n`, 'line 2: timestamp "2023-11-14" is not whole unix seconds');
    expectRefused(
      `${header}1700000000000,1\n`,
      "prices.csv line 2: timestamp 1700000000000 looks like milliseconds; expected unix seconds, e.g. 1700000000",
    );
    expectRefused(
      `${header}1700000000,$2000\n`,
      'prices.csv line 2: price "$2000" is not a decimal number; expected a positive USD price like 1834.52',
    );
    expectRefused(`${header}1700000000,1e3\n`, 'line 2: price "1e3" is not a decimal number');
    expectRefused(`${header}1700000000,-3\n`, 'line 2: price "-3" is not a decimal number');
    expectRefused(
      `${header}1700000000,0.000\n`,
      "prices.csv line 2: price 0.000 is not positive; prices must be above 0",
    );
    expectRefused(`${header}1700000000,\n`, 'line 2: price "" is not a decimal number');
    expectRefused(
      `${header}1700000000\n`,
      'prices.csv line 2: "1700000000" has 1 values; expected 2, "timestamp,price"',
    );
    expectRefused(`${header}1,2,3\n`, 'prices.csv line 2: "1,2,3" has 3 values; expected 2, "timestamp,price"');
    expectRefused(
      `${header}1,2\n\n3,4\n`,
      'prices.csv line 3: empty line; expected a row "timestamp,price" (blank lines only at the end)',
    );
  });

  it("takes rows one block (12 s) apart, and refuses finer ones, naming the line and what to do", () => {
    const path = parsePricePathCsv("timestamp,price\n1700000000,2000\n1700000012,1990\n1700000024,1985\n", "p.csv");
    expect(path.points.map((p) => p.timestamp)).to.deep.equal([1_700_000_000, 1_700_000_012, 1_700_000_024]);
    expectRefused(
      "timestamp,price\n1700000000,2000\n1700000012,1990\n1700000023,1985\n",
      "prices.csv line 4: timestamp 1700000023 is 11 s after the previous row (1700000012); rows must be at least " +
        "one block (12 s) apart: keep one row per block",
    );
    expectRefused("timestamp,price\n1700000000,2000\n1700000001,1990\n", "line 3: timestamp 1700000001 is 1 s after");
  });

  it("reads the optional gasGwei column into each point, and refuses a bad value with its line", () => {
    const text = "timestamp,price,gasGwei\n1700000000,2000,12.5\n1700000012, 1990 , 180\n";
    expect(parsePricePathCsv(text, "p.csv").points).to.deep.equal([
      { timestamp: 1_700_000_000, price: 2_000, gasGwei: 12.5 },
      { timestamp: 1_700_000_012, price: 1_990, gasGwei: 180 },
    ]);
    const header = "timestamp,price,gasGwei\n1700000000,2000,10\n";
    for (const bad of ["0", "-3", "abc", "", "1e3", "0.000"]) {
      expectRefused(
        `${header}1700000012,1990,${bad}\n`,
        `prices.csv line 3: gasGwei "${bad}" is not a positive decimal number; expected a base fee in gwei like 12.5`,
      );
    }
    expectRefused(
      `${header}1700000012,1990\n`,
      'prices.csv line 3: "1700000012,1990" has 2 values; expected 3, "timestamp,price,gasGwei"',
    );
    expectRefused(
      "timestamp,price\n1700000000,2000,10\n",
      'prices.csv line 2: "1700000000,2000,10" has 3 values; expected 2, "timestamp,price"',
    );
  });

  it("keeps the first `warmupRows` rows as warm-up only, out of the replay", () => {
    const rows = [2_000, 2_010, 1_990, 1_950, 1_900].map((p, i) => `${1_700_000_000 + i * 60},${p}`).join("\n");
    const path = parsePricePathCsv(`timestamp,price\n${rows}\n`, "p.csv", { warmupRows: 3 });
    expect(path.warmup?.map((p) => p.price)).to.deep.equal([2_000, 2_010, 1_990]);
    expect(path.points.map((p) => p.price)).to.deep.equal([1_950, 1_900]);
    expect(parsePricePathCsv(`timestamp,price\n${rows}\n`, "p.csv")).to.not.have.property("warmup");
    expect(() => parsePricePathCsv(`timestamp,price\n${rows}\n`, "p.csv", { warmupRows: 4 })).to.throw(
      PricePathError,
      "p.csv: 5 rows of prices; 4 of warm-up and at least 2 to replay are needed",
    );
    for (const warmupRows of [1, -1, 2.5]) {
      expect(() => parsePricePathCsv(`timestamp,price\n${rows}\n`, "p.csv", { warmupRows })).to.throw(
        PricePathError,
        `p.csv: warm-up rows must be 0 (none) or a whole number of at least 2, got ${warmupRows}`,
      );
    }
  });

  it("reads a file, and says when it cannot", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-csv-"));
    try {
      const file = path.join(dir, "eth.csv");
      fs.writeFileSync(file, "timestamp,price\n100,1\n200,2\n");
      expect(readPricePathCsv(file)).to.deep.equal({
        name: "eth",
        points: [
          { timestamp: 100, price: 1 },
          { timestamp: 200, price: 2 },
        ],
      });
      const missing = path.join(dir, "missing.csv");
      expect(() => readPricePathCsv(missing)).to.throw(
        PricePathError,
        `${missing}: cannot read it (no such file); expected a CSV file with the header "timestamp,price"`,
      );
      expect(() => readPricePathCsv(missing)).to.throw(SimulationError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
