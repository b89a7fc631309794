#!/usr/bin/python3
"""Writes the tokenizer parity test text: lines from NTREX-128 and Tatoeba in
ar bn fi ja ko ru te + English, then edge cases. One line per input line,
UTF-8, '\n' separated ('\r' inside lines is kept on purpose)."""
import os
import sys

data, out = sys.argv[1], sys.argv[2]
NTREX = ["eng", "arb", "ben", "fin", "jpn", "kor", "rus", "tel"]
TATOEBA = ["ara", "ben", "fin", "jpn", "kor", "rus", "tel"]
lines = []


def take(path, n):
    with open(path, "rb") as f:
        for i, raw in enumerate(f.read().split(b"\n")):
            if i >= n:
                break
            s = raw.decode("utf-8")
            if s and "\0" not in s:
                lines.append(s)


for lang in NTREX:
    name = "newstest2019-src.eng.txt" if lang == "eng" else "newstest2019-ref.%s.txt" % lang
    take(os.path.join(data, "ntrex-128", name), 600)
for lang in TATOEBA:
    take(os.path.join(data, "tatoeba", "tatoeba.%s-eng.%s" % (lang, lang)), 150)
    take(os.path.join(data, "tatoeba", "tatoeba.%s-eng.eng" % lang), 40)

edge = [
    "\ufeffHello with a BOM", "\ufeff", "\ufeff\ufeffdouble BOM",
    "zero\u200dwidth\u200cjoiners", "\u0915\u094d\u200d\u0937 \u0dc1\u0dca\u200d\u0dbb\u0dd3",
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u09b0\u09cd\u200d\u09af\u09be\u09ac",
    "e\u0301cole a\u0308\u0304 o\u0323\u0302 \u0928\u093f\u0903", "Cafe\u0301 na\u0131\u0308ve",
    "\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 \uff11\uff12\uff13",
    "\U0001F469\u200d\U0001F469\u200d\U0001F467 family \U0001F3F3\ufe0f\u200d\U0001F308 flag",
    "emoji \U0001F600\U0001F389\U0001F44D\U0001F3FD done", "\U0001F970\U0001FAE0 new emoji",
    "ctrl\x01\x02\x7f\x1bchars \x0b\x0c", "tab\there\tand\t\ttwo", "crlf line\r", "\r",
    "  leading and trailing  ", "many     spaces   between", "a" * 300,
    "supercalifragilisticexpialidocious" * 8,
    "\u0c38\u0c4d\u0c35\u0c3e\u0c24\u0c02\u0c24\u0c4d\u0c30\u0c4d\u0c2f\u0c38\u0c2e\u0c30\u0c2f\u0c4b\u0c27\u0c41\u0c32\u0c15\u0c41",
    "", "     ", "\t", " \t \t ", "\ufb01nance \u2460\u2461 \u2163 \u00bd", "\u0130stanbul I\u0307 \u0131",
    "stra\u00dfe \u1e9e \u03a9 \u212b \u212a", "\u1112\u1161\u11ab\u1100\u1173\u11af \ud55c\uad6d",
    "\u65e5\u672c\u8a9e\u3000\u5168\u89d2\u3000\u30b9\u30da\u30fc\u30b9 \uff8a\uff9d\uff76\uff78",
    "\u0661\u0662\u0663 \u09e7\u09e8 \u0c67\u0c68 12,345.67", "Hello [MASK] [CLS] <s> </s> <unk> <pad>",
    "\u00a0nbsp\u00a0here\u00a0", "line\u2028sep\u2029para", "\u3000", "\u200b\u200bzero width space",
    "\u0627\u0644\u0633\u0651\u064e\u0644\u0627\u0645\u064f \u0639\u064e\u0644\u064e\u064a\u0652\u0643\u064f\u0645\u0652",
    "\u0410\u0301\u0411\u0412 \u0439\u0438\u0306 \u0451\u0435\u0308", "\u00e9\u00e8\u00ea \u0152uvre \u00c6",
    "\U00020000\U0002A6D6 cjk ext", "\ue000 private use \U000F0000", "mixed\u0644\u063a\u0629text\u65e5\u672c",
    "\u2026\u2014\u201c\u201d\u2018\u2019 \u00ab\u00bb \u3001\u3002", "x" + "\u0301" * 20,
    "$100 + 50% = ~&^*(){}[]|\\/<>?!@#", "\u0928\u092e\u0938\u094d\u0924\u0947", "\u00ad soft\u00adhyphen",
]
lines.extend(edge)
with open(out, "wb") as f:
    for s in lines:
        assert "\n" not in s
        f.write(s.encode("utf-8") + b"\n")
print("%d lines" % len(lines), file=sys.stderr)
