// A strict JSON parser that keeps what JSON.parse loses and serde_json looks at: each number's
// lexeme (an integer field of a Rust struct refuses 1.0 and 1e3), the order of an object's
// keys and repeated keys (serde refuses a struct field given twice).
// parseJson(text) -> node: {t:'obj', entries:[[key, node]...]} | {t:'arr', items:[node...]} |
// {t:'str', v} | {t:'num', s: lexeme, v: Number} | {t:'bool', v} | {t:'null'}
export function parseJson(text) {
  let i = 0;
  const err = (m) => { throw new Error(`JSON byte ${i}: ${m}`); };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; const entries = []; ws();
      if (text[i] === '}') { i++; return { t: 'obj', entries }; }
      for (;;) {
        ws(); if (text[i] !== '"') err('expected a key');
        const k = str(); ws(); if (text[i++] !== ':') err('expected :');
        entries.push([k, value()]); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return { t: 'obj', entries }; }
        err('expected , or }');
      }
    }
    if (c === '[') {
      i++; const items = []; ws();
      if (text[i] === ']') { i++; return { t: 'arr', items }; }
      for (;;) {
        items.push(value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return { t: 'arr', items }; }
        err('expected , or ]');
      }
    }
    if (c === '"') return { t: 'str', v: str() };
    for (const [w, node] of [['true', { t: 'bool', v: true }], ['false', { t: 'bool', v: false }],
                             ['null', { t: 'null' }]]) {
      if (text.startsWith(w, i)) { i += w.length; return node; }
    }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 64));
    if (!m) err(`unexpected ${JSON.stringify(c ?? 'end of text')}`);
    i += m[0].length;
    return { t: 'num', s: m[0], v: Number(m[0]) };
  };
  const str = () => {
    const start = i; i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) err('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const v = value(); ws();
  if (i !== text.length) err('text after the value');
  return v;
}

// What a Rust integer type accepts: a lexeme without fraction or exponent, in [0, max].
export const isUnsigned = (n, max = 2n ** 64n - 1n) =>
  n?.t === 'num' && /^(0|[1-9][0-9]*)$/.test(n.s) && BigInt(n.s) <= max;

export const keysOf = (o) => o.entries.map(([k]) => k);
export const get = (o, k) => o.entries.find(([key]) => key === k)?.[1];
export const dupKeys = (o) => keysOf(o).filter((k, j, a) => a.indexOf(k) !== j);
