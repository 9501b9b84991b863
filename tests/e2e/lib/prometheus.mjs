// A strict parser of the Prometheus text exposition format (version 0.0.4), as scraped from
// GET /metrics. It throws on anything a Prometheus server would reject or that breaks the
// format's rules: a malformed line, a sample before its family's TYPE, a duplicate series,
// a histogram whose buckets are not cumulative or whose +Inf bucket differs from _count.

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text, line) {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad sample value "${text}" in: ${line}`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at text[i] === '{'; returns [labels, index after '}']. */
function parseLabels(text, i, line) {
  const labels = {};
  i += 1;
  for (;;) {
    if (text[i] === '}') return [labels, i + 1];
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name "${name}" in: ${line}`);
    if (text[eq + 1] !== '"') throw new Error(`label value must be quoted in: ${line}`);
    let j = eq + 2;
    let value = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const c = text[++j];
        if (c === 'n') value += '\n';
        else if (c === '\\' || c === '"') value += c;
        else throw new Error(`bad escape \\${c} in: ${line}`);
      } else {
        value += text[j];
      }
    }
    if (j >= text.length) throw new Error(`unterminated label value in: ${line}`);
    if (name in labels) throw new Error(`label ${name} repeated in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i += 1;
    else if (text[i] !== '}') throw new Error(`expected , or } after a label in: ${line}`);
  }
}

function familyOf(name, families) {
  if (families.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (families.get(base)?.type === 'histogram' || families.get(base)?.type === 'summary') return base;
    }
  }
  return undefined;
}

const keyOf = (name, labels) =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;

/**
 * Returns { families: Map(name -> { type, help, samples: [{ name, labels, value }] }),
 *           value(name, labels = {}) -> number | undefined (exact label match),
 *           sum(name, filter = {}) -> sum of the samples whose labels include `filter` }.
 */
export function parsePrometheus(text) {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map();
  const series = new Map();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const fam = families.get(name) ?? { type: 'untyped', help: '', samples: [], typed: false };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`unknown type in: ${line}`);
        if (fam.typed) throw new Error(`second TYPE line for ${name}`);
        if (fam.samples.length) throw new Error(`TYPE of ${name} after its samples`);
        fam.type = rest;
        fam.typed = true;
      } else {
        fam.help = rest;
      }
      families.set(name, fam);
      continue;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`bad sample line: ${line}`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
    let labels = {};
    let i = nameEnd;
    if (line[i] === '{') [labels, i] = parseLabels(line, i, line);
    if (line[i] !== ' ') throw new Error(`expected a space before the value in: ${line}`);
    const [valueText, timestamp, extra] = line.slice(i + 1).split(' ');
    if (extra !== undefined || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) throw new Error(`bad sample line: ${line}`);
    const value = parseValue(valueText, line);
    const famName = familyOf(name, families);
    if (!famName || !families.get(famName).typed) throw new Error(`sample of ${name} without a TYPE line before it`);
    const key = keyOf(name, labels);
    if (series.has(key)) throw new Error(`duplicate series ${key}`);
    series.set(key, value);
    families.get(famName).samples.push({ name, labels, value });
  }
  // Histograms: per label set, cumulative buckets ending in +Inf == _count, and a _sum.
  for (const [name, fam] of families) {
    if (fam.type !== 'histogram') continue;
    const groups = new Map();
    for (const s of fam.samples) {
      const { le, ...rest } = s.labels;
      const g = keyOf('', rest);
      if (!groups.has(g)) groups.set(g, { buckets: [], sum: undefined, count: undefined });
      const grp = groups.get(g);
      if (s.name === `${name}_bucket`) {
        if (le === undefined) throw new Error(`${name}_bucket without le`);
        grp.buckets.push([parseValue(le, `le="${le}"`), s.value]);
      } else if (s.name === `${name}_sum`) grp.sum = s.value;
      else if (s.name === `${name}_count`) grp.count = s.value;
      else throw new Error(`unexpected sample ${s.name} in histogram ${name}`);
    }
    for (const [g, grp] of groups) {
      const b = grp.buckets;
      if (!b.length || b[b.length - 1][0] !== Infinity) throw new Error(`${name}${g}: no le="+Inf" bucket last`);
      for (let k = 1; k < b.length; k++) {
        if (!(b[k][0] > b[k - 1][0])) throw new Error(`${name}${g}: bucket bounds not increasing`);
        if (b[k][1] < b[k - 1][1]) throw new Error(`${name}${g}: bucket counts not cumulative`);
      }
      if (grp.count === undefined || grp.sum === undefined) throw new Error(`${name}${g}: _count or _sum missing`);
      if (grp.count !== b[b.length - 1][1]) throw new Error(`${name}${g}: _count ${grp.count} != +Inf bucket ${b[b.length - 1][1]}`);
    }
  }
  return {
    families,
    value(name, labels = {}) {
      return series.get(keyOf(name, labels));
    },
    sum(name, filter = {}) {
      const fam = families.get(familyOf(name, families) ?? name);
      if (!fam) return undefined;
      return fam.samples
        .filter((s) => s.name === name && Object.entries(filter).every(([k, v]) => s.labels[k] === v))
        .reduce((acc, s) => acc + s.value, 0);
    },
  };
}
