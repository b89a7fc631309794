// Reference ids from @huggingface/tokenizers (pure JavaScript) for every line
// of a text file: one JSON array per line, special tokens added as the
// tokenizer's post-processor says.
//   node hf_encode.mjs NODE_PREFIX TOKENIZER_JSON LINES OUT
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [prefix, tokPath, linesPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error("usage: node hf_encode.mjs NODE_PREFIX TOKENIZER_JSON LINES OUT");
  process.exit(2);
}
const entry = path.join(prefix, "node_modules", "@huggingface", "tokenizers", "dist", "tokenizers.mjs");
const { Tokenizer } = await import(pathToFileURL(entry).href);
const json = JSON.parse(fs.readFileSync(tokPath, "utf8"));
const tk = new Tokenizer(json, {});
let lines = fs.readFileSync(linesPath, "utf8").split("\n");
if (lines.length && lines[lines.length - 1] === "") lines.pop();
const out = [];
for (const line of lines) out.push(JSON.stringify(tk.encode(line).ids));
fs.writeFileSync(outPath, out.join("\n") + "\n");
