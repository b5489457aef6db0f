// Prints reference token ids and chat-template renders from Hugging Face's own JavaScript implementations
// (@huggingface/tokenizers, @huggingface/jinja) for the engine tests to compare with, exactly.
// Input (stdin, JSON):
//   { "tokenize":  [{ "tokenizer": path, "config": path|null, "texts": [string] }],
//     "decode":    [{ "tokenizer": path, "config": path|null, "skip_special_tokens": bool, "ids": [[int]] }],
//     "render":    [{ "template": string, "variables": object }],
//     "benchmark": { "tokenizer": path, "config": path, "textFile": path } }
// Output (stdout, JSON):
//   { "tokenize": [[{ "ids": [int], "decoded": string }]],
//     "decode":   [[string]],   (tokenizer.decode of each id sequence, never cleaning up spaces)
//     "render":   [{ "text": string } | { "error": string }],
//     "benchmark": { "tokens": int, "ms": number } }   (the text is encoded line by line, after one warm-up pass)
import fs from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";

const request = JSON.parse(fs.readFileSync(0, "utf8"));
const readJson = (path) => (path ? JSON.parse(fs.readFileSync(path, "utf8")) : {});

const tokenize = (request.tokenize ?? []).map(({ tokenizer, config, texts }) => {
  const tok = new Tokenizer(readJson(tokenizer), readJson(config));
  return texts.map((text) => {
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    const decoded = tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    return { ids, decoded };
  });
});

const decode = (request.decode ?? []).map(({ tokenizer, config, skip_special_tokens, ids }) => {
  const tok = new Tokenizer(readJson(tokenizer), readJson(config));
  // decode() refuses an empty array; its text is "".
  return ids.map((sequence) =>
    sequence.length === 0 ? "" : tok.decode(sequence, { skip_special_tokens: !!skip_special_tokens, clean_up_tokenization_spaces: false }));
});

const render = (request.render ?? []).map(({ template, variables }) => {
  try {
    return { text: new Template(template).render(variables) };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  }
});

let benchmark;
if (request.benchmark) {
  const { tokenizer, config, textFile } = request.benchmark;
  const tok = new Tokenizer(readJson(tokenizer), readJson(config));
  const lines = fs.readFileSync(textFile, "utf8").split("\n");
  tok.encode(lines.slice(0, 200).join("\n"), { add_special_tokens: false });
  const start = performance.now();
  let tokens = 0;
  for (const line of lines) tokens += tok.encode(line, { add_special_tokens: false }).ids.length;
  benchmark = { tokens, ms: performance.now() - start };
}

process.stdout.write(JSON.stringify({ tokenize, decode, render, benchmark }));
