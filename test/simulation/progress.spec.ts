import { expect } from "chai";
import { PassThrough } from "node:stream";

import { createProgress } from "../../lib/simulation";

/** A stream that records what is written to it and says whether it is a terminal. */
function fakeStream(isTTY: boolean): { stream: PassThrough & { isTTY: boolean; columns: number }; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("simulation: progress", () => {
  it("draws label, value/total and ETA on a terminal", async () => {
    const { stream, text } = fakeStream(true);
    const progress = createProgress({ label: "replaying prices", total: 10, stream });
    progress.increment();
    progress.increment(2);
    progress.stop();
    await flush();
    expect(text()).to.contain("replaying prices [");
    expect(text()).to.contain("3/10 | ETA");
  });

  it("is silent when the stream is not a terminal", async () => {
    const { stream, text } = fakeStream(false);
    const progress = createProgress({ label: "quiet", total: 5, stream });
    progress.update(4);
    progress.stop();
    await flush();
    expect(text()).to.equal("");
  });

  it("is silent when disabled, even on a terminal", async () => {
    const { stream, text } = fakeStream(true);
    const progress = createProgress({ label: "quiet", total: 5, stream, enabled: false });
    progress.increment();
    progress.stop();
    await flush();
    expect(text()).to.equal("");
  });
});
