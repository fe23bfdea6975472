import { Counter, Histogram, type CounterConfiguration, type HistogramConfiguration, type LabelValues } from 'prom-client';

/**
 * Counters and histograms for the request path: the same metrics, names and exposition as
 * prom-client's, cheaper to update.
 *
 * Why: prom-client validates the label object and hashes it (label names sorted, values joined)
 * on every `inc`/`observe`, and a histogram finds and bumps its bucket through properties keyed
 * by the bucket's float bound, a number-to-string conversion per access. A product page makes
 * ~20 such updates (requests, cost, rate limit, four subgraph calls): ~2.5 % of its CPU in the
 * profiles (docs/benchmarks.md, issue 20). Here an update finds its series through a Map per
 * label, in label-name order, and adds to plain numbers; the first update of a series goes
 * through prom-client's own validation. The totals are handed to prom-client when the metric is
 * read (a scrape), so everything prom-client does from there on is unchanged.
 */

interface CounterSeries<T extends string> {
  readonly labels: LabelValues<T>;
  total: number;
  /** Part of `total` prom-client already has. */
  flushed: number;
}

interface HistogramSeries<T extends string> {
  readonly labels: LabelValues<T>;
  /** prom-client's entry for this series, once made (a reset drops both). */
  entry?: PromHistogramEntry;
  /** Observations per bucket (not cumulative), by index into the bounds; the last is +Inf only. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** Series by label values, one Map level per label name. */
class SeriesIndex<S> {
  readonly #root = new Map<unknown, unknown>();
  readonly all: S[] = [];

  constructor(private readonly names: readonly string[]) {}

