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
    expect(parsePricePathCsv("timestamp,price\n1,2\n2,3", "p.csv").points).to.have.length(2);
  });

  it("refuses bad files, naming the file, the line, the problem and what is expected", () => {
    const header = "timestamp,price\n";
    expectRefused("", 'prices.csv: the file is empty; expected the header "timestamp,price" and 2 rows or more');
    expectRefused(
      "time,price\n1,2\n2,3\n",
      'prices.csv line 1: the header is "time,price"; expected exactly "timestamp,price"',
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
