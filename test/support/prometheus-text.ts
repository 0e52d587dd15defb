/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written
 * against its grammar (prometheus.io/docs/instrumenting/exposition_formats),
 * for tests: it throws on anything a Prometheus server would reject, and on
 * the semantic rules as well (one TYPE and HELP per family, before its
 * samples; samples of a family together; no duplicate series; histograms with
 * ordered cumulative buckets ending at +Inf equal to _count).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Go's strconv.ParseFloat, decimal forms (the format's definition of a value): Inf, Infinity and NaN in any case, signed or not. */
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;

export class ExpositionError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

function parseFloatStrict(text: string, line: number): number {
  if (!FLOAT.test(text)) throw new ExpositionError(line, `"${text}" is not a float`);
  if (/nan$/i.test(text)) return NaN;
  if (/inf/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

/** Unescapes a HELP docstring: only `\\` and `\n` are escapes. */
function unescapeHelp(text: string, line: number): string {
  return text.replace(/\\(.)?/g, (_, c: string | undefined) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new ExpositionError(line, `bad escape \\${c ?? ''} in HELP`);
  });
}

/** Parses `name{label="value",...} value [timestamp]`. */
function parseSample(text: string, line: number): Sample {
  let i = 0;
  while (i < text.length && /[a-zA-Z0-9_:]/.test(text[i])) i++;
  const name = text.slice(0, i);
  if (!METRIC_NAME.test(name)) throw new ExpositionError(line, `bad metric name "${name}"`);
  const labels: Record<string, string> = {};
  if (text[i] === '{') {
    i++;
    for (;;) {
      if (text[i] === '}') {
        i++;
        break;
      }
      const start = i;
      while (i < text.length && /[a-zA-Z0-9_]/.test(text[i])) i++;
      const label = text.slice(start, i);
      if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new ExpositionError(line, `bad label name "${label}"`);
      if (label in labels) throw new ExpositionError(line, `label ${label} given twice`);
      if (text[i] !== '=' || text[i + 1] !== '"') throw new ExpositionError(line, `expected ="  after label ${label}`);
      i += 2;
      let value = '';
      for (;;) {
        const c = text[i];
        if (c === undefined) throw new ExpositionError(line, 'unterminated label value');
        if (c === '"') break;
        if (c === '\n') throw new ExpositionError(line, 'raw newline in a label value');
        if (c === '\\') {
          const e = text[i + 1];
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new ExpositionError(line, `bad escape \\${e ?? ''} in a label value`);
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      i++; // closing quote
      labels[label] = value;
      if (text[i] === ',') i++;
      else if (text[i] !== '}') throw new ExpositionError(line, `expected , or } after label ${label}`);
    }
  }
  const rest = text.slice(i);
  if (!/^[ \t]+/.test(rest)) throw new ExpositionError(line, 'expected blanks before the value');
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length < 1 || fields.length > 2) throw new ExpositionError(line, `expected a value and an optional timestamp, got "${rest.trim()}"`);
  const value = parseFloatStrict(fields[0], line);
  let timestamp: number | undefined;
  if (fields[1] !== undefined) {
    if (!/^-?\d+$/.test(fields[1])) throw new ExpositionError(line, `bad timestamp "${fields[1]}"`);
    timestamp = Number(fields[1]);
  }
  return { name, labels, value, timestamp };
}

/** The family a sample belongs to: histogram and summary samples carry suffixes. */
function familyOf(sample: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  for (const suffix of ['_bucket', '_sum', '_count', '']) {
    if (suffix && !sample.endsWith(suffix)) continue;
    const family = families.get(sample.slice(0, sample.length - suffix.length));
    if (!family) continue;
    if (suffix === '') return family;
    if (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket')) return family;
  }
  return undefined;
}

const seriesKey = (s: Sample) => `${s.name}{${Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;

function checkHistogram(family: MetricFamily): void {
  const groups = new Map<string, Sample[]>();
  for (const s of family.samples) {
    const { le: _le, quantile: _q, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    const sum = samples.find((s) => s.name === `${family.name}_sum`);
    if (!count || !sum) throw new Error(`histogram ${family.name}${key}: _sum or _count missing`);
    if (buckets.some((b) => b.labels.le === undefined)) throw new Error(`histogram ${family.name}${key}: a bucket without le`);
    const bounds = buckets.map((b) => parseFloatStrict(b.labels.le, 0));
    if (bounds[bounds.length - 1] !== Infinity) throw new Error(`histogram ${family.name}${key}: the last bucket is not le="+Inf"`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) throw new Error(`histogram ${family.name}${key}: bucket bounds not increasing`);
      if (buckets[i].value < buckets[i - 1].value) throw new Error(`histogram ${family.name}${key}: bucket counts not cumulative`);
    }
    if (buckets[buckets.length - 1].value !== count.value) throw new Error(`histogram ${family.name}${key}: +Inf bucket differs from _count`);
  }
}

/** Parses a whole exposition; throws {@link ExpositionError} (or Error, for family-level rules) when it is not valid. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (text.length && !text.endsWith('\n')) throw new ExpositionError(text.split('\n').length, 'the exposition must end with a newline');
  const families = new Map<string, MetricFamily>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: MetricFamily | undefined;
  const declare = (name: string, line: number): MetricFamily => {
    if (!METRIC_NAME.test(name)) throw new ExpositionError(line, `bad metric name "${name}"`);
    let family = families.get(name);
    if (!family) families.set(name, (family = { name, type: 'untyped', samples: [] }));
    if (family.samples.length) throw new ExpositionError(line, `HELP/TYPE of ${name} after its samples`);
    return family;
  };
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(raw);
      if (!m) return; // a plain comment
      const family = declare(m[2], line);
      if (m[1] === 'HELP') {
        if (family.help !== undefined) throw new ExpositionError(line, `second HELP for ${m[2]}`);
        family.help = unescapeHelp(m[3] ?? '', line);
      } else {
        if ((family as MetricFamily & { typed?: boolean }).typed) throw new ExpositionError(line, `second TYPE for ${m[2]}`);
        const type = (m[3] ?? '').trim() as MetricType;
        if (!TYPES.has(type)) throw new ExpositionError(line, `unknown type "${m[3]}"`);
        family.type = type;
        (family as MetricFamily & { typed?: boolean }).typed = true;
      }
      return;
    }
    const sample = parseSample(raw, line);
    let family = familyOf(sample.name, families);
    if (!family) {
      family = { name: sample.name, type: 'untyped', samples: [] };
      families.set(sample.name, family);
    }
    if (current !== family) {
      if (current) finished.add(current.name);
      if (finished.has(family.name)) throw new ExpositionError(line, `samples of ${family.name} are not together`);
      current = family;
    }
    if ((family.type === 'histogram' || family.type === 'summary') && sample.name === family.name && family.type === 'histogram') {
      throw new ExpositionError(line, `histogram ${family.name} has a sample without _bucket/_sum/_count`);
    }
    if (family.type === 'counter' && !(sample.value >= 0)) throw new ExpositionError(line, `counter ${sample.name} is ${sample.value}`);
    const key = seriesKey(sample);
    if (series.has(key)) throw new ExpositionError(line, `duplicate series ${key}`);
    series.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) {
    delete (family as MetricFamily & { typed?: boolean }).typed;
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

/** The value of one series, or undefined. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = familyOf(name, families);
  return family?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
