#!/usr/bin/env python3
"""Writes the BPE merges of tuneforge-tiny's tokenizer: src/Tuneforge.Engine/Modeling/TinyMerges.txt.

The merges are learned once from the license texts every Debian 12 system has (/usr/share/common-licenses: about
430 kB of plain English), so they know common English words and word pieces but nothing of any user's data. The
file in the repository is the result of

    python3 bench/reference/tiny_merges.py 765 > src/Tuneforge.Engine/Modeling/TinyMerges.txt

(765 merges: with 256 byte tokens and 3 special tokens the vocabulary is exactly 1024). Changing the file changes
the built-in model: raise TinyModel.WeightsVersion with it.

Byte-level BPE as GPT-2 trains it: text is split into pre-tokens (GPT-2's pattern, written here for ASCII letters
and digits, which is all the corpus holds), each pre-token is its UTF-8 bytes spelled with GPT-2's byte symbols,
and the most frequent adjacent pair is merged, again and again. Ties go to the lexically greatest pair, so the
output is the same on every run.
"""
import collections
import glob
import re
import sys

PRE_TOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def byte_symbols():
    """GPT-2's byte -> printable character table (the same as TinyModel.ByteSymbols)."""
    printable = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    symbols, extra = {}, 0
    for b in range(256):
        if b in printable:
            symbols[b] = chr(b)
        else:
            symbols[b] = chr(256 + extra)
            extra += 1
    return symbols


def merge_pair(word, pair):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 765
    symbols = byte_symbols()
    text = "\n".join(open(f, encoding="utf-8").read() for f in sorted(glob.glob("/usr/share/common-licenses/*")))
    words = collections.Counter(tuple(symbols[b] for b in w.encode("utf-8")) for w in PRE_TOKEN.findall(text))
    for _ in range(count):
        pairs = collections.Counter()
        for word, n in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += n
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        print(f"{best[0]} {best[1]}")
        merged = collections.Counter()
        for word, n in words.items():
            merged[merge_pair(word, best)] += n
        words = merged


if __name__ == "__main__":
    main()
