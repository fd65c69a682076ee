/**
 * nSLOC of the protocol's contracts (everything under `contracts/` except the mocks and harnesses in
 * `contracts/test/`): source lines that are neither blank nor only comment. Prints a Markdown table for
 * `audits/SCOPE.md`.
 *
 *   npx ts-node scripts/nsloc.ts
 */
import fs from "node:fs";
import path from "node:path";

export const ROOT = path.join(__dirname, "..");

/**
 * Counts the lines of Solidity `source` that carry code once comments are removed. String literals are honoured,
 * so `"//"` or `"/*"` inside a string does not start a comment; a line with code before or after a comment counts.
 */
export function nsloc(source: string): number {
  let count = 0;
  let inBlock = false;
  for (const line of source.split(/\r?\n/)) {
    let code = "";
    let quote: string | null = null;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (inBlock) {
        if (c === "*" && line[i + 1] === "/") {
          inBlock = false;
          i++;
        }
      } else if (quote !== null) {
        code += c;
        if (c === "\\") code += line[++i] ?? "";
        else if (c === quote) quote = null;
      } else if (c === "/" && line[i + 1] === "/") {
        break;
      } else if (c === "/" && line[i + 1] === "*") {
        inBlock = true;
        i++;
      } else {
        if (c === '"' || c === "'") quote = c;
        code += c;
      }
    }
    if (code.trim() !== "") count++;
  }
  return count;
}

/** The in-scope `.sol` files, relative to the project root with forward slashes, sorted. */
export function scopeFiles(root = ROOT): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(root, full).split(path.sep).join("/");
      if (entry.isDirectory()) {
        if (relative !== "contracts/test") walk(full);
      } else if (entry.name.endsWith(".sol")) {
        found.push(relative);
      }
    }
  };
  walk(path.join(root, "contracts"));
  return found.sort();
}

/** A Markdown table of every in-scope file's nSLOC and the total. */
export function table(root = ROOT): string {
  const rows = scopeFiles(root).map((file) => [file, nsloc(fs.readFileSync(path.join(root, file), "utf8"))] as const);
  const total = rows.reduce((sum, [, n]) => sum + n, 0);
  const width = Math.max(...rows.map(([file]) => file.length + 2), "**total**".length);
  const lines = [`| ${"file".padEnd(width)} | nSLOC |`, `| ${"-".repeat(width)} | ----: |`];
  for (const [file, n] of rows) lines.push(`| ${`\`${file}\``.padEnd(width)} | ${String(n).padStart(5)} |`);
  lines.push(`| ${"**total**".padEnd(width)} | ${String(total).padStart(5)} |`);
  return lines.join("\n");
}

if (require.main === module) console.log(table());
