import { describe, expect, it } from 'vitest';
import { pageBlocks } from '#lib/core/page-policy.ts';

const APP_CSP = "default-src 'self'; connect-src 'self' https:; img-src 'self' data:";
const url = (address: string) => new URL(address);

describe('pageBlocks', () => {
  it('names mixed content: an https page calling an http server that is not this machine', () => {
    expect(pageBlocks(url('http://10.0.0.5:8787/health'), url('https://app.example/status'), [])).toBe('mixed-content');
    // Loopback is secure enough for the browser, even over http.
    expect(pageBlocks(url('http://127.0.0.1:8787/health'), url('https://app.example/status'), [])).toBeNull();
  });

  it("names the page's connect-src when an http page may call only its own server and https ones", () => {
    const page = url('http://10.0.0.5:4404/status');
    expect(pageBlocks(url('http://10.0.0.9:8787/health'), page, [APP_CSP])).toBe('connect-src');
    expect(pageBlocks(url('http://10.0.0.5:4404/health'), page, [APP_CSP])).toBeNull();
    expect(pageBlocks(url('https://edge.example/health'), page, [APP_CSP])).toBeNull();
  });

  it('reads default-src when connect-src is missing, and allows all without a policy', () => {
    const page = url('http://10.0.0.5/status');
    expect(pageBlocks(url('https://edge.example/'), page, ["default-src 'self'"])).toBe('connect-src');
    expect(pageBlocks(url('https://edge.example/'), page, ["img-src 'self'"])).toBeNull();
    expect(pageBlocks(url('http://10.0.0.9/'), page, [])).toBeNull();
  });

  it('matches host sources with wildcards, schemes and ports', () => {
    const page = url('https://app.example/');
    const policy = ['connect-src https://*.hf.co http://edge.lan:8787 https://api.example'];
    expect(pageBlocks(url('https://cdn.hf.co/x'), page, policy)).toBeNull();
    expect(pageBlocks(url('https://hf.co/x'), page, policy)).toBe('connect-src');
    expect(pageBlocks(url('https://edge.lan:8787/'), page, policy)).toBeNull();
    expect(pageBlocks(url('https://api.example:8443/'), page, policy)).toBe('connect-src');
    expect(pageBlocks(url('https://api.example/'), page, policy)).toBeNull();
  });
});
