/**
 * Golden answers: before a gateway is timed, its answers to a workload's check requests are
 * compared with the first sanity-checked answers of the run. A gateway that answers differently
 * gets no figures: fast wrong answers are not a result.
 */
import { canonicalJson, firstDifference } from '../lib/golden.ts';
import { postJson } from '../lib/http.ts';
import type { Workload, WorkloadId } from '../workloads.ts';

/** The gateway being checked: where to send, with which headers, and its name for the source line. */
export interface GoldenTarget {
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface GoldenBook {
  /** @returns why the gateway's answers are not acceptable, or undefined when they match. */
  check(target: GoldenTarget, workload: Workload): Promise<string | undefined>;
  /** Size of the golden answer(s) of a workload, for the progress line. */
  size(workload: Workload): string;
  /** Where a workload's golden answers came from; undefined while it has none. */
  source(id: WorkloadId): string | undefined;
}

interface Golden {
  readonly source: string;
  readonly answers: readonly unknown[];
}

export function createGoldenBook(): GoldenBook {
  const golden = new Map<WorkloadId, Golden>();
  return {
    async check(target, workload) {
      const reference = golden.get(workload.id);
      const answers: unknown[] = [];
      for (const [i, body] of workload.checkBodies.entries()) {
        let res;
        try {
          res = await postJson(target.url, body, target.headers);
        } catch (err) {
          return `check request ${i + 1} failed: ${err instanceof Error ? err.message : String(err)}`;
        }
        if (res.status !== 200) return `check request ${i + 1}: HTTP ${res.status} ${res.text.slice(0, 200)}`;
        let parsed: { data?: unknown; errors?: unknown };
        try {
          parsed = JSON.parse(res.text) as typeof parsed;
        } catch {
          return `check request ${i + 1}: body is not JSON: ${res.text.slice(0, 200)}`;
        }
        if (parsed.errors !== undefined) return `check request ${i + 1}: GraphQL errors ${JSON.stringify(parsed.errors).slice(0, 300)}`;
        if (reference === undefined) {
          const problem = workload.sanity(parsed.data);
          if (problem !== undefined) return `check request ${i + 1}: answer fails the sanity check: ${problem}`;
          answers.push(JSON.parse(canonicalJson(parsed)));
        } else {
          const diff = firstDifference(reference.answers[i], JSON.parse(canonicalJson(parsed)));
          if (diff !== undefined) return `check request ${i + 1} differs from the golden answer (${reference.source}): ${diff}`;
        }
      }
      if (reference === undefined) golden.set(workload.id, { source: `first answer of ${target.name}, sanity-checked`, answers });
      return undefined;
    },
    size(workload) {
      const answers = golden.get(workload.id)?.answers ?? [];
      const kb = answers.reduce<number>((n, a) => n + JSON.stringify(a).length, 0) / 1024 / Math.max(1, answers.length);
      return `${answers.length} answer${answers.length === 1 ? '' : 's'}, ${kb.toFixed(1)} KB${answers.length > 1 ? ' on average' : ''}`;
    },
    source: (id) => golden.get(id)?.source,
  };
}
