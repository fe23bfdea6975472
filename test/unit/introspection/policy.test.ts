import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.ts';
import { createIntrospectionPolicy } from '../../../src/introspection/index.ts';

type Context = { readonly principal: Principal };

describe('createIntrospectionPolicy', () => {
  it('open to all: Apollo switch on, no plugin', () => {
    const policy = createIntrospectionPolicy<Context>({ open: true, scope: undefined });
    expect(policy.enabled).toBe(true);
    expect(policy.plugins).toHaveLength(0);
  });

  it('closed with a scope: Apollo switch on, the scope check narrows it per request', () => {
    const policy = createIntrospectionPolicy<Context>({ open: false, scope: 'graph:introspect' });
    expect(policy.enabled).toBe(true);
    expect(policy.plugins).toHaveLength(1);
  });

  it('closed without a scope: Apollo switch off, the plugin still refuses', () => {
    const policy = createIntrospectionPolicy<Context>({ open: false, scope: undefined });
    expect(policy.enabled).toBe(false);
    expect(policy.plugins).toHaveLength(1);
  });
});
