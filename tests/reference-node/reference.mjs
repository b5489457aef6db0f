// Prints reference token ids and chat-template renders from Hugging Face's own JavaScript implementations
// (@huggingface/tokenizers, @huggingface/jinja) for the engine tests to compare with, exactly.
// Input (stdin, JSON):
//   { "tokenize": [{ "tokenizer": path, "config": path|null, "texts": [string] }],
//     "render":   [{ "template": string, "variables": object }] }
// Output (stdout, JSON):
//   { "tokenize": [[{ "ids": [int], "decoded": string }]],
//     "render":   [{ "text": string } | { "error": string }] }
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

const render = (request.render ?? []).map(({ template, variables }) => {
  try {
    return { text: new Template(template).render(variables) };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  }
});

process.stdout.write(JSON.stringify({ tokenize, render }));
