/** The fault switch's pure logic: validation, merge rules and the errorRate spread. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FAULTS, FaultInputError, FaultSwitch, faultsFromEnv, parseFaultInput } from '../../subgraphs-mock/index.ts';

describe('parseFaultInput', () => {
  it('merges a partial input onto the defaults', () => {
    expect(parseFaultInput({ latencyMs: 80 })).toEqual({ ...DEFAULT_FAULTS, latencyMs: 80 });
    expect(parseFaultInput({})).toEqual(DEFAULT_FAULTS);
    expect(parseFaultInput({ cpuMs: 3 })).toEqual({ ...DEFAULT_FAULTS, cpuMs: 3 });
  });

  it('treats httpStatus without errorRate as "every request"', () => {
    expect(parseFaultInput({ httpStatus: 503 })).toMatchObject({ httpStatus: 503, errorRate: 1 });
    expect(parseFaultInput({ httpStatus: 503, errorRate: 0.25 })).toMatchObject({ errorRate: 0.25 });
    expect(parseFaultInput({ errorRate: 0.5 })).toMatchObject({ httpStatus: 500 });
  });

  it('names every problem at once', () => {
    try {
      parseFaultInput({ latencyMs: -5, cpuMs: 5_000, errorRate: 2, httpStatus: 200, mode: 'broken', latency: 1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FaultInputError);
      const problems = (err as FaultInputError).problems.join('\n');
      for (const word of ['latencyMs', 'cpuMs', 'errorRate', 'httpStatus', 'mode', '"latency"']) expect(problems).toContain(word);
    }
    expect(() => parseFaultInput([])).toThrow(FaultInputError);
    expect(() => parseFaultInput('x')).toThrow(FaultInputError);
  });
});

describe('FaultSwitch', () => {
  it('fails exactly errorRate of requests, evenly spread', () => {
    const sw = new FaultSwitch({ errorRate: 0.25, httpStatus: 500 });
    const failed = Array.from({ length: 8 }, () => {
      const a = sw.next();
      return a.kind === 'answer' && a.injectStatus !== undefined;
    });
    expect(failed).toEqual([false, false, false, true, false, false, false, true]);
  });

  it('keeps the current state when an update is invalid', () => {
    const sw = new FaultSwitch({ latencyMs: 10 });
    expect(() => sw.set({ mode: 'nope' as never })).toThrow(FaultInputError);
    expect(sw.get().latencyMs).toBe(10);
    expect(sw.reset()).toEqual(DEFAULT_FAULTS);
  });
});

describe('faultsFromEnv', () => {
  it('reads PORTICO_MOCK_<NAME>_FAULTS and names the variable on error', () => {
    expect(faultsFromEnv('pricing', { PORTICO_MOCK_PRICING_FAULTS: '{"latencyMs":80}' })).toMatchObject({ latencyMs: 80 });
    expect(faultsFromEnv('pricing', {})).toBeUndefined();
    expect(() => faultsFromEnv('review', { PORTICO_MOCK_REVIEW_FAULTS: '{oops' })).toThrow(/PORTICO_MOCK_REVIEW_FAULTS/);
    expect(() => faultsFromEnv('review', { PORTICO_MOCK_REVIEW_FAULTS: '{"mode":"x"}' })).toThrow(/PORTICO_MOCK_REVIEW_FAULTS: mode/);
  });
});