  /** The series of `labels`; `create` makes a new one from the declared labels and the caller's object. */
  get(labels: Record<string, unknown> | undefined, create: (labels: Record<string, string | number>, given: Record<string, unknown>) => S): S {
    const names = this.names;
    let level = this.#root;
    const last = names.length - 1;
    if (last < 0) {
      let s = level.get('') as S | undefined;
      if (s === undefined) level.set('', (s = this.#add(create({}, labels ?? {}))));
      return s;
    }
    for (let i = 0; i < last; i++) {
      const v = keyOf(labels?.[names[i]!]);
      let next = level.get(v) as Map<unknown, unknown> | undefined;
      if (next === undefined) level.set(v, (next = new Map()));
      level = next;
    }
    const v = keyOf(labels?.[names[last]!]);
    let s = level.get(v) as S | undefined;
    if (s === undefined) {
      // A copy with only the declared names: what prom-client keeps for the series.
      const own: Record<string, string | number> = {};
      for (const name of names) {
        const value = labels?.[name];
        if (value !== undefined) own[name] = value as string | number;
      }
      level.set(v, (s = this.#add(create(own, labels ?? {}))));
    }
    return s;
  }

  clear(): void {
    this.#root.clear();
    this.all.length = 0;
  }

  #add(s: S): S {
    this.all.push(s);
    return s;
  }
}

/** prom-client keys a series by its labels as strings: `1` and `'1'` are one series here too. */
function keyOf(v: unknown): unknown {
  return typeof v === 'string' || v === undefined ? v : String(v);
}

function isLabels(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** A prom-client `Counter` whose `inc` adds to a plain number; prom-client gets the totals when read. */
export class FastCounter<T extends string = string> extends Counter<T> {
  readonly #series: SeriesIndex<CounterSeries<T>>;
  readonly #promInc: Counter<T>['inc'];
  /** Made once: a closure per update would be an allocation on the request path. */
  readonly #create = (own: Record<string, string | number>, given: Record<string, unknown>) => this.#newSeries(own as LabelValues<T>, given as LabelValues<T>);

  constructor(config: CounterConfiguration<T>) {
    super(config);
    this.#series = new SeriesIndex(config.labelNames ?? []);
    // prom-client sets `inc` on the instance in its constructor (there is none on the
    // prototype): kept for the first update of a series, refusals and flushing; ours replaces it.
    this.#promInc = this.inc.bind(this);
    this.inc = ((labels?: LabelValues<T> | number, value?: number): void => {
      if (!isLabels(labels)) {
        value = labels;
        labels = undefined;
      }
      const v = value ?? 1;
      if (!(v >= 0) || !Number.isFinite(v)) {
        // prom-client's own checks and messages, for what is refused.
        this.#promInc(labels ?? {}, v);
        return;
      }
      this.#series.get(labels, this.#create).total += v;
    }) as Counter<T>['inc'];
  }

  override async get(): ReturnType<Counter<T>['get']> {
    this.#flush();
    return super.get();
  }

  override reset(): void {
    // prom-client's constructor resets before this class's fields exist.
    if (#series in this) this.#series.clear();
    super.reset();
  }

  #newSeries(labels: LabelValues<T>, given: LabelValues<T>): CounterSeries<T> {
    // prom-client validates the caller's labels (an undeclared name throws) once per series, not
    // on every update: label names are typed (LabelValues<T>) at every call site.
    this.#promInc(given, 0);
    return { labels, total: 0, flushed: 0 };
  }

  #flush(): void {
    for (const s of this.#series.all) {
      if (s.total === s.flushed) continue;
      this.#promInc(s.labels, s.total - s.flushed);
      s.flushed = s.total;
    }
  }
}

/** The entry prom-client keeps per series of a histogram (`lib/histogram.js`, `createBaseValues`). */
interface PromHistogramEntry {
  labels: object;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/**
 * A prom-client `Histogram` whose `observe` adds to plain numbers; prom-client's entries are set
 * from them when read. prom-client has no public way to add counts in bulk, so this writes the
 * entry it keeps per series (`hashMap`, made by its public `zero`); test/unit/metrics/fast.test.ts
 * holds the exposition equal to a plain histogram's, so an upgrade that changes the entry fails it.
 */
export class FastHistogram<T extends string = string> extends Histogram<T> {
  readonly #series: SeriesIndex<HistogramSeries<T>>;
  readonly #bounds: Float64Array;
  /** The property names of the bounds in prom-client's entries (`String(bound)`). */
  readonly #boundKeys: readonly string[];
  readonly #name: string;
  /** As in FastCounter. */
  readonly #create = (own: Record<string, string | number>, given: Record<string, unknown>) => this.#newSeries(own as LabelValues<T>, given as LabelValues<T>);

  constructor(config: HistogramConfiguration<T>) {
    super(config);
    this.#name = config.name;
    const bounds = (this as unknown as { upperBounds: readonly number[] }).upperBounds;
    this.#bounds = Float64Array.from(bounds);
    this.#boundKeys = bounds.map(String);
    this.#series = new SeriesIndex(config.labelNames ?? []);
    // As for FastCounter: prom-client's `observe` lives on the instance; kept for refusals.
    const promObserve = this.observe.bind(this);
    this.observe = ((labels: LabelValues<T> | number, value?: number): void => {
      let v: number;
      if (isLabels(labels)) v = value as number;
      else {
        v = labels;
        labels = undefined as unknown as LabelValues<T>;
      }
      if (!Number.isFinite(v)) {
        promObserve((labels ?? {}) as LabelValues<T>, v);
        return;
      }
      const s = this.#series.get(labels as Record<string, unknown> | undefined, this.#create);
      const bounds = this.#bounds;
      let i = 0;
      while (i < bounds.length && v > bounds[i]!) i++;
      s.counts[i]! += 1;
      s.sum += v;
      s.count += 1;
    }) as Histogram<T>['observe'];
  }

  override async get(): ReturnType<Histogram<T>['get']> {
    this.#flush();
    return super.get();
  }

  /** What the registry reads for the text exposition. */
  async getForPromString(): ReturnType<Histogram<T>['get']> {
    this.#flush();
    return (Histogram.prototype as unknown as { getForPromString(this: Histogram<T>): ReturnType<Histogram<T>['get']> }).getForPromString.call(this);
  }

  override reset(): void {
    // prom-client's constructor resets before this class's fields exist.
    if (#series in this) this.#series.clear();
    super.reset();
  }

  /** Starts the series of `labels` over at 0 (shown from now on), as prom-client's `zero` does. */
  override zero(labels: LabelValues<T>): void {
    const s = this.#series.get(labels as Record<string, unknown>, this.#create);
    s.counts.fill(0);
    s.sum = 0;
    s.count = 0;
  }

  /** Not offered: the totals kept here would bring a removed series back at the next scrape. */
  override remove(): void {
    throw new Error(`${this.#name}: FastHistogram.remove() is not supported`);
  }

  /** A child whose updates take the fast path too (prom-client's would write its entry directly). */
  override labels(...args: [LabelValues<T>] | string[]): ReturnType<Histogram<T>['labels']> {
    const labels = args[0];
    if (!isLabels(labels)) throw new Error(`${this.#name}: FastHistogram.labels() takes a labels object`);
    return {
      observe: (value: number) => this.observe(labels as LabelValues<T>, value),
      startTimer: (more?: LabelValues<T>) => this.startTimer(Object.assign({}, labels, more)),
    } as ReturnType<Histogram<T>['labels']>;
  }

  #newSeries(labels: LabelValues<T>, given: LabelValues<T>): HistogramSeries<T> {
    // Validated once per series, as in FastCounter.
    Histogram.prototype.labels.call(this, given);
    return { labels, counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
  }

  #flush(): void {
    for (const s of this.#series.all) {
      const entry = (s.entry ??= this.#entryFor(s.labels));
      entry.sum = s.sum;
      entry.count = s.count;
      this.#boundKeys.forEach((key, i) => (entry.bucketValues[key] = s.counts[i]!));
    }
  }

  /** prom-client's entry for a series, made by its public `zero` and found by its labels object. */
  #entryFor(labels: LabelValues<T>): PromHistogramEntry {
    Histogram.prototype.zero.call(this, labels);
    const map = (this as unknown as { hashMap: Record<string, PromHistogramEntry> }).hashMap;
    for (const key in map) {
      if (map[key]!.labels === labels) return map[key]!;
    }
    throw new Error(`prom-client kept no entry for a series of ${this.#name}: has its Histogram changed?`);
  }
}
